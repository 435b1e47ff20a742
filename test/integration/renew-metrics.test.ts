/**
 * The CloudWatch metrics of a real run, read from the EMF the handler writes:
 * the heartbeat alarm watches RunsCompleted, the failure alarm Failures,
 * SoonestExpirySeconds says how close the fleet's next expiry is and
 * SoonestSecretIdExpirySeconds when the first login credentials run out. A test per
 * metric, so deleting its emission fails one.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { METRIC } from '../../functions/app/run-metrics.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  dbLease,
  healthyRole,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

interface EmfDocument {
  readonly _aws: { readonly CloudWatchMetrics: { readonly Metrics: { Name: string }[] }[] };
  readonly [name: string]: unknown;
}

/** The EMF documents among the handler's output lines. */
function emfDocuments(output: readonly string[]): EmfDocument[] {
  return output
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"CloudWatchMetrics"'))
    .map((line) => JSON.parse(line) as EmfDocument);
}

/** A metric's value in the run's EMF output, after checking it is declared as a metric. */
function metric(documents: readonly EmfDocument[], name: string): unknown {
  const document = documents.find((d) =>
    d._aws.CloudWatchMetrics.some((set) => set.Metrics.some((m) => m.Name === name)),
  );
  return document?.[name];
}

let scenario: Scenario;
let documents: EmfDocument[];
let leaseTtlSeconds: number;
const SECRET_ID_TTL_SECONDS = 30 * 86_400;

beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'mx');
  const { fleet } = scenario;
  // One healthy target (token 1 h, lease 1 h) and one holding a root token (ERROR token-root).
  // Its secret_id expires in 30 days: far enough for no alert, the soonest of the fleet.
  const healthy = await fleet.target(
    'metered',
    { ...healthyRole, secretIdTtl: SECRET_ID_TTL_SECONDS },
    { leases: [dbLease] },
  );
  const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
    auth: { client_token: string };
  };
  const rooted = await fleet.target('rooted', healthyRole, {
    storedToken: root.auth.client_token,
  });
  const harness = scenario.harness(
    configWith(fleet.env, [fleet.targetConfig(healthy), fleet.targetConfig(rooted)]),
  );
  const report = await harness.invoke(SCHEDULED_EVENT);
  leaseTtlSeconds = report.summary.soonestExpirySeconds ?? Number.NaN;
  documents = emfDocuments(harness.output);
}, 60_000);

describe('the EMF metrics of a real run', () => {
  it('emits RunsCompleted 1 for the heartbeat alarm', () => {
    expect(metric(documents, METRIC.RunsCompleted)).toBe(1);
  });

  it('counts the ERROR and CRITICAL problems in Failures (one root token here)', () => {
    expect(metric(documents, METRIC.Failures)).toBe(1);
  });

  it('emits SoonestExpirySeconds: the shortest TTL left of any token or lease kept', () => {
    const soonest = metric(documents, METRIC.SoonestExpirySeconds);
    expect(soonest).toBe(leaseTtlSeconds);
    // The healthy token and lease were just renewed for about an hour.
    expect(soonest).toBeGreaterThan(3_000);
    expect(soonest).toBeLessThanOrEqual(3_600);
  });

  it('emits SoonestSecretIdExpirySeconds: when the first stored secret_id expires', () => {
    const soonest = metric(documents, METRIC.SoonestSecretIdExpirySeconds);
    expect(soonest).toBeGreaterThan(SECRET_ID_TTL_SECONDS - 300);
    expect(soonest).toBeLessThanOrEqual(SECRET_ID_TTL_SECONDS);
  });
});
