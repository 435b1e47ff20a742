/**
 * One target's set-up as observe, plan, apply: what is there on both sides
 * (policy, role, secret_id, token, secrets, their tags and rotation), what
 * differs from what the config asks for, and the changes that close the gap.
 * `npm run vault:bootstrap` runs it for one target with every step logged;
 * `npm run vault:setup` runs it for the fleet, plans first, and applies paced.
 *
 * An unchanged target plans no change and applies none: a second run writes
 * no policy, no role, no secret_id and no secret version. The steps keep the
 * order that leaves a half-finished run harmless: Vault first, then a
 * verified login, then the credentials before the token in Secrets Manager.
 */

import type { SecretState, SecretTag } from '../../functions/aws/secret-provisioning.js';
import type { RotationRules } from '../../functions/config/types.js';
import type { VaultAdminEndpoints } from '../../functions/vault/admin-endpoints.js';
import type { VaultClient } from '../../functions/vault/client.js';
import { decideSetting, SettingAction } from '../rotation/settings-plan.js';
import { BootstrapError } from './errors.js';
import { markPolicy, readOwnership } from './ownership.js';
import type { RoleSettings } from './role-settings.js';
import {
  createLeaseSecrets,
  readDocument,
  type SecretsSide,
  type StoredDocument,
  storeCredentials,
  storeToken,
} from './secrets-side.js';
import type { TargetPlan } from './target-plan.js';
import {
  type AppRoleRef,
  destroySecretId,
  issueSecretId,
  logInAndVerify,
  type SecretIdState,
  storedSecretIdState,
  storedTokenHealth,
} from './vault-side.js';

/** What the config asks for one target. */
export interface DesiredTarget {
  /** The set-up this target belongs to (ownership.ts). */
  readonly fleet: string;
  readonly plan: TargetPlan;
  readonly policyName: string;
  /** The composed workload policy, before the ownership header. */
  readonly policy: string;
  readonly settings: RoleSettings;
  /** Policies the role's tokens must carry (ours first); others on the role stay. */
  readonly tokenPolicies: readonly string[];
  /** Tags each secret must carry (the access tags), by secret id. */
  readonly tags: ReadonlyMap<string, readonly SecretTag[]>;
  /** Rotation the config asks for, by secret id; checked only with a rotate function ARN. */
  readonly rotations: ReadonlyMap<string, RotationRules | undefined>;
}

export interface SetupChoices {
  readonly rotateSecretId: boolean;
  readonly relogin: boolean;
  /** The rotate function: with it, rotation settings are planned and applied too. */
  readonly functionArn?: string;
}

/** Where the set-up reads and writes: Vault as administrator and as the workload, and AWS. */
export interface SetupSides {
  readonly admin: VaultAdminEndpoints;
  readonly vault: VaultClient;
  readonly adminToken: string;
  readonly secrets: SecretsSide;
  readonly now: () => number;
}

/** What is there now. Holds secrets (the stored documents): never print it. */
export interface ObservedTarget {
  readonly policy: string | undefined;
  readonly role: Readonly<Record<string, unknown>> | undefined;
  readonly roleId: string | undefined;
  readonly secrets: ReadonlyMap<string, SecretState>;
  readonly approle: StoredDocument;
  readonly token: StoredDocument;
  readonly secretId: SecretIdState;
  readonly tokenHealth: { readonly healthy: boolean; readonly reason: string };
}

export const ChangeKind = {
  Restore: 'restore',
  Policy: 'policy',
  Role: 'role',
  SecretId: 'secret_id',
  Token: 'token',
  Secret: 'secret',
  Tags: 'tags',
  Rotation: 'rotation',
} as const;
export type ChangeKind = (typeof ChangeKind)[keyof typeof ChangeKind];

/** One change the apply makes; `detail` names what differs, never a value. */
export interface Change {
  readonly kind: ChangeKind;
  /** `create`, `update`, `issue`, `login`, `tag`, `restore`, `apply`. */
  readonly verb: string;
  readonly detail: string;
  /** The secret it changes (restore, secret, tags, rotation). */
  readonly secretId?: string;
}

export function roleRef(plan: TargetPlan): AppRoleRef {
  return {
    mount: plan.mount,
    name: plan.roleName,
    base: `auth/${plan.mount}/role/${plan.roleName}`,
  };
}

