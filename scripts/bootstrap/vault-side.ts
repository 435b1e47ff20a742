/**
 * The bootstrap's steps in Vault, each checked against what is there already
 * so that a second run changes nothing: the AppRole mount, the target's policy
 * and role, its secret_id, and the token that may be stored. VAULT_TOKEN (the
 * administrator's) does the writing through `admin`; it is never stored.
 */

import { isRootToken } from '../../functions/core/lifetime.js';
import type { TokenInfo } from '../../functions/core/vault-port.js';
import type { VaultAdmin } from '../../functions/vault/admin.js';
import type { VaultClient } from '../../functions/vault/client.js';
import { VaultError, VaultHttpError } from '../../functions/vault/errors.js';
import { BootstrapError, messageOf, RefusedTokenError } from './errors.js';
import type { RoleSettings } from './role-settings.js';
import type { TargetPlan } from './target-plan.js';

/** Vault's way of saying "never" in secret_id lookups. */
const NO_EXPIRY = '0001-01-01T00:00:00Z';
/** A stored secret_id closer than this to its expiry is replaced. */
const SECRET_ID_RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

type Log = (line: string) => void;
type Login = Awaited<ReturnType<VaultClient['appRoleLogin']>>;

function dataOf(answer: Record<string, unknown> | undefined): Record<string, unknown> {
  const data = answer?.data;
  return data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
}

/** Says so when VAULT_TOKEN is root, so the operator knows it was noticed and not kept. */
export async function noteAdminToken(admin: VaultAdmin, log: Log): Promise<void> {
  const adminInfo = dataOf(await admin.call('GET', 'auth/token/lookup-self'));
  if (Array.isArray(adminInfo.policies) && adminInfo.policies.includes('root')) {
    log('note: VAULT_TOKEN is a root token; it is used for setup only and never stored');
  }
}

export async function ensureApproleMount(
  admin: VaultAdmin,
  mount: string,
  enable: boolean,
  log: Log,
): Promise<void> {
  let mounts: Record<string, unknown>;
  try {
    mounts = dataOf(await admin.call('GET', 'sys/auth'));
  } catch (error) {
    if (error instanceof VaultHttpError && error.status === 403) {
      log('note: VAULT_TOKEN may not list auth methods (sys/auth); assuming the mount exists');
      return;
    }
    throw error;
  }
  const entry = mounts[`${mount}/`] as { type?: unknown } | undefined;
  if (entry !== undefined) {
    if (entry.type !== 'approle') {
      throw new BootstrapError(`auth/${mount} is a ${String(entry.type)} auth method, not approle`);
    }
    return;
  }
  if (!enable) {
    throw new BootstrapError(
      `no auth method is mounted at auth/${mount}: enable it (vault auth enable -path=${mount} approle) or pass --enable-approle`,
    );
  }
  await admin.call('POST', `sys/auth/${mount}`, { type: 'approle' });
  log(`auth/${mount}: AppRole enabled`);
}

/** Writes the policy every run (PUT is idempotent); reads it first only to say what changed. */
export async function writePolicy(
  admin: VaultAdmin,
  policyName: string,
  policy: string,
  log: Log,
): Promise<void> {
  const current = dataOf(
    await admin.call('GET', `sys/policies/acl/${policyName}`, undefined, { missingOk: true }),
  ).policy;
  await admin.call('PUT', `sys/policies/acl/${policyName}`, { policy });
  log(
    `policy ${policyName}: ${current === undefined ? 'created' : current === policy ? 'unchanged' : 'updated'}`,
  );
}

/**
 * Our settings, and our policies added to the ones the role has (another
 * team's policies on a shared role stay). Answers the role_id.
 */
