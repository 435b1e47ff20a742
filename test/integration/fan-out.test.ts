/**
 * A run fanned out in batches, on the local stack: the real batch handler
 * invoked ten times at once over one fleet (as the Distributed Map does),
 * the real aggregate handler over results laid out as the map's
 * ResultWriter writes them, and the targets object read from S3 once and
 * again only when it changed.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregateHandler } from '../../functions/app/aggregate-handler.js';
import { createDiagnoseHandler } from '../../functions/app/diagnose-handler.js';
import type { BatchResult } from '../../functions/app/renew-handler.js';
import { createTargetSupply } from '../../functions/app/target-supply.js';
import { putJson, readMapRunResults } from '../../functions/aws/map-results.js';
import { createS3ObjectReader } from '../../functions/aws/s3-object-reader.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { renderTargetLines } from '../../functions/config/target-lines.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { combineBatches } from '../../functions/renewal/fan-out.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  eventsOf,
  healthyRole,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

const env = stackEnv();
const s3 = new S3Client({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_S3,
  forcePathStyle: true,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
afterAll(() => s3.destroy());

/** The SDK settings of the stack's SNS. */
const SNS_SETTINGS = {
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SNS,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
};

/** A Vault address nothing listens on: every target there shares one cause. */
const DEAD_VAULT = 'http://127.0.0.1:9';
const HEALTHY = 12;
const UNREACHABLE = 8;

async function bucket(): Promise<string> {
  const name = uniqueName('fan')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
  await s3.send(new CreateBucketCommand({ Bucket: name }));
  await s3.send(
    new PutBucketVersioningCommand({
      Bucket: name,
      VersioningConfiguration: { Status: 'Enabled' },
    }),
  );
  return name;
}

/** A fleet of healthy targets and targets on a Vault that is down, with its incident table. */
async function fleetOf(
  scenario: Scenario,
): Promise<{ config: Record<string, unknown>; table: string }> {
  const { fleet } = scenario;
  const entries: Record<string, unknown>[] = [];
  for (let i = 0; i < HEALTHY + UNREACHABLE; i += 1) {
    const target = await fleet.target(`t${i}`, healthyRole);
    entries.push(fleet.targetConfig(target, i < HEALTHY ? {} : { vault: { address: DEAD_VAULT } }));
  }
  return { config: configWith(fleet.env, entries), table: await fleet.incidentTable() };
}

/** The config's targets in batches of `size`, as the map's item batcher hands them out. */
function batchesOf(config: RenewerConfig, size: number, runId: string) {
  const batches = [];
  for (let i = 0; i < config.targets.length; i += size) {
    batches.push({
      Items: config.targets.slice(i, i + size),
      BatchInput: { runId, concurrency: Math.ceil(config.targets.length / size) },
    });
  }
  return batches;
}

let fanned: Scenario;
let single: Scenario;
beforeAll(async () => {
  [fanned, single] = await Promise.all([createScenario(env, 'fo'), createScenario(env, 'fs')]);
});

