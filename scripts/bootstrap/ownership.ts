/**
 * What the project created, marked where it was created, so that retiring a
 * target touches nothing else:
 *
 * - Vault: the target's policy opens with a header naming the target, its
 *   AppRole role, and whether the set-up created that role (a role that was
 *   there before only had our policy added, and only loses it again);
 * - Vault: each secret_id is issued with metadata `managed_by`, `target`;
 * - Secrets Manager: each secret it creates carries `managed-by` and
 *   `vault-renewer-target` (functions/aws/secret-provisioning.ts).
 *
 * A policy without the header, a secret without the tags, a secret_id
 * without the metadata is someone else's and is never retired.
 */

import { MANAGED_BY_TAG } from '../../functions/aws/secret-provisioning.js';

/**
 * Which set-up a thing belongs to, when several share a Vault or an account
 * (a staging and a production config): retiring considers only its own.
 */
export const FLEET_TAG_KEY = 'vault-renewer-fleet';
export const DEFAULT_FLEET = 'default';
const FLEET_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Why `name` cannot name a fleet (it becomes a tag value and a policy comment); `undefined` if it can. */
export function fleetNameProblem(name: string): string | undefined {
  return FLEET_NAME.test(name)
    ? undefined
    : `--fleet must be 1-64 letters, digits, '_', '.' or '-': ${JSON.stringify(name)}`;
}

export interface PolicyOwnership {
  readonly fleet: string;
  readonly target: string;
  readonly mount: string;
  readonly role: string;
  /** The set-up created the role: retiring deletes it (else it only removes our policy from it). */
  readonly roleCreated: boolean;
  /** How the role logs in: a jwt role has no secret_ids to destroy. Absent: approle. */
  readonly login?: 'jwt';
}

const HEADER = '# managed-by: vault-renewer';
const FLEET_LINE = /^# fleet: (\S+)$/m;
const TARGET_LINE = /^# target: (\S+)$/m;
const ROLE_LINE = /^# role: auth\/(\S+)\/role\/(\S+) \((created|existing)\)$/m;
const JWT_LINE = /^# login: jwt$/m;

/** The policy as written to Vault: the header, then the composed policy. */
export function markPolicy(hcl: string, owner: PolicyOwnership): string {
  return [
    HEADER,
    `# fleet: ${owner.fleet}`,
    `# target: ${owner.target}`,
    `# role: auth/${owner.mount}/role/${owner.role} (${owner.roleCreated ? 'created' : 'existing'})`,
    ...(owner.login === 'jwt' ? ['# login: jwt'] : []),
    '',
    hcl,
  ].join('\n');
}

/** The header of a policy the set-up wrote; `undefined` for any other policy. */
export function readOwnership(hcl: string | undefined): PolicyOwnership | undefined {
  if (hcl === undefined || !hcl.startsWith(`${HEADER}\n`)) return undefined;
  const target = TARGET_LINE.exec(hcl)?.[1];
  const role = ROLE_LINE.exec(hcl);
  if (target === undefined || role === null) return undefined;
  const [, mount = '', name = '', created] = role;
  const fleet = FLEET_LINE.exec(hcl)?.[1] ?? DEFAULT_FLEET;
  return {
    fleet,
    target,
    mount,
    role: name,
    roleCreated: created === 'created',
    ...(JWT_LINE.test(hcl) ? { login: 'jwt' as const } : {}),
  };
}

/** Whether a secret_id's metadata says the set-up issued it for `target`. */
export function isOurSecretId(
  metadata: Readonly<Record<string, string>> | undefined,
  target: string,
): boolean {
  return metadata?.managed_by === MANAGED_BY_TAG.Value && metadata.target === target;
}
