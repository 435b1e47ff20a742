/**
 * One renewal run over many targets, within its budgets: load the ledger the
 * last run left (core/fleet-ledger.ts) and take the targets most urgent
 * first; read every secret in batches; visit the targets with workers that
 * grow when the deadline needs them, a target waiting for a write slot
 * parking meanwhile; then a second pass for the logins that could wait;
 * save the ledger, publish one message per problem worth telling (and one
 * per run cause) and one change event per credential changed
 * (telling/change-announcer.ts), and return the report with what it carried over.
 *
 * A failure in one target never stops the others. The caller (the handler)
 * turns `publishFailures > 0` into a failed invocation, so a run that could
 * not tell anyone about a failure still shows up in Lambda's error metric.
 */

import pLimit from 'p-limit';
import type { RenewerConfig, TargetConfig } from '../config/types.js';
import {
  type FleetLedger,
  nextLedger,
  orderByUrgency,
  spreadEarly,
  type TargetVisit,
} from '../core/fleet-ledger.js';
import { Severity } from '../core/notifier-port.js';
import type { Problem } from '../core/problems.js';
import { MIN_TARGET_BUDGET_MS, startRun } from '../core/run-scope.js';
import { READ_CONCURRENCY, type SecretLookup, SecretReads } from '../core/secret-reads.js';
import { describeAnswer } from '../core/wording.js';
import { createWriteBudget } from '../core/write-budget.js';
import { createChangeAnnouncer } from '../telling/change-announcer.js';
import { createAlerting } from './alerting.js';
import { TokenReason } from './planner.js';
import {
  type CarriedOver,
  LeaseOutcome,
  type RunReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from './report.js';
import type { RenewalDeps, RunContext, RunLogger, RunRequest } from './run-context.js';
import { runTarget, type TargetRun } from './run-target.js';
import { deadlineSkippedProblem } from './target-problems.js';

export interface RunResult {
  readonly report: RunReport;
  readonly publishFailures: number;
}

export { shouldPublish } from './alerting.js';

function skippedReport(target: TargetConfig, problem: Problem): TargetReport {
  return {
    target: target.name,
    status: TargetStatus.Skipped,
    token: { outcome: TokenOutcome.Untouched, reason: 'deadline' },
    leases: target.leases.map((l) => ({
      name: l.name,
      outcome: LeaseOutcome.Skipped,
      reason: 'deadline',
    })),
    problems: [problem],
    writes: 0,
    durationMs: 0,
  };
}

function soonestExpirySeconds(reports: readonly TargetReport[]): number | undefined {
  const ttls = reports.flatMap((r) => [
    ...(r.token.ttlSeconds === undefined ? [] : [r.token.ttlSeconds]),
    ...r.leases.flatMap((l) => (l.ttlSeconds === undefined ? [] : [l.ttlSeconds])),
  ]);
  return ttls.length === 0 ? undefined : Math.min(...ttls);
}

export async function runRenewal(
  config: RenewerConfig,
  deps: RenewalDeps,
  request: RunRequest,
): Promise<RunResult> {
  const { startedMs, selected, signal } = startRun(config, request, deps.now());
  const intervalSeconds = config.scheduleIntervalSeconds;
  const ledger = await loadLedger(config, deps, request, signal);
  // Most urgent first: a run that cannot reach every target leaves the ones that can wait.
  const ordered = orderByUrgency(selected, ledger, startedMs, intervalSeconds);
  const writes = createWriteBudget(config.pacing.writesPerSecond, deps.now);
  // Logins a wave of max TTLs will need in later runs than the budget allows, taken now.
  const usableSeconds = (request.deadlineAtMs - startedMs - MIN_TARGET_BUDGET_MS) / 1000;
  const early = request.dryRun
    ? new Set<string>()
    : spreadEarly(
        ordered,
        ledger,
        startedMs,
        intervalSeconds,
        // A fifth kept back for what this run finds that the ledger does not know.
        Math.floor(config.pacing.writesPerSecond * usableSeconds * 0.8),
      );

  const context: RunContext = {
    deps,
    request,
    scheduleIntervalSeconds: intervalSeconds,
    secretIdWarnDays: config.secretIdWarnDays,
    signal,
    ledger,
    reloginRetrySeconds: config.pacing.reloginRetrySeconds,
    writes,
    early,
    ...(config.retireReplacedSeconds === undefined
      ? {}
      : { retireReplacedSeconds: config.retireReplacedSeconds }),
  };

  const alerting = createAlerting(config, deps, request, ordered, {
    // A run cause told before can only have cleared when the last run left something.
    runCausesMayBeOpen: [...ledger.values()].some((e) => e.pending === true),
    fullRun: request.targets === undefined && request.batch === undefined,
  });

  // A dry run writes nothing, so it changes nothing to announce.
  const changes = createChangeAnnouncer(deps, request.publishDeadlineAtMs);
  const deadlineSkip = (target: TargetConfig, remainingMs: number): TargetReport =>
    skippedReport(target, deadlineSkippedProblem(remainingMs));
  // Decided once per run: a healthy target's DEBUG line costs its fields even when dropped.
  const level = deps.logger.getLevelName?.();
  const logsHealthy = level === undefined || level === 'DEBUG' || level === 'TRACE';
  const finish = (target: TargetConfig, report: TargetReport): TargetReport => {
    if (logsHealthy || report.status !== TargetStatus.Ok || report.problems.length > 0) {
      logTarget(deps.logger, report);
    }
    alerting.target(target, report.problems, report.status !== TargetStatus.Skipped);
    return report;
  };

  // Reads and renewals overlap: the reads run ahead, READ_CONCURRENCY calls at
  // a time, and the workers take the targets in order, each as soon as the
  // calls holding its secrets have returned. Workers rather than a pending
  // promise per target made up front: those would live through the whole run
  // and make every garbage collection dearer (issue 13).
  const readLimit = pLimit(READ_CONCURRENCY);
  const secrets = new SecretReads(ordered, (ids) =>
    readLimit(async () => {
      const remainingMs = request.deadlineAtMs - deps.now();
      return remainingMs < MIN_TARGET_BUDGET_MS ? undefined : deps.store.readBatch(ids, { signal });
    }),
  );
  const reports: TargetReport[] = [];
  const visits = new Map<string, TargetVisit>();
  let next = 0;
  let done = 0;
  let busyMs = 0;
  const workers: Promise<void>[] = [];
  // Targets waiting for a Secrets Manager write slot: they gave their worker back.
  const parked: Promise<void>[] = [];
  // Logins left while the run still visited targets, taken up again afterwards.
  const retries: { index: number; target: TargetConfig; diesAt: number; first: TargetRun }[] = [];
  /**
   * Runs one target; resolves when it is done, or as soon as it parks (it
   * waits for a write slot, earliest death first), so its worker visits the
   * next target meanwhile: a wave of logins never stalls the renewals. In
   * the first pass a login that can wait for the next run and finds the
   * budget busy is held for the second pass, not queued.
   */
  const visit = (
    index: number,
    target: TargetConfig,
    lookup: SecretLookup,
    reads: SecretReads,
    firstPass: boolean,
  ): Promise<void> =>
    new Promise<void>((turnOver) => {
      const startedMs = deps.now();
      let parkedAtMs: number | undefined;
      let finished: (() => void) | undefined;
      const park = (): void => {
        if (parkedAtMs !== undefined) return;
        parkedAtMs = deps.now();
        parked.push(
          new Promise<void>((resolve) => {
            finished = resolve;
          }),
        );
        turnOver();
      };
      runTarget(target, lookup, firstPass ? { ...context, park } : context)
        .then((run) => {
          if (firstPass && run.report.token.outcome === TokenOutcome.Deferred) {
            // Its secrets are read again then: holding thousands meanwhile would fill the heap.
            const diesAt = run.visit.diesAtSeconds ?? Number.POSITIVE_INFINITY;
            retries.push({ index, target, diesAt, first: run });
            return;
          }
          if (!request.dryRun) changes.add(run.changes);
          reports[index] = finish(target, run.report);
          visits.set(target.name, run.visit);
        })
        .finally(() => {
          reads.release(target);
          done += 1;
          busyMs += (parkedAtMs ?? deps.now()) - startedMs;
          finished?.();
          turnOver();
        });
    });
  const worker = async (): Promise<void> => {
    for (let index = next; index < ordered.length; index = next) {
      next = index + 1;
      const target = ordered[index] as TargetConfig;
      const lookup = await secrets.forTarget(target);
      const remainingMs = request.deadlineAtMs - deps.now();
      if (lookup === undefined || remainingMs < MIN_TARGET_BUDGET_MS) {
        reports[index] = finish(target, deadlineSkip(target, remainingMs));
        visits.set(target.name, { visited: false, pending: true });
        secrets.release(target);
        continue;
      }
      await visit(index, target, lookup, secrets, true);
      grow();
    }
  };
  /** The second pass: the logins held back, soonest death first, each waiting for its write slot. */
  const retryWorker = async (reads: SecretReads): Promise<void> => {
    for (let item = retries.shift(); item !== undefined; item = retries.shift()) {
      const lookup = await reads.forTarget(item.target);
      if (lookup === undefined || request.deadlineAtMs - deps.now() < MIN_TARGET_BUDGET_MS) {
        // Out of time: it stays as the first pass left it, deferred to the next run.
        reports[item.index] = finish(item.target, item.first.report);
        visits.set(item.target.name, item.first.visit);
        reads.release(item.target);
        continue;
      }
      await visit(item.index, item.target, lookup, reads, false);
    }
  };
  /**
   * Adds workers when the targets left would not be visited within a third
   * of the time left at the pace so far, up to `pacing.maxConcurrency`: a
   * visit is what tells which credentials die first, and the rest of the
   * time goes to the logins it parked and the second pass. The Vault request
   * budget (the client's pacer) and the write budget hold the rates whatever
   * the number of workers; a healthy, fast run never grows.
   */
  const grow = (): void => {
    const left = ordered.length - next;
    if (left <= 0 || workers.length >= config.pacing.maxConcurrency) return;
    const timeLeftMs = request.deadlineAtMs - deps.now() - MIN_TARGET_BUDGET_MS;
    const needed = Math.ceil((3 * left * (busyMs / done)) / Math.max(1, timeLeftMs));
    const target = Math.min(config.pacing.maxConcurrency, needed, workers.length + left);
    while (workers.length < target) workers.push(worker());
  };
  for (let i = 0; i < Math.min(config.concurrency, ordered.length); i += 1) {
    workers.push(worker());
  }
  // Workers added while waiting are waited for too, then the parked targets.
  for (let i = 0; i < workers.length; i += 1) await workers[i];
  for (let i = 0; i < parked.length; i += 1) await parked[i];
  if (retries.length > 0) {
    retries.sort((a, b) => a.diesAt - b.diesAt);
    const again = new SecretReads(
      retries.map((r) => r.target),
      (ids) =>
        readLimit(async () => {
          const remainingMs = request.deadlineAtMs - deps.now();
          return remainingMs < MIN_TARGET_BUDGET_MS
            ? undefined
            : deps.store.readBatch(ids, { signal });
        }),
    );
    const retrying = Math.min(config.pacing.maxConcurrency, retries.length);
    await Promise.all(Array.from({ length: retrying }, () => retryWorker(again)));
  }

  if (!request.dryRun) {
    await saveLedger(config, deps, ledger, visits, request);
  }
  const told = await alerting.finish();
  const changeEvents = await changes.settle();

  const count = (status: TargetStatus): number => reports.filter((r) => r.status === status).length;
  const soonest = soonestExpirySeconds(reports);
  const secretIdTtls = reports.flatMap((r) =>
    r.secretIdExpiresInSeconds === undefined ? [] : [r.secretIdExpiresInSeconds],
  );
  const vaultPacing = deps.vaultPacing?.();
  const report: RunReport = {
    runId: request.runId,
    dryRun: request.dryRun,
    startedAt: new Date(startedMs).toISOString(),
    durationMs: deps.now() - startedMs,
    summary: {
      targets: reports.length,
      ok: count(TargetStatus.Ok),
      changed: count(TargetStatus.Changed),
      failed: count(TargetStatus.Failed),
      skipped: count(TargetStatus.Skipped),
      unknown: count(TargetStatus.Unknown),
      problems: reports.reduce((n, r) => n + r.problems.length, 0),
      ...(soonest === undefined ? {} : { soonestExpirySeconds: soonest }),
      ...(secretIdTtls.length === 0
        ? {}
        : { soonestSecretIdExpirySeconds: Math.min(...secretIdTtls) }),
    },
    pacing: {
      concurrency: workers.length,
      secretsManagerWrites: writes.figures().granted,
      writesWaited: writes.figures().waited,
      earlyLogins: reports.filter((r) => r.token.reason === TokenReason.MaxTtlSpread).length,
      ...(vaultPacing === undefined ? {} : { vaultThrottled: vaultPacing.throttled }),
    },
    ...carriedOverOf(reports, visits),
    notifications: { published: told.published, failed: told.failed },
    incidents: told.incidents,
    changeEvents,
    targets: reports,
  };
  return { report, publishFailures: told.failed };
}

/** At most this many names per reason in the report's `carriedOver`. */
const NAMED_CARRIED_OVER = 10;

/** What the run left for the next one, and why (absent when it left nothing). */
function carriedOverOf(
  reports: readonly TargetReport[],
  visits: ReadonlyMap<string, TargetVisit>,
): { carriedOver?: CarriedOver } {
  const deadline = reports.filter((r) => r.status === TargetStatus.Skipped).map((r) => r.target);
  const deferred = reports
    .filter((r) => r.token.outcome === TokenOutcome.Deferred)
    .map((r) => r.target);
  // Refused now, or held back by an earlier refusal: waiting for a new AppRole secret version.
  const heldBack = reports
    .filter((r) => {
      const refused = visits.get(r.target)?.refusedLogin;
      return refused !== undefined && refused !== null;
    })
    .map((r) => r.target);
  if (deadline.length + deferred.length + heldBack.length === 0) return {};
  const part = (names: readonly string[]) => ({
    count: names.length,
    targets: names.slice(0, NAMED_CARRIED_OVER),
  });
  return {
    carriedOver: {
      ...(deadline.length === 0 ? {} : { deadline: part(deadline) }),
      ...(deferred.length === 0 ? {} : { writeBudget: part(deferred) }),
      ...(heldBack.length === 0 ? {} : { refusedLogin: part(heldBack) }),
    },
  };
}

/** The ledger the last run left; empty (config order, no refusal known) when it cannot be read. */
async function loadLedger(
  config: RenewerConfig,
  deps: RenewalDeps,
  request: RunRequest,
  signal: AbortSignal,
): Promise<FleetLedger> {
  if (deps.ledger === undefined) return new Map();
  try {
    return await deps.ledger.load(config.targets.length, {
      signal,
      ...(request.batch === undefined ? {} : { partition: request.batch.ledgerPartition }),
    });
  } catch (error) {
    deps.logger.error('run ledger unavailable: targets in config order, earlier refusals unknown', {
      error: describeAnswer(error),
    });
    return new Map();
  }
}

/** Longest the ledger's save may take. */
const LEDGER_SAVE_TIMEOUT_MS = 5_000;

async function saveLedger(
  config: RenewerConfig,
  deps: RenewalDeps,
  previous: FleetLedger,
  visits: ReadonlyMap<string, TargetVisit>,
  request: RunRequest,
): Promise<void> {
  const { publishDeadlineAtMs } = request;
  if (deps.ledger === undefined) return;
  const next = nextLedger(
    previous,
    config.targets,
    visits,
    deps.now(),
    config.scheduleIntervalSeconds,
  );
  try {
    // Its own budget, not the run's signal: a run that used its time to the
    // deadline must still leave what it learnt (a refusal above all).
    const budgetMs = Math.min(LEDGER_SAVE_TIMEOUT_MS, publishDeadlineAtMs - deps.now());
    await deps.ledger.save(next, previous, config.targets.length, {
      signal: AbortSignal.timeout(Math.max(1, budgetMs)),
      ...(request.batch === undefined ? {} : { partition: request.batch.ledgerPartition }),
    });
  } catch (error) {
    deps.logger.error('run ledger not saved: the next run takes targets in config order', {
      error: describeAnswer(error),
    });
  }
}

function logTarget(logger: RunLogger, report: TargetReport): void {
  const fields = {
    target: report.target,
    status: report.status,
    token: report.token,
    leases: report.leases,
    writes: report.writes,
    durationMs: report.durationMs,
  };
  // A healthy target is the common case: one DEBUG line keeps the log (and
  // its CloudWatch bill) proportional to what needs attention. Set
  // POWERTOOLS_LOG_LEVEL=DEBUG to see every target.
  if (report.status === TargetStatus.Ok) {
    logger.debug('target processed', fields);
  } else {
    logger.info('target processed', fields);
  }
  for (const problem of report.problems) {
    const entry = { target: report.target, problem };
    if (problem.severity === Severity.Critical || problem.severity === Severity.Error) {
      logger.error(problem.summary, entry);
    } else if (problem.severity === Severity.Warning) {
      logger.warn(problem.summary, entry);
    } else {
      logger.info(problem.summary, entry);
    }
  }
}