describe('a run fanned out in batches', () => {
  it('ten batches at once handle each target once, tell a shared cause once, and add up to one invocation', async () => {
    // Prepare: two fleets of the same shape, one renewed in batches, one by one invocation
    const [a, b] = await Promise.all([fleetOf(fanned), fleetOf(single)]);
    const batchRun = fanned.harness(a.config, { incidentTable: a.table });
    const singleRun = single.harness(b.config, { incidentTable: b.table });
    const runId = uniqueName('run');
    const batches = batchesOf(batchRun.config, 2, runId);
    expect(batches).toHaveLength(10);

    // Act
    const results = await Promise.all(batches.map((batch) => batchRun.invokeBatch(batch)));
    const report = await singleRun.invoke(SCHEDULED_EVENT);

    // Assess: every target once, in exactly one batch
    const combined = combineBatches({ runId, startedAtMs: 0, endedAtMs: 1 }, results, []);
    expect(combined.summary.targets).toBe(HEALTHY + UNREACHABLE);
    const seen = combined.targets.map((t) => t.target).sort();
    expect(seen).toEqual([...new Set(seen)]);
    expect(results.every((r) => r.runId === runId)).toBe(true);
    // The same counts as one invocation over the same shape of fleet
    const { soonestExpirySeconds: _a, ...fannedSummary } = combined.summary;
    const { soonestExpirySeconds: _b, ...singleSummary } = report.summary;
    expect(fannedSummary).toEqual(singleSummary);
    expect(fannedSummary).toMatchObject({ ok: HEALTHY, failed: UNREACHABLE });
    expect(combined.targets.map((t) => `${t.target} ${t.status}`).sort()).toEqual(
      report.targets
        .filter((t) => t.status !== 'ok')
        .map((t) => `${t.target} ${t.status}`)
        .sort(),
    );
    // The Vault that is down: one message across four batches, as in one invocation
    const told = eventsOf(await fanned.alerts.receive(1)).filter((e) =>
      e.includes('vault-unreachable'),
    );
    expect(told).toEqual([`ERROR vault-unreachable vault:${DEAD_VAULT}`]);
    expect(await fanned.alerts.receive(0, 1_500)).toEqual([]);
    expect(eventsOf(await single.alerts.receive(1))).toEqual(told);
    await Promise.all([batchRun.close(), singleRun.close()]);
  }, 120_000);

  it('ends with one report in S3, the heartbeat once, and a failed batch counted and told', async () => {
    // Prepare: results as the map's ResultWriter lays them out, two batches done, one failed
    const { fleet, alerts } = fanned;
    const target = await fleet.target('agg', healthyRole);
    const harness = fanned.harness(configWith(fleet.env, [fleet.targetConfig(target)]));
    const runId = uniqueName('agg');
    const done = await harness.invokeBatch({
      Items: harness.config.targets,
      BatchInput: { runId, concurrency: 3 },
    });
    const name = await bucket();
    const prefix = `runs/${runId}/map-run-1`;
    const child = (output: BatchResult) => ({
      ExecutionArn: `arn:aws:states:us-east-1:000000000000:execution:m/${runId}:1`,
      Input: '{}',
      Output: JSON.stringify(output),
      Status: 'SUCCEEDED',
    });
    await putJson(s3, name, `${prefix}/SUCCEEDED_0.json`, [child(done), child(done)]);
    await putJson(s3, name, `${prefix}/FAILED_0.json`, [
      { Status: 'FAILED', Error: 'States.Timeout', Cause: 'the batch ran past its timeout' },
    ]);
    await putJson(s3, name, `${prefix}/manifest.json`, {
      DestinationBucket: name,
      MapRunArn: 'arn:aws:states:us-east-1:000000000000:mapRun:m/1',
      ResultFiles: {
        FAILED: [{ Key: `${prefix}/FAILED_0.json`, Size: 1 }],
        PENDING: [],
        SUCCEEDED: [{ Key: `${prefix}/SUCCEEDED_0.json`, Size: 1 }],
      },
    });
    const output: string[] = [];
    const aggregate = createAggregateHandler({
      config: harness.config,
      firstTarget: async () => undefined,
      readResults: (b, key) => readMapRunResults(s3, b, key),
      writeReport: (b, key, report) => putJson(s3, b, key, report),
      notifier: createSnsNotifier({
        client: new SNSClient(SNS_SETTINGS),
        topicArn: alerts.topicArn,
      }),
      serviceName: 'vault-renewer',
      logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'ERROR' }),
      metrics: new Metrics({ namespace: 'VaultRenewerTest', serviceName: 'vault-renewer' }),
    });

    // Act
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => output.push(String(chunk)) > 0) as typeof write;
    let summary: Awaited<ReturnType<typeof aggregate>>;
    try {
      summary = await aggregate(
        {
          runId,
          startedAt: new Date(Date.now() - 60_000).toISOString(),
          results: { Bucket: name, Key: `${prefix}/manifest.json` },
        },
        { getRemainingTimeInMillis: () => 30_000 },
      );
    } finally {
      process.stdout.write = write;
    }

    // Assess: the report in S3, the counts, the metrics, one message
    expect(summary.batches).toEqual({ succeeded: 2, failed: 1 });
    const stored = JSON.parse(
      (await (
        await s3.send(new GetObjectCommand({ Bucket: name, Key: summary.report }))
      ).Body?.transformToString()) ?? '{}',
    );
    expect(stored).toMatchObject({
      runId,
      summary: { targets: 2, ok: 2 },
      failedBatches: { 'States.Timeout': 1 },
    });
    const metrics = output.join('');
    expect(metrics).toMatch(/"RunsCompleted":1/);
    expect(metrics).toMatch(/"BatchesFailed":1/);
    expect(metrics).toMatch(/"Failures":1/);
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR batches-failed agg']);
    await harness.close();
  }, 60_000);
});

