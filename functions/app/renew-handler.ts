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
import { type RunReport, type TargetReport, TargetStatus } from '../renewal/report.js';
import { runRenewal } from '../renewal/run.js';
import type { RenewalDeps } from '../renewal/run-context.js';
import { parseRenewEvent } from './renew-event.js';
import { fitResponse, type Omitted } from './response-size.js';
import { recordRunMetrics } from './run-metrics.js';

/** Time kept back from Lambda's remaining time to publish, log and return. */
export const DEADLINE_MARGIN_MS = 5_000;
/** Time kept back to log the summary, flush metrics and return after publishing. */
export const RETURN_MARGIN_MS = 1_000;

/** The run's dependencies (the clock defaults to Date.now), the config and the metrics. */
export interface RenewHandlerDeps extends Omit<RenewalDeps, 'now' | 'logger'> {
  readonly config: RenewerConfig;
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

export type RenewHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<RunReport & Omitted>;

export function createRenewHandler(deps: RenewHandlerDeps): RenewHandler {
  const now = deps.now ?? Date.now;
  const knownTargets = deps.config.targets.map((t) => t.name);
  return async (event, context) => {
    const startedMs = now();
    const remainingMs = context.getRemainingTimeInMillis();
    const request = parseRenewEvent(event, knownTargets);
    const runId = context.awsRequestId || randomUUID();
    deps.logger.appendKeys({ runId });
    deps.logger.info('run started', {
      trigger: request.trigger,
      dryRun: request.dryRun,
      forceRelogin: request.forceRelogin,
      targets: request.targets?.length ?? deps.config.targets.length,
    });
    const { report, publishFailures } = await runRenewal(
      deps.config,
      { ...deps, now },
      {
        ...request,
        runId,
        deadlineAtMs: startedMs + remainingMs - DEADLINE_MARGIN_MS,
        publishDeadlineAtMs: startedMs + remainingMs - RETURN_MARGIN_MS,
      },
    );
    recordRunMetrics(deps.metrics, report, {
      dryRun: request.dryRun,
      scheduled: request.trigger === 'schedule',
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
    return fitResponse<TargetReport, RunReport>(report, (t) => t.status !== TargetStatus.Ok);
  };
}
