/**
 * What `npm run rotation:apply` changes: per AppRole and token secret of the
 * fleet, the rotation the config asks for against what Secrets Manager has.
 * Pure: the caller describes the secrets and carries the plan out.
 */

import type { RenewerConfig, RotationRules } from '../../functions/config/types.js';
import type { SecretDescription } from '../../functions/core/staging-port.js';

export interface DesiredRotation {
  readonly secretId: string;
  readonly target: string;
  readonly kind: 'approle' | 'token';
  /** `undefined`: the config does not rotate this secret. */
  readonly rules: RotationRules | undefined;
}

/** Every AppRole and token secret of the fleet, once (targets may share an AppRole secret). */
export function desiredRotations(config: RenewerConfig): DesiredRotation[] {
  const bySecret = new Map<string, DesiredRotation>();
  for (const target of config.targets) {
    const entries: DesiredRotation[] = [
      ...(target.approle === undefined
        ? []
        : [
            {
              secretId: target.approle.secretId,
              target: target.name,
              kind: 'approle' as const,
              rules: target.rotation?.approle,
            },
          ]),
      {
        secretId: target.tokenSecretId,
        target: target.name,
        kind: 'token',
        rules: target.rotation?.token,
      },
    ];
    for (const entry of entries)
      if (!bySecret.has(entry.secretId)) bySecret.set(entry.secretId, entry);
  }
  return [...bySecret.values()];
}

export const SettingAction = {
  /** Rotation as the config says: nothing to do. */
  InSync: 'in-sync',
  /** Configure (or correct) rotation with RotateSecret(RotateImmediately=false). */
  Apply: 'apply',
  /** Neither the config nor Secrets Manager rotates it. */
  NotRotated: 'not-rotated',
  /** Rotated by this function although the config no longer says so; `--prune` cancels it. */
  Drift: 'drift',
  /** Rotated by another function: never touched, reported. */
  Foreign: 'foreign',
} as const;
export type SettingAction = (typeof SettingAction)[keyof typeof SettingAction];

export interface SettingDecision {
  readonly action: SettingAction;
  /** What differs, for the report (e.g. `AutomaticallyAfterDays 30 -> 7`). */
  readonly differences: readonly string[];
}

/**
 * When a secret is rotated, in one form: `AutomaticallyAfterDays: N` and
 * `ScheduleExpression: rate(N days)` say the same, and Secrets Manager may
 * answer either for the other.
 */
function scheduleOf(rules: RotationRules | undefined): string | undefined {
  if (rules?.AutomaticallyAfterDays !== undefined) {
    return `rate(${rules.AutomaticallyAfterDays} ${rules.AutomaticallyAfterDays === 1 ? 'day' : 'days'})`;
  }
  return rules?.ScheduleExpression?.replace(/^rate\((\d+) days?\)$/, (_, n: string) =>
    n === '1' ? 'rate(1 day)' : `rate(${n} days)`,
  );
}

export function decideSetting(
  desired: DesiredRotation,
  observed: Pick<SecretDescription, 'rotationEnabled' | 'rotationLambdaArn' | 'rotationRules'>,
  functionArn: string,
): SettingDecision {
  const ours =
    observed.rotationLambdaArn === undefined || observed.rotationLambdaArn === functionArn;
  if (desired.rules === undefined) {
    if (!observed.rotationEnabled) return { action: SettingAction.NotRotated, differences: [] };
    return ours
      ? {
          action: SettingAction.Drift,
          differences: ['rotation enabled, the config rotates nothing'],
        }
      : {
          action: SettingAction.Foreign,
          differences: [`rotated by ${observed.rotationLambdaArn}`],
        };
  }
  if (!ours && observed.rotationEnabled) {
    return {
      action: SettingAction.Foreign,
      differences: [`rotated by ${observed.rotationLambdaArn}`],
    };
  }
  const differences: string[] = [];
  if (!observed.rotationEnabled) differences.push('rotation not enabled');
  if (observed.rotationLambdaArn !== functionArn) differences.push('rotation function');
  const [want, have] = [scheduleOf(desired.rules), scheduleOf(observed.rotationRules)];
  if (want !== have) differences.push(`schedule ${have ?? '-'} -> ${want ?? '-'}`);
  // Secrets Manager fills in a window when none is given: compare only a window the config sets.
  const window = desired.rules.Duration;
  if (window !== undefined && window !== observed.rotationRules?.Duration) {
    differences.push(`window ${observed.rotationRules?.Duration ?? '-'} -> ${window}`);
  }
  return {
    action: differences.length === 0 ? SettingAction.InSync : SettingAction.Apply,
    differences,
  };
}
