/**
 * The Vault side of a target that logs in with jwt, as observe, plan,
 * apply (target-setup.ts does the same for AppRole targets): the jwt mount
 * trusting the account's issuer, the target's policy, and one jwt role bound
 * to the target's audience, to the renew role's ARN as subject, and to the
 * request tag naming the target (a claim only the renewer can set for it),
 * with the workload's token settings. Secrets Manager gets the token secret
 * as `{}` (the renewer's next run logs in: only the renew role's tokens are
 * accepted, so the set-up cannot log in itself) and the lease secrets.
 */

import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import type { SecretState, SecretTag } from '../../functions/aws/secret-provisioning.js';
import type { RenewerConfig, TargetConfig } from '../../functions/config/types.js';
import type { VaultEndpoint } from '../../functions/core/vault-port.js';
import { TARGET_CLAIM } from '../../functions/core/web-identity-port.js';
import type { VaultAdminEndpoints } from '../../functions/vault/admin-endpoints.js';
import { VaultHttpError } from '../../functions/vault/errors.js';
import { BootstrapError } from './errors.js';
import { markPolicy, readOwnership } from './ownership.js';
import { loadPolicy, type RoleSettings } from './role-settings.js';
import { ROTATOR_POLICY_NAME } from './rotator-policy.js';
import { createLeaseSecrets, type SecretsSide, secretTags } from './secrets-side.js';
import {
  type Change,
  ChangeKind,
  restoreChanges,
  restoreSecrets,
  tagChanges,
  tagSecrets,
} from './target-setup.js';

export { TARGET_CLAIM } from '../../functions/core/web-identity-port.js';

/** What the jwt roles trust: the account's issuer, and the renew role as subject. */
export interface JwtTrust {
  readonly issuer: string;
  readonly renewRoleArn: string;
}

export interface JwtPlan {
  readonly name: string;
  readonly endpoint: VaultEndpoint;
  readonly tokenSecretId: string;
  readonly mount: string;
  readonly role: string;
  readonly audience: string;
  readonly leases: readonly { name: string; secretId: string; reissuePath: string }[];
}

export interface DesiredJwtTarget {
  readonly fleet: string;
  readonly plan: JwtPlan;
  readonly policyName: string;
  readonly policy: string;
  readonly role: Readonly<Record<string, unknown>>;
  readonly tags: ReadonlyMap<string, readonly SecretTag[]>;
}

export interface ObservedJwtTarget {
  readonly policy: string | undefined;
  readonly role: Readonly<Record<string, unknown>> | undefined;
  readonly secrets: ReadonlyMap<string, SecretState>;
}

/** The workload's token settings of the shared role settings file; the rest is AppRole's. */
const TOKEN_SETTINGS = [
  'token_type',
  'token_ttl',
  'token_max_ttl',
  'token_period',
  'token_explicit_max_ttl',
  'token_num_uses',
  'token_no_default_policy',
  'token_bound_cidrs',
] as const;

export function jwtPlanOf(target: TargetConfig): JwtPlan {
  if (target.jwt === undefined) throw new Error(`target ${target.name} does not log in with jwt`);
  return {
    name: target.name,
    endpoint: target.vault,
    tokenSecretId: target.tokenSecretId,
    mount: target.jwt.mount,
    role: target.jwt.role,
    audience: target.jwt.audience,
    leases: target.leases.map((l) => ({
      name: l.name,
      secretId: l.secretId,
      reissuePath: l.reissuePath,
    })),
  };
}

export function desiredJwtTarget(
  plan: JwtPlan,
  inputs: {
    readonly fleet: string;
    readonly settings: RoleSettings;
    readonly policyFile: string;
    readonly trust: JwtTrust;
    /** How IAM scopes the functions' access: the secrets are tagged for it. */
    readonly access: RenewerConfig['secretAccess'];
    /** The config's rotator may log in with jwt too: its tokens also carry the rotator policy. */
    readonly rotator?: boolean;
  },
): DesiredJwtTarget {
  const policyName = `vault-renewer-${plan.name}`;
  const token = Object.fromEntries(
    TOKEN_SETTINGS.flatMap((key) =>
      inputs.settings[key] === undefined ? [] : [[key, inputs.settings[key]]],
    ),
  );
  return {
    fleet: inputs.fleet,
    plan,
    policyName,
    policy: loadPolicy(
      inputs.policyFile,
      plan.leases.map((l) => l.reissuePath),
      undefined,
      {
        mount: plan.mount,
        role: plan.role,
      },
    ),
    role: {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: [plan.audience],
      bound_subject: inputs.trust.renewRoleArn,
      bound_claims_type: 'string',
      bound_claims: { [TARGET_CLAIM]: plan.name },
      ...token,
      token_policies: [policyName, ...(inputs.rotator === true ? [ROTATOR_POLICY_NAME] : [])],
    },
    tags: secretTags(plan, inputs.fleet, inputs.access),
  };
}

export async function observeJwtTarget(
  desired: DesiredJwtTarget,
  admin: VaultAdminEndpoints,
  secrets: SecretsSide,
): Promise<ObservedJwtTarget> {
  const { plan } = desired;
  const ids = [plan.tokenSecretId, ...plan.leases.map((l) => l.secretId)];
  const [policy, role, states] = await Promise.all([
    admin.readPolicy(desired.policyName),
    // A mount this run is to enable has no roles yet: Vault answers 404 "no handler for route".
    admin.readAppRole(plan.mount, plan.role).catch((error: unknown) => {
      if (error instanceof VaultHttpError && error.status === 404) return undefined;
      throw error;
    }),
    Promise.all(ids.map(async (id) => [id, await secrets.secrets.describe(id)] as const)),
  ]);
  return { policy, role, secrets: new Map(states) };
}

