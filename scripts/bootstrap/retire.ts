/**
 * Targets removed from the config, found by what the set-up marked when it
 * created them (ownership.ts): policies with its header on each Vault of the
 * config, and secrets with its target tag, both of this fleet. Retiring one revokes its token
 * and leases, destroys the secret_ids the set-up issued, deletes the role if
 * the set-up created it (else only takes our policy off it), deletes the
 * policy, and schedules the secrets for deletion with a recovery window.
 * A secret any configured target still names is never touched.
 */

import type { OwnedSecret, SecretProvisioning } from '../../functions/aws/secret-provisioning.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import type { VaultEndpoint } from '../../functions/core/vault-port.js';
import type { VaultAdminEndpoints } from '../../functions/vault/admin-endpoints.js';
import {
  DEFAULT_FLEET,
  FLEET_TAG_KEY,
  isOurSecretId,
  type PolicyOwnership,
  readOwnership,
} from './ownership.js';
import { ROTATOR_POLICY_NAME } from './rotator-policy.js';
import { parseJsonObject } from './secrets-side.js';
import type { Change } from './target-setup.js';

const POLICY_PREFIX = 'vault-renewer-';

/** One Vault of the config, as an administrator reaches it. */
export interface AdminSide {
  readonly endpoint: VaultEndpoint;
  readonly admin: VaultAdminEndpoints;
}

export interface RetiredVaultSide {
  readonly side: AdminSide;
  readonly policyName: string;
  readonly owner: PolicyOwnership;
}

/** A target the set-up created and the config no longer names. */
export interface RetiredTarget {
  readonly target: string;
  /** Where its policy was found, with what the header says. */
  readonly vault: RetiredVaultSide | undefined;
  readonly secrets: readonly OwnedSecret[];
}

/** Every secret name and ARN the config still uses. */
function namedSecrets(config: RenewerConfig): Set<string> {
  return new Set(
    config.targets.flatMap((t) => [
      t.tokenSecretId,
      ...(t.approle === undefined ? [] : [t.approle.secretId]),
      ...t.leases.map((l) => l.secretId),
    ]),
  );
}

export async function findRetired(
  fleet: string,
  config: RenewerConfig,
  sides: readonly AdminSide[],
  secrets: SecretProvisioning,
): Promise<RetiredTarget[]> {
  const configured = new Set(config.targets.map((t) => t.name));
  const retired = new Map<
    string,
    { vault: RetiredVaultSide | undefined; secrets: OwnedSecret[] }
  >();
  const entry = (target: string) => {
    const found = retired.get(target) ?? { vault: undefined, secrets: [] };
    retired.set(target, found);
    return found;
  };
  for (const side of sides) {
    const names = (await side.admin.listPolicies()).filter(
      (name) =>
        name.startsWith(POLICY_PREFIX) &&
        name !== ROTATOR_POLICY_NAME &&
        !configured.has(name.slice(POLICY_PREFIX.length)),
    );
    for (const policyName of names) {
      const owner = readOwnership(await side.admin.readPolicy(policyName));
      if (owner === undefined || owner.fleet !== fleet || configured.has(owner.target)) continue;
      entry(owner.target).vault = { side, policyName, owner };
    }
  }
  const inUse = namedSecrets(config);
  for (const secret of await secrets.listOwned()) {
    if ((secret.tags[FLEET_TAG_KEY] ?? DEFAULT_FLEET) !== fleet) continue;
    if (configured.has(secret.target) || inUse.has(secret.name) || inUse.has(secret.arn)) continue;
    entry(secret.target).secrets.push(secret);
  }
  return [...retired.entries()]
    .map(([target, found]) => ({ target, ...found }))
    .sort((a, b) => a.target.localeCompare(b.target));
}

