/**
 * The diagnose function's body, built from its dependencies so the Lambda
 * entry point (`functions/diagnose.ts`), `npm run diagnose` and the
 * integration tests run the very same code with different wiring.
 */

import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { RenewerConfig } from '../config/types.js';
import type { IncidentStore } from '../core/incident-port.js';
import type { Notifier } from '../core/notifier-port.js';
import type { SecretStagingStore } from '../core/staging-port.js';
import type { SecretsStore } from '../core/store-port.js';
import { describeAnswer } from '../core/wording.js';
import type { DiagnoseVault } from '../diagnosis/observe-target.js';
import { renderDiagnosisLines } from '../diagnosis/render-text.js';
import type { DiagnosisReport, TargetDiagnosis } from '../diagnosis/report.js';
import { runDiagnosis } from '../diagnosis/run-diagnosis.js';
import { composeDiagnosisSummary } from '../diagnosis/summary-message.js';
import { Verdict } from '../diagnosis/verdict.js';
import { createTeller } from '../telling/teller.js';
import { parseDiagnoseEvent } from './diagnose-event.js';
import { DEADLINE_MARGIN_MS, RETURN_MARGIN_MS } from './renew-handler.js';
import { fitResponse, MAX_RESPONSE_BYTES, type Omitted } from './response-size.js';
import { fixedSupply, type TargetSupply } from './target-supply.js';

export interface DiagnoseHandlerDeps {
  readonly config: RenewerConfig;
  /** Where the targets come from when they live in the targets object (default: `config`'s). */
  readonly supply?: TargetSupply;
  readonly vault: DiagnoseVault;
  /** Read only: diagnose never writes a secret. */
  readonly store: Pick<SecretsStore, 'readBatch'>;
  /** Incident state, to list each target's open incidents (read only). */
  readonly incidents?: Pick<IncidentStore, 'readBatch'>;
  /** DescribeSecret, for each target's rotation status (read only). */
  readonly describe?: Pick<SecretStagingStore, 'describe'>;
  /** OIDC discovery, for the jwt targets' issuer check (default: fetch). */
  readonly discover?: (url: string, signal: AbortSignal) => Promise<string>;
  readonly notifier: Notifier;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** The report, plus the SNS summary's fate and the report as text lines for the console. */
export interface DiagnoseResult extends DiagnosisReport, Omitted {
  readonly notification:
    | { readonly requested: false }
    | { readonly requested: true; readonly published: true }
    | { readonly requested: true; readonly published: false; readonly error: string };
  /** The check tables as text, one line per entry; for humans, not for parsing. */
  readonly table: readonly string[];
}

export type DiagnoseHandler = (
  event: unknown,
  context: Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>,
) => Promise<DiagnoseResult>;

export function createDiagnoseHandler(deps: DiagnoseHandlerDeps): DiagnoseHandler {
  const now = deps.now ?? Date.now;
  const supply = deps.supply ?? fixedSupply(deps.config);
  return async (event, context) => {
    const config = await supply.current();
    const request = parseDiagnoseEvent(
      event,
      config.targets.map((t) => t.name),
    );
    const runId = context.awsRequestId || randomUUID();
    deps.logger.appendKeys({ runId });
    deps.logger.info('diagnose started', {
      login: request.login,
      notify: request.notify,
      targets: request.targets?.length ?? config.targets.length,
    });
    const report = await runDiagnosis(
      config,
      {
        vault: deps.vault,
        store: deps.store,
        ...(deps.describe === undefined ? {} : { describe: deps.describe }),
        ...(deps.incidents === undefined ? {} : { incidents: deps.incidents }),
        discover: deps.discover ?? discoverIssuer,
        now,
      },
      {
        runId,
        ...(request.targets === undefined ? {} : { targets: request.targets }),
        login: request.login,
        deadlineAtMs: now() + context.getRemainingTimeInMillis() - DEADLINE_MARGIN_MS,
      },
    );
    for (const target of report.targets) {
      // Thousands of healthy targets would drown the ones that need attention.
      const log = target.verdict === Verdict.Healthy ? deps.logger.debug : deps.logger.info;
      log.call(deps.logger, 'target diagnosed', {
        target: target.target,
        verdict: target.verdict,
        ...(target.breaksAt === undefined ? {} : { breaksAt: target.breaksAt }),
        because: target.because,
        ...(target.error === undefined ? {} : { error: target.error }),
      });
    }

    let notification: DiagnoseResult['notification'] = { requested: false };
    if (request.notify) {
      // Told like every other message (telling/teller.ts): within the time left, logged when it fails.
      let failure: string | undefined;
      const teller = createTeller(
        { notifier: deps.notifier, logger: deps.logger, now },
        {
          publishDeadlineAtMs: now() + context.getRemainingTimeInMillis() - RETURN_MARGIN_MS,
          publishFailed: (_message, error) => {
            failure = describeAnswer(error);
          },
        },
      );
      await teller.send(composeDiagnosisSummary(report), { summary: 'diagnosis' });
      // The report is still the answer the operator asked for; it says the summary failed.
      notification =
        failure === undefined
          ? { requested: true, published: true }
          : { requested: true, published: false, error: failure };
    }
    deps.logger.info('diagnose finished', { summary: report.summary, notification });
    // The text table repeats the targets: half of Lambda's response for each.
    const fitted = fitResponse<TargetDiagnosis, DiagnosisReport>(
      report,
      (target) => target.verdict !== Verdict.Healthy,
      MAX_RESPONSE_BYTES / 2,
    );
    return { ...fitted, notification, table: renderDiagnosisLines(fitted) };
  };
}

/** The issuer `url`'s OIDC discovery document names (public: no credentials, no secrets). */
export async function discoverIssuer(url: string, signal: AbortSignal): Promise<string> {
  const answer = await fetch(`${url.replace(/\/+$/, '')}/.well-known/openid-configuration`, {
    signal,
  });
  if (!answer.ok) throw new Error(`discovery answered HTTP ${answer.status}`);
  const document = (await answer.json()) as { issuer?: unknown };
  if (typeof document.issuer !== 'string')
    throw new Error('the discovery document names no issuer');
  return document.issuer;
}
