/**
 * Whether an AppRole secret's rotation comes round before its secret_id
 * expires. A role with `secret_id_ttl` issues secret_ids that die after it;
 * a rotation replaces the stored one. If two rotations can lie further
 * apart than the secret_id lives, the stored secret_id expires in between
 * and the next re-login fails (pure).
 */

import type { RotationRules } from '../../functions/config/types.js';
import { cronLongestGapSeconds } from '../../infra/cron-schedule.js';

const HOUR = 3600;
const DAY = 24 * HOUR;

/**
 * The longest a stored secret_id may have to last under `rules`: the longest
 * gap between two scheduled rotations plus the rotation window (Secrets
 * Manager rotates any time in it; without `Duration` the window closes after
 * an hour for schedules in hours and at the end of the UTC day for the rest,
 * aws-facts "RotateSecret API"). A string saying why when the schedule is
 * one this cannot read (a cron that skips days).
 */
export function longestRotationGapSeconds(rules: RotationRules): number | string {
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(rules.ScheduleExpression ?? '');
  const inHours = rate?.[2]?.startsWith('hour') === true;
  const windowSeconds =
    rules.Duration === undefined
      ? inHours
        ? HOUR
        : DAY
      : Number(/^(\d+)h$/.exec(rules.Duration)?.[1] ?? 24) * HOUR;
  if (rules.AutomaticallyAfterDays !== undefined) {
    return rules.AutomaticallyAfterDays * DAY + windowSeconds;
  }
  if (rate !== null) return Number(rate[1]) * (inHours ? HOUR : DAY) + windowSeconds;
  const gap = cronLongestGapSeconds(rules.ScheduleExpression ?? '');
  return typeof gap === 'number' ? gap + windowSeconds : gap;
}

/**
 * What stops (`problem`) or should worry (`warning`) a role whose
 * secret_ids live `secretIdTtlSeconds` (0: forever) under these rotation
 * rules (`undefined`: the AppRole secret is not rotated).
 */
export function rotationReach(
  secretIdTtlSeconds: number,
  rules: RotationRules | undefined,
): { readonly problem?: string; readonly warning?: string } {
  if (secretIdTtlSeconds <= 0 || rules === undefined) return {};
  const gap = longestRotationGapSeconds(rules);
  if (typeof gap === 'string') {
    return {
      warning: `secret_id_ttl ${secretIdTtlSeconds} s: the AppRole rotation schedule ${rules.ScheduleExpression ?? ''} ${gap}, so whether a rotation comes before the secret_id expires cannot be checked here`,
    };
  }
  if (gap >= secretIdTtlSeconds) {
    return {
      problem: `secret_id_ttl ${secretIdTtlSeconds} s is shorter than the longest wait for the next AppRole rotation (${gap} s with its window): the stored secret_id would expire before it is replaced and the next re-login would fail; raise secret_id_ttl above ${gap} s or rotate more often`,
    };
  }
  return {};
}