/** What retiring it does, for the plan. */
export function retireChanges(retired: RetiredTarget, recoveryDays: number): Change[] {
  const changes: Change[] = [];
  if (retired.secrets.length > 0) {
    changes.push({
      kind: 'token',
      verb: 'revoke',
      detail: 'the token and leases its secrets hold',
    });
  }
  const vault = retired.vault;
  if (vault !== undefined) {
    const role = `auth/${vault.owner.mount}/role/${vault.owner.role}`;
    changes.push(
      { kind: 'secret_id', verb: 'destroy', detail: `the secret_ids the set-up issued (${role})` },
      vault.owner.roleCreated
        ? { kind: 'role', verb: 'delete', detail: role }
        : {
            kind: 'role',
            verb: 'update',
            detail: `${role} (token_policies - ${vault.policyName})`,
          },
      { kind: 'policy', verb: 'delete', detail: vault.policyName },
    );
  }
  for (const secret of retired.secrets) {
    changes.push({
      kind: 'secret',
      verb: 'delete',
      detail: `${secret.name} (recoverable for ${recoveryDays} days)`,
      secretId: secret.name,
    });
  }
  return changes;
}

export interface RetireSides {
  readonly secrets: SecretProvisioning;
  /** Every Vault of the config: a token whose policy was not found is revoked where Vault knows it. */
  readonly vaults: readonly AdminSide[];
  /** Waits for the turn of the next Secrets Manager write. */
  readonly pace: () => Promise<void>;
}

export async function retireTarget(
  retired: RetiredTarget,
  sides: RetireSides,
  recoveryDays: number,
  log: (line: string) => void,
): Promise<void> {
  const { target, vault } = retired;
  const revokers = vault === undefined ? sides.vaults : [vault.side];

  // 1. What the secrets hold: leases first, then the token (which takes its leases with it).
  const held = { tokens: [] as string[], leases: [] as string[] };
  for (const secret of retired.secrets) {
    const document = parseJsonObject((await sides.secrets.read(secret.name)).text);
    if (document?.managed_by !== 'vault-renewer') continue;
    if (typeof document.lease_id === 'string' && document.lease_id !== '') {
      held.leases.push(document.lease_id);
    } else if (typeof document.token === 'string' && typeof document.accessor === 'string') {
      held.tokens.push(document.accessor);
    }
  }
  let revoked = 0;
  for (const leaseId of held.leases) {
    if (await revokeAnywhere(revokers, (admin) => admin.revokeLease(leaseId))) revoked += 1;
  }
  for (const accessor of held.tokens) {
    if (await revokeAnywhere(revokers, (admin) => admin.revokeTokenByAccessor(accessor))) {
      revoked += 1;
    }
  }
  log(
    `${target}: ${revoked} of ${held.leases.length + held.tokens.length} token(s) and lease(s) revoked (the others had ended)`,
  );

  // 2. Vault: secret_ids, role, policy.
  if (vault !== undefined) {
    const { admin } = vault.side;
    const { mount, role } = vault.owner;
    let destroyed = 0;
    // A jwt role has no secret_ids.
    const accessors = vault.owner.login === 'jwt' ? [] : await admin.secretIdAccessors(mount, role);
    for (const accessor of accessors) {
      if (!isOurSecretId(await admin.secretIdMetadata(mount, role, accessor), target)) continue;
      await admin.destroySecretIdByAccessor(mount, role, accessor);
      destroyed += 1;
    }
    log(`${target}: ${destroyed} secret_id(s) destroyed`);
    const settings = await admin.readAppRole(mount, role);
    if (settings !== undefined) {
      if (vault.owner.roleCreated) {
        await admin.deleteAppRole(mount, role);
        log(`${target}: role auth/${mount}/role/${role} deleted`);
      } else {
        const policies = Array.isArray(settings.token_policies) ? settings.token_policies : [];
        await admin.writeAppRole(mount, role, {
          token_policies: policies.filter((p) => p !== vault.policyName),
        });
        log(`${target}: ${vault.policyName} taken off role auth/${mount}/role/${role} (not ours)`);
      }
    }
    await admin.deletePolicy(vault.policyName);
    log(`${target}: policy ${vault.policyName} deleted`);
  }

  // 3. The secrets, last: until here a failed retirement can simply be run again.
  for (const secret of retired.secrets) {
    await sides.pace();
    await sides.secrets.scheduleDeletion(secret.name, recoveryDays);
    log(`${target}: secret ${secret.name} scheduled for deletion in ${recoveryDays} days`);
  }
}

/** Revokes on the Vaults in turn until one knows the credential. */
async function revokeAnywhere(
  vaults: readonly AdminSide[],
  revoke: (admin: VaultAdminEndpoints) => Promise<boolean>,
): Promise<boolean> {
  for (const { admin } of vaults) if (await revoke(admin)) return true;
  return false;
}
