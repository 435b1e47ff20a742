/**
 * The rotator's Vault policy: infra/vault/rotator-policy.hcl with `update` on
 * secret-id and secret-id-accessor/destroy of each managed role, and nothing
 * else.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { RenewerConfig } from '../../functions/config/types.js';

export const ROTATOR_POLICY_FILE = resolve(
  import.meta.dirname,
  '../../infra/vault/rotator-policy.hcl',
);
export const ROTATOR_POLICY_NAME = 'vault-renewer-rotator';

export interface ManagedRole {
  readonly mount: string;
  readonly role: string;
}

/** The roles whose AppRole secret the config rotates, each once. */
export function managedRoles(config: RenewerConfig): ManagedRole[] {
  const seen = new Map<string, ManagedRole>();
  for (const target of config.targets) {
    const role = target.approle?.roleName;
    if (target.rotation?.approle === undefined || target.approle === undefined) continue;
    if (role === undefined) continue;
    seen.set(`${target.approle.mount}/${role}`, { mount: target.approle.mount, role });
  }
  return [...seen.values()];
}

export function rotatorPolicy(
  roles: readonly ManagedRole[],
  header = readFileSync(ROTATOR_POLICY_FILE, 'utf8'),
): string {
  const stanzas = roles.flatMap(({ mount, role }) => {
    const base = `auth/${mount}/role/${role}`;
    return [
      `path "${base}/secret-id" {\n  capabilities = ["update"]\n}`,
      `path "${base}/secret-id-accessor/destroy" {\n  capabilities = ["update"]\n}`,
    ];
  });
  return `${header.trimEnd()}\n\n${stanzas.join('\n\n')}\n`;
}
