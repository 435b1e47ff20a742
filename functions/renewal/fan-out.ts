/**
 * The last step of a run fanned out by Step Functions: the batches' results
 * combined into one run report, and the run causes settled as a whole run
 * settles them. A run cause a batch hit was told by that batch (an incident,
 * claimed once across the concurrent batches); one no batch hit resolves
 * here, since no batch alone saw the whole run.
 */

import type { RenewerConfig } from '../config/types.js';
import type { TellingSummary } from '../telling/teller.js';
import { type AlertingDeps, createAlerting } from './alerting.js';
import type { BatchResult, RunReport, TargetReport } from './report.js';
import type { RunRequest } from './run-context.js';

/** A batch the engine gave up on after its retries: its targets were not renewed this run. */
export interface FailedBatch {
  /** Step Functions' error name (`States.Timeout`, `Lambda.ServiceException`, ...). */
  readonly error: string;
  /** How many targets it held, when known. */
  readonly targets?: number;
}

/** The run as one report: every batch's counts, the targets that were not ok, failed batches. */
export interface FannedOutReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly batches: { readonly succeeded: number; readonly failed: number };
  /** Why batches failed, by error name. */
  readonly failedBatches: Readonly<Record<string, number>>;
  readonly summary: RunReport['summary'];
  readonly notifications: RunReport['notifications'];
  readonly changeEvents: RunReport['changeEvents'];
  readonly incidents: { readonly opened: number; readonly resolved: number };
  readonly secretsManagerWrites: number;
  readonly runCauses: readonly string[];
  readonly targets: readonly TargetReport[];
}

const minOf = (values: readonly (number | undefined)[]): number | undefined => {
  const known = values.filter((v): v is number => v !== undefined);
  return known.length === 0 ? undefined : Math.min(...known);
};

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

export function combineBatches(
  run: { readonly runId: string; readonly startedAtMs: number; readonly endedAtMs: number },
  results: readonly BatchResult[],
  failed: readonly FailedBatch[],
): FannedOutReport {
  const summaries = results.map((r) => r.summary);
  const soonest = minOf(summaries.map((s) => s.soonestExpirySeconds));
  const soonestSecretId = minOf(summaries.map((s) => s.soonestSecretIdExpirySeconds));
  const failedBatches: Record<string, number> = {};
  for (const batch of failed) failedBatches[batch.error] = (failedBatches[batch.error] ?? 0) + 1;
  return {
    runId: run.runId,
    startedAt: new Date(run.startedAtMs).toISOString(),
    durationMs: Math.max(0, run.endedAtMs - run.startedAtMs),
    batches: { succeeded: results.length, failed: failed.length },
    failedBatches,
    summary: {
      targets: sum(summaries.map((s) => s.targets)),
      ok: sum(summaries.map((s) => s.ok)),
      changed: sum(summaries.map((s) => s.changed)),
      failed: sum(summaries.map((s) => s.failed)),
      skipped: sum(summaries.map((s) => s.skipped)),
      unknown: sum(summaries.map((s) => s.unknown)),
      problems: sum(summaries.map((s) => s.problems)),
      ...(soonest === undefined ? {} : { soonestExpirySeconds: soonest }),
      ...(soonestSecretId === undefined ? {} : { soonestSecretIdExpirySeconds: soonestSecretId }),
    },
    notifications: {
      published: sum(results.map((r) => r.notifications.published)),
      failed: sum(results.map((r) => r.notifications.failed)),
    },
    changeEvents: {
      published: sum(results.map((r) => r.changeEvents.published)),
      failed: sum(results.map((r) => r.changeEvents.failed)),
    },
    incidents: {
      opened: sum(results.map((r) => r.incidents?.opened ?? 0)),
      resolved: sum(results.map((r) => r.incidents?.resolved ?? 0)),
    },
    secretsManagerWrites: sum(results.map((r) => r.pacing.secretsManagerWrites)),
    runCauses: [...new Set(results.flatMap((r) => r.runCauses))].sort(),
    targets: results.flatMap((r) => r.targets),
  };
}

/**
 * Resolves the run causes no batch hit (targets left for the deadline,
 * writes deferred for the budget), as a whole run that hit none does. The
 * causes batches hit stay open: they told them.
 */
export async function settleRunCauses(
  config: RenewerConfig,
  deps: AlertingDeps,
  request: Pick<RunRequest, 'runId' | 'publishDeadlineAtMs'>,
  runCausesHit: readonly string[],
): Promise<TellingSummary> {
  const alerting = createAlerting(
    config,
    deps,
    { ...request, dryRun: false, forceRelogin: false, deadlineAtMs: request.publishDeadlineAtMs },
    config.targets.slice(0, 1),
    { runCausesMayBeOpen: true, fullRun: true, runCausesHit: new Set(runCausesHit) },
  );
  return alerting.finish();
}