export async function writeRole(
  admin: VaultAdmin,
  roleBase: string,
  settings: RoleSettings,
  policiesToAdd: readonly string[],
  log: Log,
): Promise<string> {
  const existingRole = await admin.call('GET', roleBase, undefined, { missingOk: true });
  const existingPolicies = stringList(dataOf(existingRole).token_policies);
  if (existingPolicies.includes('root')) {
    throw new BootstrapError(
      `role ${roleBase} lists the root policy in token_policies: remove it first (vault write ${roleBase} token_policies=...)`,
    );
  }
  const tokenPolicies = [...new Set([...existingPolicies, ...policiesToAdd])];
  await admin.call('POST', roleBase, { ...settings, token_policies: tokenPolicies });
  log(
    `role ${roleBase}: ${existingRole === undefined ? 'created' : 'updated'} (token_policies ${tokenPolicies.join(', ')})`,
  );
  const roleId = String(dataOf(await admin.call('GET', `${roleBase}/role-id`)).role_id ?? '');
  if (roleId === '') throw new BootstrapError(`${roleBase}/role-id answered no role_id`);
  return roleId;
}

export interface SecretIdState {
  readonly usable: boolean;
  /** The stored secret_id exists in Vault (so it can be destroyed on rotation). */
  readonly valid: boolean;
  readonly accessor: string;
  readonly reason: string;
}

export async function storedSecretIdState(
  admin: VaultAdmin,
  roleBase: string,
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
  // Answers 204 when Vault does not know the secret_id (expired, used up, destroyed).
  const data = dataOf(
    await admin.call(
      'POST',
      `${roleBase}/secret-id/lookup`,
      { secret_id: creds.secret_id },
      { secrets: [creds.secret_id] },
    ),
  );
  if (Object.keys(data).length === 0) return none('the stored secret_id is unknown to Vault');
  const accessor = String(data.secret_id_accessor ?? '');
  const expiration = String(data.expiration_time ?? NO_EXPIRY);
  if (expiration !== NO_EXPIRY && Date.parse(expiration) - nowMs < SECRET_ID_RENEW_BEFORE_MS) {
    return {
      usable: false,
      valid: true,
      accessor,
      reason: `the stored secret_id expires at ${expiration}`,
    };
  }
  const usesLeft = Number(data.secret_id_num_uses ?? 0);
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
    reason: expiration === NO_EXPIRY ? 'no expiry' : `expires at ${expiration}`,
  };
}

export async function issueSecretId(
  admin: VaultAdmin,
  roleBase: string,
  target: string,
): Promise<{ secretId: string; accessor: string }> {
  const issued = dataOf(
    await admin.call(
      'POST',
      `${roleBase}/secret-id`,
      { metadata: JSON.stringify({ managed_by: 'vault-renewer', target }) },
      // Each attempt Vault acts on creates a secret_id: never sent twice.
      { spends: true },
    ),
  );
  const secretId = String(issued.secret_id ?? '');
  const accessor = String(issued.secret_id_accessor ?? '');
  if (secretId === '') throw new BootstrapError(`${roleBase}/secret-id answered no secret_id`);
  return { secretId, accessor };
}

/** Destroys a secret_id by its accessor. `which` names it in the log (accessors are not logged). */
export async function destroySecretId(
  admin: VaultAdmin,
  roleBase: string,
  accessor: string,
  log: Log,
  which = 'the secret_id issued by this run',
): Promise<void> {
  if (accessor === '') return;
  try {
    await admin.call('POST', `${roleBase}/secret-id-accessor/destroy`, {
      secret_id_accessor: accessor,
    });
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
    if (
      error instanceof VaultError &&
      (error.kind === 'invalid-token' || error.kind === 'permission-denied')
    ) {
      return { healthy: false, reason: 'is invalid, expired or revoked' };
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
 * Logs in once with the AppRole credentials and checks the token with
 * lookup-self ({@link assertStorableToken}). On failure a secret_id this run
 * issued (`issuedAccessor`) is destroyed again, so a failed run leaves none behind.
 */
export async function logInAndVerify(
  vault: VaultClient,
  admin: VaultAdmin,
  request: {
    readonly plan: TargetPlan;
    readonly roleBase: string;
    readonly roleId: string;
    readonly secretId: string;
    readonly issuedAccessor: string | undefined;
    readonly adminToken: string;
    readonly policyName: string;
  },
  log: Log,
): Promise<{ login: Login; info: TokenInfo }> {
  const { plan, roleBase, issuedAccessor } = request;
  const forgetIssued = async () => {
    if (issuedAccessor !== undefined) await destroySecretId(admin, roleBase, issuedAccessor, log);
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

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