function secretIds(plan: TargetPlan): string[] {
  return [
    ...new Set([plan.approleSecretId, plan.tokenSecretId, ...plan.leases.map((l) => l.secretId)]),
  ];
}

export async function observeTarget(
  desired: DesiredTarget,
  sides: SetupSides,
): Promise<ObservedTarget> {
  const { plan } = desired;
  const role = roleRef(plan);
  const [policy, roleSettings, states] = await Promise.all([
    sides.admin.readPolicy(desired.policyName),
    sides.admin.readAppRole(role.mount, role.name),
    Promise.all(
      secretIds(plan).map(async (id) => [id, await sides.secrets.secrets.describe(id)] as const),
    ),
  ]);
  const secrets = new Map(states);
  const readable = (id: string) => secrets.get(id)?.exists === true && !secrets.get(id)?.deleted;
  const absent: StoredDocument = { secret: { exists: false }, document: undefined };
  const [roleId, approle, token] = await Promise.all([
    roleSettings === undefined ? undefined : sides.admin.roleId(role.mount, role.name),
    readable(plan.approleSecretId) ? readDocument(sides.secrets, plan.approleSecretId) : absent,
    readable(plan.tokenSecretId) ? readDocument(sides.secrets, plan.tokenSecretId) : absent,
  ]);
  const secretId =
    roleId === undefined
      ? { usable: false, valid: false, accessor: '', reason: 'the role does not exist yet' }
      : await storedSecretIdState(sides.admin, role, roleId, approle.document, sides.now());
  const storedToken = typeof token.document?.token === 'string' ? token.document.token : undefined;
  const tokenHealth =
    storedToken === undefined
      ? { healthy: false, reason: 'no token stored yet' }
      : await storedTokenHealth(sides.vault, plan, desired.policyName, storedToken);
  return {
    policy,
    role: roleSettings,
    roleId,
    secrets,
    approle,
    token,
    secretId,
    tokenHealth,
  };
}

/** The policy text as written: the ownership header keeps saying who created the role. */
export function policyToWrite(desired: DesiredTarget, observed: ObservedTarget): string {
  const { plan } = desired;
  const owner = readOwnership(observed.policy);
  const roleCreated =
    observed.role === undefined ||
    (owner?.roleCreated === true && owner.mount === plan.mount && owner.role === plan.roleName);
  return markPolicy(desired.policy, {
    fleet: desired.fleet,
    target: plan.name,
    mount: plan.mount,
    role: plan.roleName,
    roleCreated,
  });
}

/** Vault answers an empty list as `null` or `[]`, and some settings in their own form. */
function sameSetting(want: unknown, have: unknown): boolean {
  if (Array.isArray(want)) {
    const list = Array.isArray(have) ? have : [];
    return want.length === list.length && want.every((item, i) => item === list[i]);
  }
  return want === have;
}

function roleDifferences(
  desired: DesiredTarget,
  role: Readonly<Record<string, unknown>>,
): string[] {
  const differences = Object.entries(desired.settings)
    .filter(([key, want]) => !sameSetting(want, role[key]))
    .map(([key, want]) => `${key} ${JSON.stringify(role[key] ?? null)} -> ${JSON.stringify(want)}`);
  const has = Array.isArray(role.token_policies) ? role.token_policies : [];
  const missing = desired.tokenPolicies.filter((p) => !has.includes(p));
  if (missing.length > 0) differences.push(`token_policies + ${missing.join(', ')}`);
  return differences;
}

