/**
 * The bootstrap's steps in Vault, each checked against what is there already
 * so that a second run changes nothing: the AppRole mount, the target's policy
 * and role, its secret_id, and the token that may be stored. VAULT_TOKEN (the
 * administrator's) does the writing through the shared client's admin
 * endpoints (functions/vault/admin-endpoints.ts); it is never stored.
 */

import { MANAGED_BY_TAG } from '../../functions/aws/secret-provisioning.js';
import {
  isRootToken,
  livenessAfterDenial,
  type TokenLiveness,
} from '../../functions/core/lifetime.js';
import { type TokenInfo, VaultFailureKind } from '../../functions/core/vault-port.js';
import type { VaultAdminEndpoints } from '../../functions/vault/admin-endpoints.js';
import type { VaultClient } from '../../functions/vault/client.js';
import { VaultError, VaultHttpError } from '../../functions/vault/errors.js';
import { BootstrapError, messageOf, RefusedTokenError } from './errors.js';
import type { TargetPlan } from './target-plan.js';

/** A stored secret_id closer than this to its expiry is replaced. */
const SECRET_ID_RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

type Log = (line: string) => void;
type Login = Awaited<ReturnType<VaultClient['appRoleLogin']>>;

/** The target's AppRole role: its mount, its name, and its path for messages. */
export interface AppRoleRef {
  readonly mount: string;
  readonly name: string;
  /** `auth/<mount>/role/<name>` */
  readonly base: string;
}

/** Says so when VAULT_TOKEN is root, so the operator knows it was noticed and not kept. */
export async function noteAdminToken(vault: VaultAdminEndpoints, log: Log): Promise<void> {
  if ((await vault.ownPolicies()).includes('root')) {
    log('note: VAULT_TOKEN is a root token; it is used for setup only and never stored');
  }
}

export async function ensureApproleMount(
  vault: VaultAdminEndpoints,
  mount: string,
  enable: boolean,
  log: Log,
): Promise<void> {
  let mounts: Readonly<Record<string, string>>;
  try {
    mounts = await vault.authMounts();
  } catch (error) {
    if (error instanceof VaultHttpError && error.status === 403) {
      log('note: VAULT_TOKEN may not list auth methods (sys/auth); assuming the mount exists');
      return;
    }
    throw error;
  }
  const type = mounts[`${mount}/`];
  if (type !== undefined) {
    if (type !== 'approle') {
      throw new BootstrapError(`auth/${mount} is a ${type} auth method, not approle`);
    }
    return;
  }
  if (!enable) {
    throw new BootstrapError(
      `no auth method is mounted at auth/${mount}: enable it (vault auth enable -path=${mount} approle) or pass --enable-approle`,
    );
  }
  await vault.enableAuth(mount, 'approle');
  log(`auth/${mount}: AppRole enabled`);
}

/** Writes the policy every run (PUT is idempotent); reads it first only to say what changed. */
export async function writePolicy(
  vault: VaultAdminEndpoints,
  policyName: string,
  policy: string,
  log: Log,
): Promise<void> {
  const current = await vault.readPolicy(policyName);
  await vault.writePolicy(policyName, policy);
  log(
    `policy ${policyName}: ${current === undefined ? 'created' : current === policy ? 'unchanged' : 'updated'}`,
  );
}

export interface SecretIdState {
  readonly usable: boolean;
  /** The stored secret_id exists in Vault (so it can be destroyed on rotation). */
  readonly valid: boolean;
  readonly accessor: string;
  readonly reason: string;
}