function policyToWrite(desired: DesiredJwtTarget, observed: ObservedJwtTarget): string {
  const { plan } = desired;
  const owner = readOwnership(observed.policy);
  return markPolicy(desired.policy, {
    fleet: desired.fleet,
    target: plan.name,
    mount: plan.mount,
    role: plan.role,
    roleCreated:
      observed.role === undefined ||
      (owner?.roleCreated === true && owner.mount === plan.mount && owner.role === plan.role),
    login: 'jwt',
  });
}

/** Vault answers what it was given in its own form: lists and maps compared as sets of values. */
function sameSetting(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    const list = Array.isArray(have) ? have : [];
    return want.length === list.length && want.every((item) => list.includes(item));
  }
  if (want !== null && typeof want === 'object') {
    return JSON.stringify(want) === JSON.stringify(have ?? {});
  }
  return want === have;
}

export function planJwtChanges(desired: DesiredJwtTarget, observed: ObservedJwtTarget): Change[] {
  const { plan } = desired;
  const changes: Change[] = [...restoreChanges(observed.secrets)];
  if (observed.policy === undefined) {
    changes.push({ kind: ChangeKind.Policy, verb: 'create', detail: desired.policyName });
  } else if (observed.policy !== policyToWrite(desired, observed)) {
    changes.push({ kind: ChangeKind.Policy, verb: 'update', detail: desired.policyName });
  }
  const base = `auth/${plan.mount}/role/${plan.role}`;
  if (observed.role === undefined) {
    changes.push({ kind: ChangeKind.Role, verb: 'create', detail: base });
  } else {
    const differences = Object.entries(desired.role)
      .filter(([key, want]) => !sameSetting(want, observed.role?.[key]))
      .map(([key]) => key);
    if (differences.length > 0) {
      changes.push({
        kind: ChangeKind.Role,
        verb: 'update',
        detail: `${base} (${differences.join(', ')})`,
      });
    }
  }
  for (const id of [plan.tokenSecretId, ...plan.leases.map((l) => l.secretId)]) {
    if (observed.secrets.get(id)?.exists !== true) {
      changes.push({ kind: ChangeKind.Secret, verb: 'create', detail: id, secretId: id });
    }
  }
  changes.push(...tagChanges(desired.tags, observed.secrets));
  return changes;
}

export async function applyJwtChanges(
  desired: DesiredJwtTarget,
  observed: ObservedJwtTarget,
  changes: readonly Change[],
  admin: VaultAdminEndpoints,
  side: SecretsSide,
  log: (line: string) => void,
): Promise<void> {
  const { plan } = desired;
  const of = (kind: ChangeKind) => changes.filter((c) => c.kind === kind);
  await restoreSecrets(changes, side, log);
  if (of(ChangeKind.Policy).length > 0) {
    await admin.writePolicy(desired.policyName, policyToWrite(desired, observed));
    log(`policy ${desired.policyName}: ${observed.policy === undefined ? 'created' : 'updated'}`);
  }
  if (of(ChangeKind.Role).length > 0) {
    await admin.writeAppRole(plan.mount, plan.role, desired.role);
    log(
      `role auth/${plan.mount}/role/${plan.role}: ${observed.role === undefined ? 'created' : 'updated'}`,
    );
  }
  const creates = new Set(of(ChangeKind.Secret).map((c) => c.secretId));
  if (creates.has(plan.tokenSecretId)) {
    await side.pace();
    await side.secrets.write({
      secretId: plan.tokenSecretId,
      value: '{}',
      exists: false,
      clientRequestToken: deterministicRequestToken('vault-setup', plan.tokenSecretId, 'empty'),
      target: plan.name,
      description: `vault-renewer: Vault token of ${plan.name} (jwt login), kept alive by the renewer`,
      tags: side.tagsFor(plan.tokenSecretId),
    });
    log(`secret ${plan.tokenSecretId}: created as {} (the renewer logs in on its next run)`);
  }
  if (plan.leases.some((l) => creates.has(l.secretId))) {
    await createLeaseSecrets(side);
  }
  await tagSecrets(changes, desired.tags, observed.secrets, side, log);
}

/**
 * The jwt mount trusts the account's issuer (`oidc_discovery_url`); enabled
 * with `enable` when missing. Answers what changed, for the log.
 */
export async function ensureJwtMount(
  admin: VaultAdminEndpoints,
  mount: string,
  trust: JwtTrust,
  options: { readonly enable: boolean; readonly apply: boolean },
): Promise<string | undefined> {
  const mounts = await admin.authMounts();
  const type = mounts[`${mount}/`];
  if (type !== undefined && type !== 'jwt') {
    throw new BootstrapError(`auth/${mount} is a ${type} auth method, not jwt`);
  }
  if (type === undefined) {
    if (!options.enable) {
      throw new BootstrapError(
        `no auth method is mounted at auth/${mount}: enable it (vault auth enable -path=${mount} jwt) or pass --enable-jwt`,
      );
    }
    if (!options.apply) return `auth/${mount}: jwt to enable, trusting ${trust.issuer}`;
    await admin.enableAuth(mount, 'jwt');
  }
  const config = await admin.readAuthConfig(mount);
  if (config?.oidc_discovery_url === trust.issuer) return undefined;
  if (!options.apply) return `auth/${mount}: to trust ${trust.issuer}`;
  await admin.writeAuthConfig(mount, { oidc_discovery_url: trust.issuer });
  return `auth/${mount}: trusts ${trust.issuer}`;
}