export function planChanges(
  desired: DesiredTarget,
  observed: ObservedTarget,
  choices: SetupChoices,
): Change[] {
  const { plan } = desired;
  const changes: Change[] = [...restoreChanges(observed.secrets)];
  if (observed.policy === undefined) {
    changes.push({ kind: ChangeKind.Policy, verb: 'create', detail: desired.policyName });
  } else if (observed.policy !== policyToWrite(desired, observed)) {
    changes.push({ kind: ChangeKind.Policy, verb: 'update', detail: desired.policyName });
  }
  const role = roleRef(plan);
  if (observed.role === undefined) {
    changes.push({ kind: ChangeKind.Role, verb: 'create', detail: role.base });
  } else {
    if (
      Array.isArray(observed.role.token_policies) &&
      observed.role.token_policies.includes('root')
    ) {
      throw new BootstrapError(
        `role ${role.base} lists the root policy in token_policies: remove it first (vault write ${role.base} token_policies=...)`,
      );
    }
    const differences = roleDifferences(desired, observed.role);
    if (differences.length > 0) {
      changes.push({
        kind: ChangeKind.Role,
        verb: 'update',
        detail: `${role.base} (${differences.join('; ')})`,
      });
    }
  }
  const issue = choices.rotateSecretId || !observed.secretId.usable;
  if (issue) {
    changes.push({
      kind: ChangeKind.SecretId,
      verb: 'issue',
      detail: choices.rotateSecretId ? 'rotation asked' : observed.secretId.reason,
    });
  }
  // A role update that adds a policy leaves the stored token without it: its health says so.
  if (issue || choices.relogin || !observed.tokenHealth.healthy) {
    changes.push({
      kind: ChangeKind.Token,
      verb: 'login',
      detail: choices.relogin
        ? 'relogin asked'
        : issue
          ? 'a new secret_id'
          : `the stored token ${observed.tokenHealth.reason}`,
    });
  }
  for (const lease of plan.leases) {
    if (observed.secrets.get(lease.secretId)?.exists !== true) {
      changes.push({
        kind: ChangeKind.Secret,
        verb: 'create',
        detail: lease.secretId,
        secretId: lease.secretId,
      });
    }
  }
  changes.push(...tagChanges(desired.tags, observed.secrets));
  if (choices.functionArn !== undefined) {
    for (const [id, rules] of desired.rotations) {
      const state = observed.secrets.get(id);
      const decision = decideSetting(
        { secretId: id, target: plan.name, kind: 'token', rules },
        state ?? { rotationEnabled: false },
        choices.functionArn,
      );
      if (decision.action === SettingAction.Apply) {
        changes.push({
          kind: ChangeKind.Rotation,
          verb: 'apply',
          detail: `${id}${decision.differences.length === 0 ? '' : ` (${decision.differences.join('; ')})`}`,
          secretId: id,
        });
      }
    }
  }
  return changes;
}

/**
 * Makes the planned changes, in the order that keeps a half-finished run
 * harmless. Each Secrets Manager write (create, put, tag, restore,
 * rotation) waits for its turn (`SecretsSide.pace`): they share one budget.
 */
export async function applyChanges(
  desired: DesiredTarget,
  observed: ObservedTarget,
  changes: readonly Change[],
  sides: SetupSides,
  choices: SetupChoices,
  log: (line: string) => void,
): Promise<void> {
  const { plan } = desired;
  const role = roleRef(plan);
  const has = (kind: ChangeKind) => changes.some((c) => c.kind === kind);
  const side = sides.secrets;

  const secretsOf = (kind: ChangeKind) => secretsOfKind(changes, kind);

  await restoreSecrets(changes, side, log);
  if (has(ChangeKind.Policy)) {
    await sides.admin.writePolicy(desired.policyName, policyToWrite(desired, observed));
    log(`policy ${desired.policyName}: ${observed.policy === undefined ? 'created' : 'updated'}`);
  } else {
    log(`policy ${desired.policyName}: unchanged`);
  }
  let roleId = observed.roleId;
  if (has(ChangeKind.Role)) {
    const existing = Array.isArray(observed.role?.token_policies)
      ? (observed.role.token_policies as string[])
      : [];
    const tokenPolicies = [...new Set([...existing, ...desired.tokenPolicies])];
    await sides.admin.writeAppRole(role.mount, role.name, {
      ...desired.settings,
      token_policies: tokenPolicies,
    });
    log(
      `role ${role.base}: ${observed.role === undefined ? 'created' : 'updated'} (token_policies ${tokenPolicies.join(', ')})`,
    );
    roleId = await sides.admin.roleId(role.mount, role.name);
  } else {
    log(`role ${role.base}: unchanged`);
  }
  if (roleId === undefined || roleId === '') {
    throw new BootstrapError(`${role.base}/role-id answered no role_id`);
  }

  let secretId = String(observed.approle.document?.secret_id ?? '');
  let accessor = observed.secretId.accessor;
  const issued = has(ChangeKind.SecretId);
  if (issued) {
    ({ secretId, accessor } = await issueSecretId(sides.admin, role, plan.name));
    log(
      `secret_id: issued a new one (${choices.rotateSecretId ? 'rotation asked' : observed.secretId.reason})`,
    );
  } else {
    log(`secret_id: the stored one is valid (${observed.secretId.reason}), kept`);
  }
  if (has(ChangeKind.Token)) {
    const { login, info } = await logInAndVerify(
      sides.vault,
      sides.admin,
      {
        plan,
        role,
        roleId,
        secretId,
        issuedAccessor: issued ? accessor : undefined,
        adminToken: sides.adminToken,
        policyName: desired.policyName,
      },
      log,
    );
    log(
      `login: ${observed.token.document === undefined ? '' : `stored token ${observed.tokenHealth.reason}; `}new token with ttl ${info.ttlSeconds} s, policies ${info.policies.join(', ')}`,
    );
    // Credentials first: a token without the credentials to replace it is the worse half.
    if (issued || observed.approle.secret.text === undefined) {
      await storeCredentials(side, plan, observed.approle, {
        roleBase: role.base,
        roleId,
        secretId,
        secretIdAccessor: accessor,
      });
    }
    await storeToken(side, observed.token, login.token, info, sides.now());
    if (issued && observed.secretId.valid && observed.secretId.accessor !== '') {
      await destroySecretId(
        sides.admin,
        role,
        observed.secretId.accessor,
        log,
        'the replaced secret_id',
      );
    }
  } else {
    log(`token: the stored one is healthy (${observed.tokenHealth.reason}), kept`);
  }
  if (has(ChangeKind.Secret)) await createLeaseSecrets(side);
  await tagSecrets(changes, desired.tags, observed.secrets, side, log);
  for (const id of secretsOf(ChangeKind.Rotation)) {
    const rules = desired.rotations.get(id);
    if (rules === undefined || choices.functionArn === undefined) continue;
    await side.pace();
    await side.secrets.rotate(id, choices.functionArn, rules);
    log(`secret ${id}: rotation applied`);
  }
}

