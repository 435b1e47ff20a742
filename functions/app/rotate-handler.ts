/**
 * The rotate function's body, built from its dependencies so the Lambda
 * entry point (`functions/rotate.ts`), `npm run rotate` and the tests run the
 * same code with different wiring.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { RenewerConfig } from '../config/types.js';
import { describeAnswer } from '../core/wording.js';
import { type RotateDeps, type RotationReport, rotateStep } from '../rotation/rotate.js';
import { parseRotateEvent } from './rotate-event.js';
import { fixedSupply, type TargetSupply } from './target-supply.js';

/** Time kept back from Lambda's remaining time to publish a failure and return. */
export const ROTATE_MARGIN_MS = 3_000;
/** Time kept back after the last publish to log the report and return. */
const PUBLISH_MARGIN_MS = 1_000;

export interface RotateHandlerDeps extends Omit<RotateDeps, 'now'> {
  readonly config: RenewerConfig;
  /** Where the targets come from when they live in the targets object (default: `config`'s). */
  readonly supply?: TargetSupply;
  readonly logger: Logger;
  readonly now?: () => number;
}

export type RotateHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<RotationReport>;

export function createRotateHandler(deps: RotateHandlerDeps): RotateHandler {
  const now = deps.now ?? Date.now;
  const supply = deps.supply ?? fixedSupply(deps.config);
  return async (event, context) => {
    const request = parseRotateEvent(event);
    const runId = context.awsRequestId || randomUUID();
    deps.logger.appendKeys({ runId });
    // The secret's name and the version id are not secret; its values never reach a log.
    deps.logger.info('rotation step started', {
      step: request.step,
      secret: request.secretId,
      versionId: request.token,
    });
    const remainingMs = context.getRemainingTimeInMillis();
    const signal = AbortSignal.timeout(Math.max(1_000, remainingMs - ROTATE_MARGIN_MS));
    // A failure's message must still go out after the step used its time.
    const publishDeadlineAtMs = now() + Math.max(1_000, remainingMs - PUBLISH_MARGIN_MS);
    try {
      const report = await rotateStep(
        await supply.current(signal),
        { ...deps, now },
        { ...request, runId, signal, publishDeadlineAtMs },
      );
      deps.logger.info('rotation step finished', { report });
      return report;
    } catch (error) {
      deps.logger.error('rotation step failed', {
        step: request.step,
        secret: request.secretId,
        versionId: request.token,
        error: describeAnswer(error),
      });
      throw error;
    }
  };
}
