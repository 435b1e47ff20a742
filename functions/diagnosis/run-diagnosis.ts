/**
 * One diagnose invocation over many targets: read every secret in batches,
 * observe targets with bounded concurrency until the deadline is near, check
 * and judge each, return the report. Reads only (see observe-target.ts for
 * the one asked-for exception, the login test).
 */

import pLimit from 'p-limit';
import type { RenewerConfig, TargetConfig } from '../config/types.js';
import type { IncidentItem, IncidentStore } from '../core/incident-port.js';
import { MIN_TARGET_BUDGET_MS, startRun } from '../core/run-scope.js';
import { READ_CONCURRENCY, readAllSecrets } from '../core/secret-reads.js';
import type { SecretStagingStore } from '../core/staging-port.js';
import type { SecretsStore } from '../core/store-port.js';
import type { VaultEndpoint, VaultHealth } from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import { incidentScopesOf, readIncidentItems } from '../telling/incident-reads.js';
import type { Observed } from './observations.js';
import { type DiagnoseVault, observe, observeTarget } from './observe-target.js';
import {
  DIAGNOSIS_SCHEMA,
  type DiagnosisReport,
  type DiagnosisSummary,
  type TargetDiagnosis,
} from './report.js';
import { rotationStatus } from './rotation-status.js';
import { checkTarget } from './target-checks.js';
import { Verdict, verdictOf } from './verdict.js';

export interface DiagnosisDeps {
  readonly vault: DiagnoseVault;
  /** Read only: diagnose never writes a secret. */
  readonly store: Pick<SecretsStore, 'readBatch'>;
  /** Incident state, to list each target's open incidents; absent: not listed. */
  readonly incidents?: Pick<IncidentStore, 'readBatch'>;
  /** DescribeSecret, for the rotation status; absent: not reported. */
  readonly describe?: Pick<SecretStagingStore, 'describe'>;
  /** The issuer an OIDC discovery URL names (jwt targets' issuer check); absent: not checked. */
  readonly discover?: (url: string, signal: AbortSignal) => Promise<string>;
  readonly now: () => number;
}

export interface DiagnosisRequest {
  readonly runId: string;
  /** Names of the targets to diagnose; all when absent. Unknown names are rejected by the caller. */
  readonly targets?: readonly string[];
  readonly login: boolean;
  /** Epoch ms after which no call may still be running. */
  readonly deadlineAtMs: number;
}

function vaultOf(target: TargetConfig): TargetDiagnosis['vault'] {
  return target.vault.namespace === undefined
    ? { address: target.vault.address }
    : { address: target.vault.address, namespace: target.vault.namespace };
}

function notDiagnosed(target: TargetConfig, error: string): TargetDiagnosis {
  return {
    target: target.name,
    verdict: Verdict.Unknown,
    because: [],
    vault: vaultOf(target),
    checks: [],
    error,
    durationMs: 0,
  };
}

export function summarise(targets: readonly TargetDiagnosis[]): DiagnosisSummary {
  const count = (verdict: Verdict) => targets.filter((t) => t.verdict === verdict).length;
  return {
    targets: targets.length,
    healthy: count(Verdict.Healthy),
    atRisk: count(Verdict.AtRisk),
    broken: count(Verdict.Broken),
    unknown: count(Verdict.Unknown),
  };
}

