/**
 * One builder for a target's resolved config (what the functions get after
 * the schema), and one for a whole resolved config, for the tests that do
 * not read a config file. Secret ids follow `<name>/token`, `<name>/approle`,
 * `<name>/l<i>` unless the overrides say otherwise.
 */

import { DEFAULT_PACING } from '../../functions/config/schema.js';
import type { LeaseConfig, RenewerConfig, TargetConfig } from '../../functions/config/types.js';

export interface TargetOverrides extends Partial<Omit<TargetConfig, 'leases'>> {
  /** The leases, or how many `l<i>` leases to give it (re-issued from `database/creds/<name>`). */
  readonly leases?: number | readonly LeaseConfig[];
}

export function targetConfig(name: string, overrides: TargetOverrides = {}): TargetConfig {
  const { leases = 0, ...rest } = overrides;
  return {
    name,
    vault: { address: 'http://127.0.0.1:8200' },
    tokenSecretId: `${name}/token`,
    approle: { secretId: `${name}/approle`, mount: 'approle' },
    incrementSeconds: 3600,
    leases:
      typeof leases === 'number'
        ? Array.from({ length: leases }, (_, i) => ({
            name: `l${i}`,
            secretId: `${name}/l${i}`,
            reissuePath: `database/creds/${name}`,
            incrementSeconds: 3600,
          }))
        : leases,
    notify: { onRelogin: false, onReissue: false },
    ...rest,
  };
}

/** A resolved config of `targets` with the shipped defaults (15-minute schedule). */
export function renewerConfig(
  targets: readonly TargetConfig[],
  overrides: Partial<RenewerConfig> = {},
): RenewerConfig {
  return {
    version: 1,
    scheduleIntervalSeconds: 900,
    concurrency: 2,
    pacing: DEFAULT_PACING,
    secretIdWarnDays: 7,
    reminderHours: 24,
    targets,
    ...overrides,
  };
}
