/**
 * What one run leaves for the next, so a fleet that does not fit in one run
 * is still served in order (pure, with its port):
 *
 * - targets the run did not reach, since when: no target goes unvisited for
 *   more than two consecutive runs, whatever the fleet size and latency;
 * - targets the run failed or left work for (a deferred login): first in
 *   the next run after the ones whose credentials die soonest;
 * - when a target's first credential dies, when that is soon;
 * - logins Vault refused, with the AppRole secret version they used: that
 *   version is not tried again until it changes or the back-off has passed.
 *   Five refused logins lock the role out for every client, the workload
 *   included (vault-facts "lockout"), so a renewer must never retry one
 *   every run.
 *
 * It holds exceptions only: a healthy fleet visited in full leaves an empty
 * ledger, so a steady run reads it once and writes nothing.
 */

import type { TargetConfig } from '../config/types.js';

/** A refused credential: the version refused (an AppRole secret version, or a token accessor for a lease), and when. */
export interface Refusal {
  readonly version: string;
  /** Epoch seconds. */
  readonly atSeconds: number;
}

export interface LedgerEntry {
  /** Epoch seconds of the first run in a row that did not reach the target. */
  readonly unvisitedSinceSeconds?: number;
  /** Epoch seconds when its first credential dies, kept while that is within the look-ahead. */
  readonly diesAtSeconds?: number;
  /** The last run that reached it failed it, or left work for a later run. */
  readonly pending?: boolean;
  /** The last login Vault refused. */
  readonly refusedLogin?: Refusal;
  /** Lease re-issues Vault refused (403), by lease name. */
  readonly refusedLeases?: Readonly<Record<string, Refusal>>;
  /** Epoch seconds from which the token a login replaced may be revoked (the grace period's end). */
  readonly retireAtSeconds?: number;
}

export type FleetLedger = ReadonlyMap<string, LedgerEntry>;

export interface LedgerCallOptions {
  readonly signal?: AbortSignal;
  /** A batch's own ledger (a fanned-out run): its items never hold another batch's targets. */
  readonly partition?: string;
}

export interface LedgerStore {
  /** The ledger the last run left; empty when there is none. Throws when it cannot be read. */
  load(targets: number, options?: LedgerCallOptions): Promise<FleetLedger>;
  /** Stores `ledger` in place of `previous` (only what changed is written). */
  save(
    ledger: FleetLedger,
    previous: FleetLedger,
    targets: number,
    options?: LedgerCallOptions,
  ): Promise<void>;
}

/** Death times further ahead than this many intervals are not kept: they do not change the order. */
const LOOK_AHEAD_INTERVALS = 8;

export const Tier = {
  /** Not reached in the last two runs: reached now, whatever else waits. */
  Overdue: 0,
  /** A credential dies before the next run could act on it. */
  Urgent: 1,
  /** Failed or left work last run, or never seen: what it needs is not known. */
  Pending: 2,
  Rest: 3,
} as const;
export type Tier = (typeof Tier)[keyof typeof Tier];

/** How many runs in a row have not reached the target, counting this one as the next. */
export function runsUnvisited(
  entry: LedgerEntry | undefined,
  nowMs: number,
  intervalSeconds: number,
): number {
  if (entry?.unvisitedSinceSeconds === undefined) return 0;
  return Math.floor((nowMs / 1000 - entry.unvisitedSinceSeconds) / intervalSeconds + 0.5);
}

export function tierOf(
  entry: LedgerEntry | undefined,
  nowMs: number,
  intervalSeconds: number,
): Tier {
  if (entry === undefined) return Tier.Pending;
  if (runsUnvisited(entry, nowMs, intervalSeconds) >= 2) return Tier.Overdue;
  // Before the next run plus a margin for its own length: this run is the last that can act.
  if (
    entry.diesAtSeconds !== undefined &&
    entry.diesAtSeconds * 1000 <= nowMs + intervalSeconds * 1500
  ) {
    return Tier.Urgent;
  }
  if (entry.pending === true || entry.unvisitedSinceSeconds !== undefined) return Tier.Pending;
  return Tier.Rest;
}

/**
 * The targets in the order a run takes them: overdue, then urgent, then
 * pending, then the rest; within a tier, the soonest death first, then the
 * longest unvisited. Stable: equal targets keep config order.
 */
export function orderByUrgency(
  targets: readonly TargetConfig[],
  ledger: FleetLedger,
  nowMs: number,
  intervalSeconds: number,
): readonly TargetConfig[] {
  if (ledger.size === 0) return targets;
  const keyed = targets.map((target, index) => {
    const entry = ledger.get(target.name);
    return {
      target,
      index,
      tier: tierOf(entry, nowMs, intervalSeconds),
      diesAt: entry?.diesAtSeconds ?? Number.POSITIVE_INFINITY,
      since: entry?.unvisitedSinceSeconds ?? Number.POSITIVE_INFINITY,
    };
  });
  keyed.sort(
    (a, b) => a.tier - b.tier || a.diesAt - b.diesAt || a.since - b.since || a.index - b.index,
  );
  return keyed.map((k) => k.target);
}