describe('targets in S3', () => {
  it('are read at the first run, answered 304 while unchanged, and read again once changed', async () => {
    // Prepare: the targets object in a versioned bucket
    const { fleet } = fanned;
    const [first, second] = [
      await fleet.target('s3a', healthyRole),
      await fleet.target('s3b', healthyRole),
    ];
    const name = await bucket();
    const withObject = {
      ...configWith(fleet.env, []),
      targetsObject: { key: 'fleet/targets.jsonl' },
      secretAccess: { byTag: { key: 'vault-renewer:access' } },
    };
    const resolved = fanned.harness(
      configWith(fleet.env, [fleet.targetConfig(first), fleet.targetConfig(second)]),
    );
    const [one, two] = resolved.config.targets;
    const put = (targets: RenewerConfig['targets']) =>
      s3.send(
        new PutObjectCommand({
          Bucket: name,
          Key: 'fleet/targets.jsonl',
          Body: renderTargetLines(targets),
        }),
      );
    await put(one === undefined ? [] : [one]);
    const reader = createS3ObjectReader(s3, name, 'fleet/targets.jsonl');
    const harness = fanned.harness(withObject, {
      targetsObject: { bucket: name, key: 'fleet/targets.jsonl' },
    });

    // Act + Assess: the reader itself, then the runs
    expect((await reader.read()).changed).toBe(true);
    expect(await reader.read()).toEqual({ changed: false });
    const firstRun = await harness.invoke(SCHEDULED_EVENT);
    const again = await harness.invoke(SCHEDULED_EVENT);
    await put([one, two].filter((t) => t !== undefined));
    expect((await reader.read()).changed).toBe(true);
    const afterChange = await harness.invoke(SCHEDULED_EVENT);
    expect(firstRun.targets.map((t) => t.target)).toEqual(['s3a']);
    expect(again.targets.map((t) => t.target)).toEqual(['s3a']);
    expect(afterChange.targets.map((t) => t.target).sort()).toEqual(['s3a', 's3b']);
    expect(afterChange.summary).toMatchObject({ targets: 2, failed: 0 });

    // The diagnose function reads the same object through the same supply.
    const vault = createVaultClient();
    const diagnose = createDiagnoseHandler({
      config: harness.config,
      supply: createTargetSupply(
        harness.config,
        createS3ObjectReader(s3, name, 'fleet/targets.jsonl'),
        { warn: () => {} },
      ),
      vault,
      store: {
        readBatch: createSecretsManagerStore({ client: fleet.aws.secretsManager }).readBatch,
      },
      notifier: createSnsNotifier({
        client: new SNSClient(SNS_SETTINGS),
        topicArn: fanned.alerts.topicArn,
      }),
      logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'ERROR' }),
    });
    const diagnosed = await diagnose(
      {},
      { awsRequestId: 'd', getRemainingTimeInMillis: () => 60_000 },
    );
    expect(diagnosed.targets.map((t) => t.target).sort()).toEqual(['s3a', 's3b']);
    await vault.close();
    await Promise.all([harness.close(), resolved.close()]);
  }, 60_000);
});