export async function runDiagnosis(
  config: RenewerConfig,
  deps: DiagnosisDeps,
  request: DiagnosisRequest,
): Promise<DiagnosisReport> {
  const { startedMs, selected, signal } = startRun(config, request, deps.now());
  const secrets = await readAllSecrets(
    selected,
    (ids) => deps.store.readBatch(ids, { signal }),
    READ_CONCURRENCY,
  );

  // Open incidents, 100 targets a read; a table that cannot be read is said per target.
  const incidentItems = readIncidents(deps.incidents, selected, signal);

  // One sys/health per Vault, however many targets it serves.
  const healthByEndpoint = new Map<string, Promise<Observed<VaultHealth>>>();
  const health = (endpoint: VaultEndpoint) => {
    const key = `${endpoint.address}\n${endpoint.namespace ?? ''}`;
    let answer = healthByEndpoint.get(key);
    if (answer === undefined) {
      answer = observe(() => deps.vault.health(endpoint, { signal }));
      healthByEndpoint.set(key, answer);
    }
    return answer;
  };

  const limit = pLimit(config.concurrency);
  const targets = await Promise.all(
    selected.map((target) =>
      limit(async (): Promise<TargetDiagnosis> => {
        const started = deps.now();
        const remainingMs = request.deadlineAtMs - started;
        if (remainingMs < MIN_TARGET_BUDGET_MS) {
          return notDiagnosed(
            target,
            `not diagnosed: only ${Math.max(0, remainingMs)}ms were left before the invocation deadline`,
          );
        }
        try {
          const describe = deps.describe;
          const [observations, rotation] = await Promise.all([
            observeTarget(target, secrets, {
              vault: deps.vault,
              signal,
              login: request.login,
              health,
              ...(deps.discover === undefined ? {} : { discover: deps.discover }),
            }),
            describe === undefined
              ? undefined
              : rotationStatus(target, (id) => describe.describe(id, { signal })),
          ]);
          const nowMs = deps.now();
          const checks = checkTarget(observations, {
            target,
            nowMs,
            scheduleIntervalSeconds: config.scheduleIntervalSeconds,
            loginRequested: request.login,
          });
          const verdict = verdictOf(checks, nowMs);
          return {
            target: target.name,
            verdict: verdict.verdict,
            ...(verdict.breaksAt === undefined ? {} : { breaksAt: verdict.breaksAt }),
            because: verdict.because,
            vault: vaultOf(target),
            checks,
            ...(rotation === undefined ? {} : { rotation }),
            ...(await openIncidentsOf(target, incidentItems)),
            durationMs: deps.now() - started,
          };
        } catch (error) {
          // A bug must not hide the other targets; its message names no secret
          // (checks and observations never hold one).
          return notDiagnosed(target, `diagnose failed unexpectedly: ${describeAnswer(error)}`);
        }
      }),
    ),
  );
  return {
    schema: DIAGNOSIS_SCHEMA,
    runId: request.runId,
    diagnosedAt: new Date(startedMs).toISOString(),
    durationMs: deps.now() - startedMs,
    login: request.login,
    summary: summarise(targets),
    targets,
  };
}

type IncidentRead = Promise<
  ReadonlyMap<string, IncidentItem> | { readonly error: string } | undefined
>;

function readIncidents(
  store: Pick<IncidentStore, 'readBatch'> | undefined,
  targets: readonly TargetConfig[],
  signal: AbortSignal,
): IncidentRead {
  if (store === undefined) return Promise.resolve(undefined);
  const scopes = targets.flatMap((t) => incidentScopesOf(t).map((s) => s.scope));
  return readIncidentItems(store, scopes, { signal }).catch((error: unknown) => ({
    error: describeAnswer(error),
  }));
}

async function openIncidentsOf(
  target: TargetConfig,
  read: IncidentRead,
): Promise<Pick<TargetDiagnosis, 'incidents' | 'incidentsError'>> {
  const items = await read;
  if (items === undefined) return {};
  if ('error' in items) return { incidentsError: items.error as string };
  const found = items as ReadonlyMap<string, IncidentItem>;
  // A rotation's incidents are keyed `rotation/<kind>/<code>`, beside the renewals' own.
  const incidents = incidentScopesOf(target).flatMap(({ scope, rotation }) =>
    Object.entries(found.get(scope)?.incidents ?? {}).map(([key, incident]) => ({
      key: rotation === undefined ? key : `rotation/${rotation}/${key}`,
      ...incident,
    })),
  );
  return { incidents: incidents.sort((a, b) => a.key.localeCompare(b.key)) };
}
