/**
 * What the bootstrap writes to Vault, read from infra/vault/: the AppRole role
 * settings (checked here, because Vault accepts settings that would make the
 * renewer fail or log in on every run) and the target's policy.
 */

import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { horizonSeconds } from '../../functions/core/lifetime.js';
import { composeWorkloadPolicy, WORKLOAD_POLICY_FILE } from '../../infra/vault/workload-policy.js';
import { BootstrapError, messageOf } from './errors.js';
import { readText } from './operator-input.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const DEFAULT_ROLE_SETTINGS = resolve(REPO_ROOT, 'infra/vault/approle-role.yaml');
export const DEFAULT_POLICY_FILE = WORKLOAD_POLICY_FILE;

const seconds = z.number().int().min(0);
const roleSettingsSchema = z.strictObject({
  token_type: z.literal('service', {
    error: 'must be "service": batch tokens can never be renewed',
  }),
  token_ttl: seconds.min(1, 'must be at least 1 (0 would silently take the mount default)'),
  token_max_ttl: seconds.min(1, 'must be at least 1 (0 would silently take the mount maximum)'),
  token_period: seconds,
  token_explicit_max_ttl: seconds,
  token_num_uses: z.literal(0, {
    error: 'must be 0: a token with limited uses dies after that many requests, renewals included',
  }),
  token_no_default_policy: z.boolean(),
  bind_secret_id: z.literal(true, {
    error: 'must be true: without it anyone who knows the role_id can log in',
  }),
  secret_id_ttl: seconds,
  secret_id_num_uses: seconds,
  secret_id_bound_cidrs: z.array(z.string().min(1)),
  token_bound_cidrs: z.array(z.string().min(1)).optional(),
});
export type RoleSettings = z.infer<typeof roleSettingsSchema>;

/** Reads and checks a role settings file; `intervalSeconds` is the config's schedule. */
export function loadRoleSettings(
  path: string,
  intervalSeconds: number,
): { settings: RoleSettings; warnings: string[] } {
  const text = readText(path, 'role settings');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new BootstrapError(`role settings ${path}: not YAML (${messageOf(error)})`);
  }
  const parsed = roleSettingsSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
  if (parsed.success) {
    const s = parsed.data;
    const horizon = horizonSeconds(intervalSeconds);
    if (s.token_ttl > s.token_max_ttl) {
      problems.push('token_ttl: must not be greater than token_max_ttl (Vault refuses it)');
    }
    if (s.token_period === 0 && s.token_max_ttl <= horizon) {
      problems.push(
        `token_max_ttl: ${s.token_max_ttl} s is inside the renewer's horizon (${horizon} s: two schedule intervals plus a minute), so every run would log in again; raise it well above`,
      );
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new BootstrapError(`role settings ${path}:\n  ${problems.join('\n  ')}`);
  }
  const s = parsed.data;
  const warnings: string[] = [];
  if (s.token_ttl <= intervalSeconds) {
    warnings.push(
      `token_ttl ${s.token_ttl} s is not longer than the schedule interval (${intervalSeconds} s): a fresh token dies before the next run if that run is late`,
    );
  }
  if (s.token_period > 0) {
    warnings.push(
      'token_period is set: periodic tokens never reach a max TTL (unless token_explicit_max_ttl), so a leaked token lives as long as it is renewed',
    );
  }
  if (s.secret_id_ttl > 0 || s.secret_id_num_uses > 0) {
    warnings.push(
      'secret_id_ttl / secret_id_num_uses limit the secret_id: re-run this with --rotate-secret-id well before it expires or runs out, or the next re-login fails',
    );
  }
  return { settings: s, warnings };
}

/** The policy file (default {@link DEFAULT_POLICY_FILE}) composed for the target's leases. */
export function loadPolicy(
  path: string,
  reissuePaths: readonly string[],
  roleBase?: string,
  jwt?: { readonly mount: string; readonly role: string },
): string {
  return composeWorkloadPolicy(readText(path, 'policy'), reissuePaths, roleBase, jwt);
}