/** Secrets scheduled for deletion that the target still names: restored first. */
export function restoreChanges(secrets: ReadonlyMap<string, SecretState>): Change[] {
  return [...secrets]
    .filter(([, state]) => state.deleted)
    .map(([id]) => ({
      kind: ChangeKind.Restore,
      verb: 'restore',
      detail: `${id} (scheduled for deletion)`,
      secretId: id,
    }));
}

/** Tags an existing secret lacks; a secret this run creates gets its tags with it. */
export function tagChanges(
  wanted: ReadonlyMap<string, readonly SecretTag[]>,
  secrets: ReadonlyMap<string, SecretState>,
): Change[] {
  return [...wanted].flatMap(([id, tags]): Change[] => {
    const state = secrets.get(id);
    if (state?.exists !== true) return [];
    const missing = tags.filter((t) => state.tags[t.key] !== t.value);
    return missing.length === 0
      ? []
      : [
          {
            kind: ChangeKind.Tags,
            verb: 'tag',
            detail: `${id} ${missing.map((t) => `${t.key}=${t.value}`).join(', ')}`,
            secretId: id,
          },
        ];
  });
}

/** The secrets of the planned changes of `kind`. */
function secretsOfKind(changes: readonly Change[], kind: ChangeKind): string[] {
  return changes.flatMap((c) => (c.kind === kind && c.secretId !== undefined ? [c.secretId] : []));
}

export async function restoreSecrets(
  changes: readonly Change[],
  side: SecretsSide,
  log: (line: string) => void,
): Promise<void> {
  for (const id of secretsOfKind(changes, ChangeKind.Restore)) {
    await side.pace();
    await side.secrets.restore(id);
    log(`secret ${id}: restored (it was scheduled for deletion)`);
  }
}

/** Each planned tag change, paced; tags the secret already carries are not sent again. */
export async function tagSecrets(
  changes: readonly Change[],
  wanted: ReadonlyMap<string, readonly SecretTag[]>,
  secrets: ReadonlyMap<string, SecretState>,
  side: SecretsSide,
  log: (line: string) => void,
): Promise<void> {
  for (const id of secretsOfKind(changes, ChangeKind.Tags)) {
    const have = secrets.get(id)?.tags ?? {};
    for (const tag of wanted.get(id) ?? []) {
      if (have[tag.key] === tag.value) continue;
      await side.pace();
      await side.secrets.tag(id, tag);
      log(`secret ${id}: tagged ${tag.key}=${tag.value}`);
    }
  }
}