/** What a run learnt of one target. */
export interface TargetVisit {
  /** False when the run did not reach it (deadline). */
  readonly visited: boolean;
  /** Epoch seconds when its first credential dies, when known. */
  readonly diesAtSeconds?: number;
  /** Failed, or work left for a later run. */
  readonly pending: boolean;
  /** `null`: a login succeeded (forget the refusal); absent: no login tried. */
  readonly refusedLogin?: Refusal | null;
  /** By lease: `null` when it was re-issued, a refusal when Vault refused it. */
  readonly refusedLeases?: Readonly<Record<string, Refusal | null>>;
  /** A login replaced the token: revoke the old one from then; `null`: it was retired (or need not be). */
  readonly retireAtSeconds?: number | null;
}

/**
 * The ledger after a run: targets it reached replace their entry, targets it
 * did not reach count one more run unvisited, targets no longer configured
 * are dropped, and targets outside the run (a console run naming a few) keep
 * theirs.
 */
export function nextLedger(
  previous: FleetLedger,
  configured: readonly TargetConfig[],
  visits: ReadonlyMap<string, TargetVisit>,
  nowMs: number,
  intervalSeconds: number,
): FleetLedger {
  const next = new Map<string, LedgerEntry>();
  const lookAheadSeconds = nowMs / 1000 + LOOK_AHEAD_INTERVALS * intervalSeconds;
  for (const { name } of configured) {
    const before = previous.get(name);
    const visit = visits.get(name);
    if (visit === undefined) {
      if (before !== undefined) next.set(name, before);
      continue;
    }
    const refusedLogin =
      visit.refusedLogin === null ? undefined : (visit.refusedLogin ?? before?.refusedLogin);
    const retireAtSeconds =
      visit.retireAtSeconds === null
        ? undefined
        : (visit.retireAtSeconds ?? before?.retireAtSeconds);
    const leases: Record<string, Refusal> = { ...before?.refusedLeases };
    for (const [lease, refusal] of Object.entries(visit.refusedLeases ?? {})) {
      if (refusal === null) delete leases[lease];
      else leases[lease] = refusal;
    }
    const entry: LedgerEntry = {
      ...(visit.visited
        ? {}
        : { unvisitedSinceSeconds: before?.unvisitedSinceSeconds ?? Math.floor(nowMs / 1000) }),
      ...(visit.visited &&
      visit.diesAtSeconds !== undefined &&
      visit.diesAtSeconds <= lookAheadSeconds
        ? { diesAtSeconds: Math.floor(visit.diesAtSeconds) }
        : !visit.visited && before?.diesAtSeconds !== undefined
          ? { diesAtSeconds: before.diesAtSeconds }
          : {}),
      ...(visit.pending || !visit.visited ? { pending: true } : {}),
      ...(refusedLogin === undefined ? {} : { refusedLogin }),
      ...(Object.keys(leases).length === 0 ? {} : { refusedLeases: leases }),
      ...(retireAtSeconds === undefined ? {} : { retireAtSeconds: Math.floor(retireAtSeconds) }),
    };
    if (Object.keys(entry).length > 0) next.set(name, entry);
  }
  return next;
}

/** Whether this run may log in with the AppRole secret `version`, given the last refusal. */
export function mayTryAgain(
  refusal: Refusal | undefined,
  version: string,
  nowMs: number,
  retryAfterSeconds: number,
): boolean {
  if (refusal === undefined || refusal.version !== version) return true;
  return nowMs / 1000 >= refusal.atSeconds + retryAfterSeconds;
}

/**
 * Which targets to log in before their time, so that a wave of max TTLs
 * (a fleet bootstrapped on one day, a restore, a role's TTL cut) never asks
 * one run for more writes than it can make (pure).
 *
 * A target whose credential dies at `diesAt` can be acted on by every run
 * up to the last that starts before it dies: that run is its due run. Going
 * backwards from the furthest due run, whatever a run's budget cannot hold
 * is carried to the run before. What would be carried into the next run
 * and beyond is taken now, earliest death first: all of it inside each
 * target's safe window (it is logged in before it dies, only earlier). Runs
 * 0 and 1 are the planner's own (inside the horizon, with deferral).
 */
export function spreadEarly(
  targets: readonly TargetConfig[],
  ledger: FleetLedger,
  nowMs: number,
  intervalSeconds: number,
  writesPerRun: number,
): ReadonlySet<string> {
  const early = new Set<string>();
  if (ledger.size === 0 || writesPerRun <= 0) return early;
  const intervalMs = intervalSeconds * 1000;
  const due: { name: string; diesAt: number; run: number; writes: number }[] = [];
  for (const target of targets) {
    const diesAt = ledger.get(target.name)?.diesAtSeconds;
    if (diesAt === undefined) continue;
    // The last run that starts a minute or more before it dies.
    const run = Math.floor((diesAt * 1000 - 60_000 - nowMs) / intervalMs);
    if (run >= 2) due.push({ name: target.name, diesAt, run, writes: 1 + target.leases.length });
  }
  if (due.length === 0) return early;
  const byRun = new Map<number, number>();
  let furthest = 0;
  for (const d of due) {
    byRun.set(d.run, (byRun.get(d.run) ?? 0) + d.writes);
    furthest = Math.max(furthest, d.run);
  }
  let carried = 0;
  for (let run = furthest; run >= 2; run -= 1) {
    carried = Math.max(0, carried + (byRun.get(run) ?? 0) - writesPerRun);
  }
  due.sort((a, b) => a.diesAt - b.diesAt);
  for (const d of due) {
    if (carried <= 0) break;
    early.add(d.name);
    carried -= d.writes;
  }
  return early;
}
