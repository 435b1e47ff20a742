/**
 * The last step of a run fanned out by Step Functions (the aggregate
 * function): reads what the Distributed Map left in S3, combines the
 * batches into one run report (written to S3 beside the results), settles
 * the run causes as a whole run does, tells one message when batches
 * failed, and counts the run once: `RunsCompleted` (the heartbeat) and a
 * `Failures` datapoint per failed batch, so a failed batch is never a
 * silent gap.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod/mini';
import type { MapRunResults } from '../aws/map-results.js';
import type { RenewerConfig, TargetConfig } from '../config/types.js';
import type { IncidentStore } from '../core/incident-port.js';
import { composeMessage } from '../core/notification.js';
import { type Notifier, Severity } from '../core/notifier-port.js';
import { ProblemCode } from '../core/problems.js';
import { combineBatches, type FannedOutReport, settleRunCauses } from '../renewal/fan-out.js';
import type { BatchResult } from '../renewal/report.js';
import { RETURN_MARGIN_MS } from './renew-handler.js';
import { METRIC } from './run-metrics.js';
import '../config/zod-locale.js';

export const AGGREGATE_METRIC = {
  /** Batches Step Functions gave up on after its retries. */
  BatchesFailed: 'BatchesFailed',
} as const;

const aggregateEvent = z.strictObject({
  runId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
  startedAt: z.string().check(z.minLength(1)),
  results: z.looseObject({
    Bucket: z.string().check(z.minLength(3)),
    Key: z.string().check(z.minLength(1)),
  }),
});

export class InvalidAggregateEventError extends Error {
  override name = 'InvalidAggregateEventError';
}

export interface AggregateDeps {
  /** The shipped config (its settings; its targets may be none). */
  readonly config: RenewerConfig;
  /** One target to name in run-wide messages when the config lists none inline. */
  readonly firstTarget: () => Promise<TargetConfig | undefined>;
  readonly readResults: (bucket: string, manifestKey: string) => Promise<MapRunResults>;
  readonly writeReport: (bucket: string, key: string, report: FannedOutReport) => Promise<void>;
  readonly notifier: Notifier;
  readonly incidents?: IncidentStore;
  readonly serviceName: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

export type AggregateHandler = (
  event: unknown,
  context: { getRemainingTimeInMillis(): number },
) => Promise<Omit<FannedOutReport, 'targets'> & { readonly report: string }>;

function isBatchResult(value: unknown): value is BatchResult {
  return typeof value === 'object' && value !== null && (value as BatchResult).batch === true;
}

export function createAggregateHandler(deps: AggregateDeps): AggregateHandler {
  const now = deps.now ?? Date.now;
  return async (event, context) => {
    const parsed = z.safeParse(aggregateEvent, event);
    if (!parsed.success) {
      throw new InvalidAggregateEventError(
        `Unrecognised event (${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ')}); the state machine sends {"runId", "startedAt", "results": {"Bucket", "Key"}}`,
      );
    }
    const { runId, startedAt, results } = parsed.data;
    deps.logger.appendKeys({ runId });
    const read = await deps.readResults(results.Bucket, results.Key);
    const batches = read.succeeded.filter(isBatchResult);
    // A child that succeeded without a batch's result is a batch whose targets nobody saw.
    const unreadable = read.succeeded.length - batches.length;
    const failed = [
      ...read.failed,
      ...Array.from({ length: unreadable }, () => ({ error: 'UnreadableResult' })),
    ];
    const startedAtMs = Date.parse(startedAt);
    const report = combineBatches(
      { runId, startedAtMs: Number.isNaN(startedAtMs) ? now() : startedAtMs, endedAtMs: now() },
      batches,
      failed,
    );
    const reportKey = `reports/${runId}.json`;
    await deps.writeReport(results.Bucket, reportKey, report);

    const publishDeadlineAtMs = now() + context.getRemainingTimeInMillis() - RETURN_MARGIN_MS;
    const representative = deps.config.targets[0] ?? (await deps.firstTarget());
    if (representative !== undefined) {
      const alertingDeps = {
        notifier: deps.notifier,
        logger: deps.logger,
        now,
        serviceName: deps.serviceName,
        ...(deps.incidents === undefined ? {} : { incidents: deps.incidents }),
      };
      await settleRunCauses(
        { ...deps.config, targets: [representative] },
        alertingDeps,
        { runId, publishDeadlineAtMs },
        report.runCauses,
      );
      if (failed.length > 0) {
        const reasons = Object.entries(report.failedBatches)
          .map(([error, count]) => `${count} ${error}`)
          .join(', ');
        await deps.notifier.publish(
          composeMessage(
            {
              code: ProblemCode.BatchesFailed,
              severity: Severity.Error,
              summary: `${failed.length} of ${failed.length + batches.length} batches of run ${runId} failed after Step Functions' retries (${reasons}): their targets were not renewed in this run.`,
            },
            representative,
            {
              service: deps.serviceName,
              runId,
              occurredAt: new Date(now()).toISOString(),
              intervalSeconds: deps.config.scheduleIntervalSeconds,
              dryRun: false,
            },
          ),
          { signal: AbortSignal.timeout(Math.max(1, publishDeadlineAtMs - now())) },
        );
      }
    }

    deps.metrics.addMetric(METRIC.RunsCompleted, MetricUnit.Count, 1);
    deps.metrics.addMetric(METRIC.RunDuration, MetricUnit.Milliseconds, report.durationMs);
    deps.metrics.addMetric(AGGREGATE_METRIC.BatchesFailed, MetricUnit.Count, failed.length);
    // Each failed batch is a failure the failure alarm sees, like a target left broken.
    deps.metrics.addMetric(METRIC.Failures, MetricUnit.Count, failed.length);
    deps.metrics.publishStoredMetrics();
    const { targets: _, ...summary } = report;
    deps.logger.info('fanned-out run finished', { ...summary, report: reportKey });
    return { ...summary, report: reportKey };
  };
}