export async function storedSecretIdState(
  vault: VaultAdminEndpoints,
  role: AppRoleRef,
  roleId: string,
  creds: Record<string, unknown> | undefined,
  nowMs: number,
): Promise<SecretIdState> {
  const none = (reason: string): SecretIdState => ({
    usable: false,
    valid: false,
    accessor: '',
    reason,
  });
  if (creds === undefined) return none('no AppRole credentials stored yet');
  if (creds.role_id !== roleId) return none('the stored role_id is not this role');
  if (typeof creds.secret_id !== 'string' || creds.secret_id === '') {
    return none('no secret_id stored');
  }
  const info = await vault.lookupSecretId(role.mount, role.name, creds.secret_id);
  if (info === undefined) return none('the stored secret_id is unknown to Vault');
  const { accessor, expirationTime: expiration, usesLeft } = info;
  if (expiration !== null && Date.parse(expiration) - nowMs < SECRET_ID_RENEW_BEFORE_MS) {
    return {
      usable: false,
      valid: true,
      accessor,
      reason: `the stored secret_id expires at ${expiration}`,
    };
  }
  if (usesLeft > 0 && usesLeft <= 2) {
    return {
      usable: false,
      valid: true,
      accessor,
      reason: `the stored secret_id has ${usesLeft} use(s) left`,
    };
  }
  return {
    usable: true,
    valid: true,
    accessor,
    reason: expiration === null ? 'no expiry' : `expires at ${expiration}`,
  };
}

export async function issueSecretId(
  vault: VaultAdminEndpoints,
  role: AppRoleRef,
  target: string,
): Promise<{ secretId: string; accessor: string }> {
  const issued = await vault.issueSecretId(role.mount, role.name, {
    managed_by: MANAGED_BY_TAG.Value,
    target,
  });
  if (issued.secretId === '') {
    throw new BootstrapError(`${role.base}/secret-id answered no secret_id`);
  }
  return issued;
}

/** Destroys a secret_id by its accessor. `which` names it in the log (accessors are not logged). */
export async function destroySecretId(
  vault: VaultAdminEndpoints,
  role: AppRoleRef,
  accessor: string,
  log: Log,
  which = 'the secret_id issued by this run',
): Promise<void> {
  if (accessor === '') return;
  try {
    await vault.destroySecretIdByAccessor(role.mount, role.name, accessor);
    log(`${which}: destroyed`);
  } catch (error) {
    log(`warning: could not destroy ${which}: ${messageOf(error)}`);
  }
}

