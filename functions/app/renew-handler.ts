/**
 * The renew function's body, built from its dependencies so the Lambda entry
 * point (`functions/renew.ts`), `npm start` and the integration tests run the
 * very same code with different wiring.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { RenewerConfig } from '../config/types.js';
import { runCausesOf } from '../renewal/alerting.js';
import {
  type BatchResult,
  type RunReport,
  type TargetReport,
  TargetStatus,
} from '../renewal/report.js';

export type { BatchResult } from '../renewal/report.js';

import { runRenewal } from '../renewal/run.js';
import type { RenewalDeps, RunRequest } from '../renewal/run-context.js';
import {
  type BatchRequest,
  parseBatchEvent,
  parseRenewEvent,
  type RenewEvent,
} from './renew-event.js';
import { fitResponse, type Omitted } from './response-size.js';
import { recordRunMetrics } from './run-metrics.js';
import { fixedSupply, type TargetSupply } from './target-supply.js';

/** Time kept back from Lambda's remaining time to publish, log and return. */
export const DEADLINE_MARGIN_MS = 5_000;
/** Time kept back to log the summary, flush metrics and return after publishing. */
export const RETURN_MARGIN_MS = 1_000;

/** The run's dependencies (the clock defaults to Date.now), the config and the metrics. */
export interface RenewHandlerDeps extends Omit<RenewalDeps, 'now' | 'logger'> {
  /** The shipped config: settings and inline targets. */
  readonly config: RenewerConfig;
  /** Where each run gets its targets when they live in the targets object (default: `config`'s). */
  readonly supply?: TargetSupply;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly now?: () => number;
}

/** Thrown after every target was processed when some failure could not be published. */
export class NotificationFailedError extends Error {
  public constructor(failed: number) {
    super(
      `${failed} notification(s) could not be published to SNS; every target was processed (see the report in the logs)`,
    );
    this.name = 'NotificationFailedError';
  }
}

/** Largest batch result: Step Functions passes at most 256 KB between states. */
export const MAX_BATCH_RESULT_BYTES = 200 * 1024;

export type RenewHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<RunReport & Omitted>;

export type BatchHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<BatchResult>;

/** A batch's share of the run: its targets, and its part of the run's write budget. */
function batchConfig(config: RenewerConfig, batch: BatchRequest): RenewerConfig {
  return {
    ...config,
    targets: batch.items,
    pacing: {
      ...config.pacing,
      writesPerSecond: config.pacing.writesPerSecond / batch.concurrency,
    },
  };
}

/** One run over `config`'s targets, as either handler asks for it. */
async function renew(
  deps: RenewHandlerDeps,
  config: RenewerConfig,
  request: RenewEvent,
  run: Pick<RunRequest, 'runId' | 'batch'>,
  remainingMs: number,
): Promise<RunReport> {
  const now = deps.now ?? Date.now;
  const startedMs = now();
  deps.logger.appendKeys({ runId: run.runId });
  deps.logger.info('run started', {
    trigger: run.batch === undefined ? request.trigger : 'batch',
    dryRun: request.dryRun,
    forceRelogin: request.forceRelogin,
    targets: request.targets?.length ?? config.targets.length,
  });
  const { trigger: _, ...asked } = request;
  const { report, publishFailures } = await runRenewal(
    config,
    { ...deps, now },
    {
      ...asked,
      ...run,
      deadlineAtMs: startedMs + remainingMs - DEADLINE_MARGIN_MS,
      publishDeadlineAtMs: startedMs + remainingMs - RETURN_MARGIN_MS,
    },
  );
  recordRunMetrics(deps.metrics, report, {
    dryRun: request.dryRun,
    // A batch is not a run: the run's last step counts the run once.
    scheduled: request.trigger === 'schedule' && run.batch === undefined,
  });
  deps.metrics.publishStoredMetrics();
  deps.logger.info('run finished', {
    summary: report.summary,
    notifications: report.notifications,
    changeEvents: report.changeEvents,
  });
  if (publishFailures > 0) {
    throw new NotificationFailedError(publishFailures);
  }
  return report;
}

export function createRenewHandler(deps: RenewHandlerDeps): RenewHandler {
  const supply = deps.supply ?? fixedSupply(deps.config);
  return async (event, context) => {
    const remainingMs = context.getRemainingTimeInMillis();
    const config = await supply.current();
    const request = parseRenewEvent(
      event,
      config.targets.map((t) => t.name),
    );
    const runId = context.awsRequestId || randomUUID();
    const report = await renew(deps, config, request, { runId }, remainingMs);
    return fitResponse<TargetReport, RunReport>(report, (t) => t.status !== TargetStatus.Ok);
  };
}

/**
 * One batch of a run fanned out by Step Functions: the batch's targets (they
 * come in the event, the targets object is not read), a share of the write
 * budget, a ledger of its own, and a small result for the run's last step.
 */
export function createBatchHandler(deps: RenewHandlerDeps): BatchHandler {
  return async (event, context) => {
    const remainingMs = context.getRemainingTimeInMillis();
    const batch = parseBatchEvent(event);
    const report = await renew(
      deps,
      batchConfig(deps.config, batch),
      { trigger: 'schedule', dryRun: false, forceRelogin: false },
      {
        runId: batch.runId,
        // Named after its first target: stable while the targets object is.
        batch: { ledgerPartition: `batch-${batch.items[0]?.name ?? 'none'}` },
      },
      remainingMs,
    );
    const result: BatchResult = {
      batch: true,
      runId: batch.runId,
      durationMs: report.durationMs,
      summary: report.summary,
      pacing: report.pacing,
      notifications: report.notifications,
      changeEvents: report.changeEvents,
      ...(report.incidents === undefined ? {} : { incidents: report.incidents }),
      runCauses: runCausesOf(report.targets),
      targets: report.targets.filter((t) => t.status !== TargetStatus.Ok),
    };
    return fitResponse<TargetReport, BatchResult>(result, () => true, MAX_BATCH_RESULT_BYTES);
  };
}
