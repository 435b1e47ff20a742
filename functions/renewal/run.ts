/**
 * One renewal run over many targets: read every secret in batches, process
 * targets with bounded concurrency until the deadline is near, publish one
 * message per problem worth telling and one change event per credential
 * changed (change-announcer.ts), return the report.
 *
 * A failure in one target never stops the others. The caller (the handler)
 * turns `publishFailures > 0` into a failed invocation, so a run that could
 * not tell anyone about a failure still shows up in Lambda's error metric.
 */

import pLimit from 'p-limit';
import type { RenewerConfig, TargetConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import type { Problem } from '../core/problems.js';
import { MIN_TARGET_BUDGET_MS, startRun } from '../core/run-scope.js';
import { READ_CONCURRENCY, SecretReads } from '../core/secret-reads.js';
import { createAlerting } from './alerting.js';
import { createChangeAnnouncer } from './change-announcer.js';
import {
  LeaseOutcome,
  type RunReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from './report.js';
import type { RenewalDeps, RunContext, RunLogger, RunRequest } from './run-context.js';
import { runTarget } from './run-target.js';
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

  const context: RunContext = {
    deps,
    request,
    scheduleIntervalSeconds: config.scheduleIntervalSeconds,
    secretIdWarnDays: config.secretIdWarnDays,
    signal,
  };

  const alerting = createAlerting(config, deps, request, selected);

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
  // a time, and `concurrency` workers take the targets in order, each as soon
  // as the calls holding its secrets have returned. Workers rather than a
  // pending promise per target made up front: those would live through the
  // whole run and make every garbage collection dearer (issue 13).
  const readLimit = pLimit(READ_CONCURRENCY);
  const secrets = new SecretReads(selected, (ids) =>
    readLimit(async () => {
      const remainingMs = request.deadlineAtMs - deps.now();
      return remainingMs < MIN_TARGET_BUDGET_MS ? undefined : deps.store.readBatch(ids, { signal });
    }),
  );
  const reports: TargetReport[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next; index < selected.length; index = next) {
      next = index + 1;
      const target = selected[index] as TargetConfig;
      const lookup = await secrets.forTarget(target);
      const remainingMs = request.deadlineAtMs - deps.now();
      try {
        if (lookup === undefined || remainingMs < MIN_TARGET_BUDGET_MS) {
          reports[index] = finish(target, deadlineSkip(target, remainingMs));
        } else {
          const run = await runTarget(target, lookup, context);
          if (!request.dryRun) changes.add(run.changes);
          reports[index] = finish(target, run.report);
        }
      } finally {
        secrets.release(target);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(config.concurrency, selected.length) }, worker));
  const told = await alerting.finish();
  const changeEvents = await changes.settle();

  const count = (status: TargetStatus): number => reports.filter((r) => r.status === status).length;
  const soonest = soonestExpirySeconds(reports);
  const secretIdTtls = reports.flatMap((r) =>
    r.secretIdExpiresInSeconds === undefined ? [] : [r.secretIdExpiresInSeconds],
  );
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
    notifications: { published: told.published, failed: told.failed },
    incidents: told.incidents,
    changeEvents,
    targets: reports,
  };
  return { report, publishFailures: told.failed };
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