export async function storedTokenHealth(
  vault: VaultClient,
  plan: TargetPlan,
  policyName: string,
  token: string,
): Promise<{ healthy: boolean; reason: string }> {
  let info: TokenInfo;
  try {
    info = await vault.lookupSelf(plan.endpoint, token);
  } catch (error) {
    const liveness = await livenessAfterRefusal(vault, plan, token, error);
    if (liveness === 'dead') return { healthy: false, reason: 'is invalid, expired or revoked' };
    if (liveness === 'alive') {
      // A live token whose policy lacks lookup-self: the renewer's runs need it.
      return {
        healthy: false,
        reason: 'may not look itself up (its policies lack auth/token/lookup-self)',
      };
    }
    throw new BootstrapError(`lookup-self of the stored token failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (isRootToken(info)) return { healthy: false, reason: 'is a ROOT token (replaced, revoke it)' };
  if (info.type !== 'service') return { healthy: false, reason: `is a ${info.type} token` };
  if (info.renewable !== true) return { healthy: false, reason: 'is not renewable' };
  if (!info.path.startsWith(`auth/${plan.mount}/login`)) {
    return { healthy: false, reason: `was not issued by auth/${plan.mount} (${info.path})` };
  }
  const roleOfToken = info.meta?.role_name;
  if (roleOfToken !== undefined && roleOfToken !== plan.roleName) {
    return { healthy: false, reason: `belongs to role ${roleOfToken}` };
  }
  if (!info.policies.includes(policyName)) {
    return { healthy: false, reason: `lacks the policy ${policyName}` };
  }
  return { healthy: true, reason: `ttl ${info.ttlSeconds} s, renewable` };
}

/**
 * What a refused lookup-self says of the stored token, by the one 403 rule
 * (core/lifetime.ts): `invalid token` is dead; a plain 403 is a dead token or
 * a live one whose policy lacks lookup-self, and capabilities-self tells
 * them apart. `unknown` for any other failure.
 */
async function livenessAfterRefusal(
  vault: VaultClient,
  plan: TargetPlan,
  token: string,
  error: unknown,
): Promise<TokenLiveness> {
  if (!(error instanceof VaultError)) return 'unknown';
  if (error.kind === VaultFailureKind.InvalidToken) return 'dead';
  if (error.kind !== VaultFailureKind.PermissionDenied) return 'unknown';
  try {
    await vault.capabilitiesSelf(plan.endpoint, token, ['auth/token/lookup-self']);
    return livenessAfterDenial(undefined);
  } catch (probe) {
    return probe instanceof VaultError ? livenessAfterDenial(probe.kind) : 'unknown';
  }
}

/**
 * Logs in once with the AppRole credentials and checks the token with
 * lookup-self ({@link assertStorableToken}). On failure a secret_id this run
 * issued (`issuedAccessor`) is destroyed again, so a failed run leaves none behind.
 */
export async function logInAndVerify(
  vault: VaultClient,
  admin: VaultAdminEndpoints,
  request: {
    readonly plan: TargetPlan;
    readonly role: AppRoleRef;
    readonly roleId: string;
    readonly secretId: string;
    readonly issuedAccessor: string | undefined;
    readonly adminToken: string;
    readonly policyName: string;
  },
  log: Log,
): Promise<{ login: Login; info: TokenInfo }> {
  const { plan, role, issuedAccessor } = request;
  const forgetIssued = async () => {
    if (issuedAccessor !== undefined) await destroySecretId(admin, role, issuedAccessor, log);
  };
  let login: Login;
  try {
    login = await vault.appRoleLogin(plan.endpoint, plan.mount, {
      roleId: request.roleId,
      secretId: request.secretId,
    });
  } catch (error) {
    await forgetIssued();
    throw new BootstrapError(`AppRole login failed: ${messageOf(error)}`, { cause: error });
  }
  let info: TokenInfo;
  try {
    info = await vault.lookupSelf(plan.endpoint, login.token);
    assertStorableToken(info, login, {
      adminToken: request.adminToken,
      mount: plan.mount,
      policyName: request.policyName,
    });
  } catch (error) {
    await forgetIssued();
    if (error instanceof BootstrapError) throw error;
    throw new RefusedTokenError(`lookup-self of the new token failed: ${messageOf(error)}`);
  }
  return { login, info };
}

/**
 * The token about to be stored must be the AppRole login's own: renewable,
 * a service token, not root, not the administrator's, with the target's policy.
 */
export function assertStorableToken(
  info: TokenInfo,
  login: { readonly token: string; readonly accessor: string },
  expected: { readonly adminToken: string; readonly mount: string; readonly policyName: string },
): void {
  if (isRootToken(info)) {
    throw new RefusedTokenError(
      'it is a ROOT token (root policy); root tokens are never renewable and must not be handed to a workload',
    );
  }
  if (login.token === expected.adminToken) {
    throw new RefusedTokenError('it is VAULT_TOKEN, the administrator token, not a login token');
  }
  if (info.accessor !== login.accessor) {
    throw new RefusedTokenError('lookup-self describes another token than the login returned');
  }
  if (!info.path.startsWith(`auth/${expected.mount}/login`)) {
    throw new RefusedTokenError(
      `it was not issued by the AppRole login at auth/${expected.mount} (path ${info.path})`,
    );
  }
  if (info.type !== 'service') {
    throw new RefusedTokenError(`it is a ${info.type} token; only service tokens can be renewed`);
  }
  if (info.renewable !== true) {
    throw new RefusedTokenError('it is not renewable');
  }
  if (!info.policies.includes(expected.policyName)) {
    throw new RefusedTokenError(`it lacks the policy ${expected.policyName}`);
  }
}
