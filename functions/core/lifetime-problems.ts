/**
 * The words for a credential that will not outlive the horizon (the lifetime
 * invariant, design.md): ERROR inside the horizon, CRITICAL when it dies
 * before the next run. Shared by renewal and rotation, which both issue and
 * extend credentials.
 */

import type { LeaseConfig } from '../config/types.js';
import { Lifetime, lifetimeOf } from './lifetime.js';
import { Severity } from './notifier-port.js';
import { type Problem, ProblemCode } from './problems.js';

function lifetimeSeverity(ttlSeconds: number, scheduleIntervalSeconds: number): Severity {
  return lifetimeOf(ttlSeconds, scheduleIntervalSeconds) === Lifetime.BeforeNextRun
    ? Severity.Critical
    : Severity.Error;
}

function whenItDies(ttlSeconds: number, scheduleIntervalSeconds: number): string {
  return lifetimeOf(ttlSeconds, scheduleIntervalSeconds) === Lifetime.BeforeNextRun
    ? `it dies in ${ttlSeconds}s, before the next run (every ${scheduleIntervalSeconds}s)`
    : `it dies in ${ttlSeconds}s, less than two schedule intervals (${scheduleIntervalSeconds}s each) from now: one missed run and it is gone`;
}

/**
 * The token the renewer keeps will not outlive the horizon, even renewed with
 * the increment: `fresh` after a login, else after a plain renewal.
 */
export function tokenTtlBelowHorizonProblem(
  ttlSeconds: number,
  scheduleIntervalSeconds: number,
  fresh = false,
): Problem {
  return {
    code: ProblemCode.TokenTtlBelowHorizon,
    severity: lifetimeSeverity(ttlSeconds, scheduleIntervalSeconds),
    summary: `The ${fresh ? 'new token' : 'token'} was ${fresh ? 'issued and extended' : 'renewed'}, but ${whenItDies(ttlSeconds, scheduleIntervalSeconds)}.`,
    secondsUntilExpiry: ttlSeconds,
    facts: { intervalSeconds: String(scheduleIntervalSeconds) },
  };
}

/** The same for a lease, renewed or freshly issued and extended. */
export function leaseTtlBelowHorizonProblem(
  lease: LeaseConfig,
  ttlSeconds: number,
  scheduleIntervalSeconds: number,
  fresh = false,
): Problem {
  return {
    code: ProblemCode.LeaseTtlBelowHorizon,
    severity: lifetimeSeverity(ttlSeconds, scheduleIntervalSeconds),
    summary: `Lease "${lease.name}" was ${fresh ? 'issued and extended' : 'renewed'}, but ${whenItDies(ttlSeconds, scheduleIntervalSeconds)}.`,
    lease: lease.name,
    secondsUntilExpiry: ttlSeconds,
    facts: { intervalSeconds: String(scheduleIntervalSeconds) },
  };
}
