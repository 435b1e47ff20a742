/**
 * The per-target and per-run report the handler returns and logs. It holds
 * facts an operator needs (what was done, TTLs, expiry times, problems) and
 * never a token, accessor, secret_id, password or lease id.
 */

import { Severity } from '../core/notifier-port.js';
import type { Problem } from '../core/problems.js';
import type { IncidentSummary } from '../telling/teller.js';

export const TokenOutcome = {
  Renewed: 'renewed',
  Relogged: 'relogged-in',
  WouldRenew: 'would-renew',
  WouldRelogin: 'would-relogin',
  /** Renewed, and its login left for the next run: the write budget was spent and it outlives that run. */
  Deferred: 'deferred',
  Untouched: 'untouched',
  Failed: 'failed',
} as const;
export type TokenOutcome = (typeof TokenOutcome)[keyof typeof TokenOutcome];

export const LeaseOutcome = {
  Renewed: 'renewed',
  Reissued: 'reissued',
  WouldRenew: 'would-renew',
  WouldReissue: 'would-reissue',
  Skipped: 'skipped',
  Failed: 'failed',
} as const;
export type LeaseOutcome = (typeof LeaseOutcome)[keyof typeof LeaseOutcome];

export interface LeaseReport {
  readonly name: string;
  readonly outcome: LeaseOutcome;
  /** Why the planner chose this (e.g. `healthy`, `token-replaced`, `gone`). */
  readonly reason?: string;
  readonly ttlSeconds?: number;
  readonly expiresAt?: string;
}

export const TargetStatus = {
  /** Renewed (or would be); nothing written. */
  Ok: 'ok',
  /** A new token or lease was written (in a dry run: would be). */
  Changed: 'changed',
  /** At least one problem of severity ERROR or CRITICAL that the run did not repair. */
  Failed: 'failed',
  /** Dry run: it cannot tell whether the real run would do nothing (`unknown` says why). */
  Unknown: 'unknown',
  /** Not processed (deadline, or not selected). */
  Skipped: 'skipped',
} as const;
export type TargetStatus = (typeof TargetStatus)[keyof typeof TargetStatus];

export interface TargetReport {
  readonly target: string;
  readonly status: TargetStatus;
  readonly token: {
    readonly outcome: TokenOutcome;
    readonly reason?: string;
    readonly ttlSeconds?: number;
    readonly expiresAt?: string;
  };
  readonly leases: readonly LeaseReport[];
  /** Dry run: what it could not know; the status is then `unknown`, never `ok`. */
  readonly unknown?: readonly string[];
  /** Seconds until the stored AppRole secret_id expires, when it does and could be looked up. */
  readonly secretIdExpiresInSeconds?: number;
  readonly problems: readonly Problem[];
  /** Secrets Manager versions written for this target. */
  /** This run revoked the token a login had replaced (and the leases it still held). */
  readonly retiredToken?: boolean;
  readonly writes: number;
  readonly durationMs: number;
}

/** Targets a run left for the next, for one reason: how many, and the first names. */
export interface CarriedOverPart {
  readonly count: number;
  readonly targets: readonly string[];
}

/** What a run left for the next one, by reason. */
export interface CarriedOver {
  /** Not reached before the deadline. */
  readonly deadline?: CarriedOverPart;
  /** Renewed, login left for the next run: the write budget was spent. */
  readonly writeBudget?: CarriedOverPart;
  /** Not logged in: Vault refused this AppRole secret version, and the back-off has not passed. */
  readonly refusedLogin?: CarriedOverPart;
}

export interface RunReport {
  readonly runId: string;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly summary: {
    readonly targets: number;
    readonly ok: number;
    readonly changed: number;
    readonly failed: number;
    readonly skipped: number;
    /** Dry run: targets whose real run it cannot predict. */
    readonly unknown: number;
    readonly problems: number;
    /** Soonest token or lease expiry among processed targets, seconds from the end of the run. */
    readonly soonestExpirySeconds?: number;
    /** Soonest AppRole secret_id expiry among processed targets, in seconds. */
    readonly soonestSecretIdExpirySeconds?: number;
  };
  /** How the run paced itself: workers it grew to, Secrets Manager writes, Vault 429s seen. */
  readonly pacing: {
    readonly concurrency: number;
    readonly secretsManagerWrites: number;
    /** Writes that waited for a slot of the write budget. */
    readonly writesWaited: number;
    /** Tokens logged in before their time to spread a wave of max TTLs over runs. */
    readonly earlyLogins: number;
    /** 429s the Vault client has seen (since its container started). */
    readonly vaultThrottled?: number;
  };
  /** What it left for the next run, and why; absent when it left nothing. */
  readonly carriedOver?: CarriedOver;
  readonly notifications: { readonly published: number; readonly failed: number };
  /** Incident bookkeeping: `off` without a table, `unavailable` when it failed (every problem was published). */
  readonly incidents?: IncidentSummary;
  /** `Credential Changed` events put on EventBridge, and those that could not be (logged). */
  readonly changeEvents: { readonly published: number; readonly failed: number };
  readonly targets: readonly TargetReport[];
}

/**
 * What one batch of a fanned-out run returns for the run's last step
 * (fan-out.ts): its counts, the targets that were not ok, and the run
 * causes it hit. Small, whatever the batch size.
 */
export interface BatchResult {
  readonly batch: true;
  readonly runId: string;
  readonly durationMs: number;
  readonly summary: RunReport['summary'];
  readonly pacing: RunReport['pacing'];
  readonly notifications: RunReport['notifications'];
  readonly changeEvents: RunReport['changeEvents'];
  readonly incidents?: RunReport['incidents'];
  readonly runCauses: readonly string[];
  readonly targets: readonly TargetReport[];
  /** Targets cut from `targets` to keep the result small (each is in the batch's logs). */
  readonly omitted?: { readonly targets: number; readonly reason: string };
}

/** A target's report from what its steps returned: failed when any problem is an ERROR or worse. */
export function assembleTargetReport(parts: Omit<TargetReport, 'status'>): TargetReport {
  // What the run repaired was told; the status is what it left.
  const failed = parts.problems.some(
    (p) => (p.severity === Severity.Error || p.severity === Severity.Critical) && !p.repaired,
  );
  // A dry run writes nothing, but `ok` must still mean the real run would do nothing.
  const wouldWrite =
    parts.token.outcome === TokenOutcome.WouldRelogin ||
    parts.leases.some((lease) => lease.outcome === LeaseOutcome.WouldReissue);
  const status = failed
    ? TargetStatus.Failed
    : (parts.unknown?.length ?? 0) > 0
      ? TargetStatus.Unknown
      : parts.writes > 0 || wouldWrite
        ? TargetStatus.Changed
        : TargetStatus.Ok;
  return {
    target: parts.target,
    status,
    token: parts.token,
    ...(parts.unknown === undefined || parts.unknown.length === 0
      ? {}
      : { unknown: parts.unknown }),
    ...(parts.secretIdExpiresInSeconds === undefined
      ? {}
      : { secretIdExpiresInSeconds: parts.secretIdExpiresInSeconds }),
    leases: parts.leases,
    problems: parts.problems,
    writes: parts.writes,
    ...(parts.retiredToken === true ? { retiredToken: true } : {}),
    durationMs: parts.durationMs,
  };
}
