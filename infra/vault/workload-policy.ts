/**
 * The workload policy as the project ships it (workload-policy.hcl) and as
 * every user of it composes it for one target: the bootstrap writes it, the
 * local stack's fleets and the demos use it, so the integration suites test
 * the policy users deploy, not a copy of it.
 */

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The shipped base policy: what the renewer calls with the workload's own token. */
export const WORKLOAD_POLICY_FILE = resolve(import.meta.dirname, 'workload-policy.hcl');

/**
 * `basePolicy` plus, for one target, `update` on its own role's
 * secret-id/lookup (when `roleBase`, `auth/<mount>/role/<role>`, is given)
 * and `read` on each lease re-issue path.
 */
export function composeWorkloadPolicy(
  basePolicy: string,
  reissuePaths: readonly string[],
  roleBase?: string,
  /** A jwt target's mount and role: diagnose reads both to check its login. */
  jwt?: { readonly mount: string; readonly role: string },
): string {
  const lookup =
    roleBase === undefined
      ? []
      : [
          `
# Look up the target's own secret_id, so the renewer warns before it expires (added by vault:bootstrap).
path "${roleBase}/secret-id/lookup" {
  capabilities = ["update"]
}
`,
        ];
  const stanzas = [...new Set(reissuePaths)].sort().map(
    (path) => `
# Re-issue a lease of this target when it cannot be renewed (added by vault:bootstrap).
path "${path}" {
  capabilities = ["read"]
}
`,
  );
  const jwtReads =
    jwt === undefined
      ? []
      : [
          `
# Read the target's jwt role and its mount's issuer, so diagnose can check its login (added by vault:setup).
path "auth/${jwt.mount}/role/${jwt.role}" {
  capabilities = ["read"]
}
path "auth/${jwt.mount}/config" {
  capabilities = ["read"]
}
`,
        ];
  return `${basePolicy.trimEnd()}\n${[...lookup, ...jwtReads, ...stanzas].join('')}`;
}

let shipped: string | undefined;

/** The shipped policy composed for one target (see {@link composeWorkloadPolicy}). */
export function shippedWorkloadPolicy(
  reissuePaths: readonly string[],
  roleBase?: string,
  jwt?: { readonly mount: string; readonly role: string },
): string {
  shipped ??= readFileSync(WORKLOAD_POLICY_FILE, 'utf8');
  return composeWorkloadPolicy(shipped, reissuePaths, roleBase, jwt);
}
