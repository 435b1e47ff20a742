/**
 * A target's verdict from its checks and the clock. Pure.
 *
 * - broken: some check failed and nothing says it still works for a while
 *   (no `breaksAt`, or one already past): the credentials do not work now, or
 *   will not be renewed at all (root token, Vault sealed, secret missing);
 * - at risk: everything works now, but some failed or warning check says it
 *   stops at a date (`breaksAt`: the earliest of them) or may stop;
 * - healthy: every check passed or was skipped.
 */

import { type Check, CheckStatus } from './check.js';
import { earliest } from './check-context.js';

export const Verdict = {
  Healthy: 'healthy',
  AtRisk: 'at-risk',
  Broken: 'broken',
  /** Not diagnosed: the invocation ran out of time before this target. */
  Unknown: 'unknown',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface VerdictResult {
  readonly verdict: Verdict;
  /** For at-risk: when it breaks, when known (RFC3339). */
  readonly breaksAt?: string;
  /** The ids (and leases) of the checks behind the verdict, e.g. `lease.present/db`. */
  readonly because: readonly string[];
}

function label(c: Check): string {
  return c.lease === undefined ? c.id : `${c.id}/${c.lease}`;
}

function brokenNow(c: Check, nowMs: number): boolean {
  if (c.status !== CheckStatus.Fail) return false;
  if (c.breaksAt === undefined) return true;
  const at = Date.parse(c.breaksAt);
  return Number.isNaN(at) || at <= nowMs;
}

export function verdictOf(checks: readonly Check[], nowMs: number): VerdictResult {
  const broken = checks.filter((c) => brokenNow(c, nowMs));
  if (broken.length > 0) {
    return { verdict: Verdict.Broken, because: broken.map(label) };
  }
  const risky = checks.filter(
    (c) => c.status === CheckStatus.Fail || c.status === CheckStatus.Warn,
  );
  if (risky.length === 0) {
    return { verdict: Verdict.Healthy, because: [] };
  }
  const breaksAt = earliest(...risky.map((c) => c.breaksAt));
  return {
    verdict: Verdict.AtRisk,
    ...(breaksAt === undefined ? {} : { breaksAt }),
    because: risky.map(label),
  };
}
