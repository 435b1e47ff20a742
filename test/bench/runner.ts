/**
 * One measured renewal run, in a process of its own (bench.ts bundles this
 * file and runs it with plain node, as Lambda would run the function): the
 * real handler body with the real Vault client, Secrets Manager store and SNS
 * notifier. Prints `FIGURES {...}` with wall time, peak RSS and call counts.
 *
 * Field mode (field.ts) runs one of a scenario's scheduled runs against
 * field-server.ts, compressed in time by `--time-scale` K: the config's
 * interval, increments and Lambda deadline are the field's divided by K, the
 * run's budgets (writes per second) multiplied by K, and every wait the
 * renewer times itself (Vault retry backoff and Retry-After, the AWS SDK's
 * retry backoff) divided by K. Right before the handler starts it asks the
 * server for the clock (`--clock-url`), so it sees the time the server moved.
 *
 *   node .bench/runner.mjs --mode canned --endpoint http://127.0.0.1:PORT --targets 10000
 *   node .bench/runner.mjs --mode real --fleet .bench/real-fleet.json
 *   node .bench/runner.mjs --mode field --endpoint http://127.0.0.1:PORT --time-scale 10 \
 *     --clock-url 'http://127.0.0.1:PORT/__run/begin?run=1&at=...'
 */

import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { MAXIMUM_RETRY_DELAY, StandardRetryStrategy } from '@smithy/core/retry';
import { request } from 'undici';
import {
  createBatchHandler,
  createRenewHandler,
  DEADLINE_MARGIN_MS,
  type RenewHandlerDeps,
} from '../../functions/app/renew-handler.js';
import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import { createDirectBatchGetItem } from '../../functions/aws/direct-batch-get-item.js';
import { createDirectBatchRead } from '../../functions/aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from '../../functions/aws/dynamodb-incident-store.js';
import { createDynamoDbLedgerStore } from '../../functions/aws/dynamodb-ledger-store.js';
import { createEventBridgePublisher } from '../../functions/aws/eventbridge-publisher.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { deepFreeze } from '../../functions/config/deep-freeze.js';
import { DEFAULT_PACING } from '../../functions/config/schema.js';
import type { RenewerConfig, TargetConfig } from '../../functions/config/types.js';
import { createRequestPacer, type RequestPacer } from '../../functions/core/request-pacer.js';
import type { VaultPort } from '../../functions/core/vault-port.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { FIELD_APPROLE_MOUNT, FIELD_REISSUE_PATH, fieldTargetNames } from './field-protocol.js';

const AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
};
const SCHEDULED_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'canned' },
    // Fan-out: run the targets as one batch (the renewBatch handler) of a run of this many at once.
    batch: { type: 'string' },
    endpoint: { type: 'string' },
    targets: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    fleet: { type: 'string' },
    // Field mode: the scenario in field units, and how much faster than the field it runs.
    'time-scale': { type: 'string', default: '1' },
    'interval-seconds': { type: 'string', default: '900' },
    'deadline-seconds': { type: 'string', default: '900' },
    'increment-seconds': { type: 'string', default: '3600' },
    'clock-url': { type: 'string' },
    'max-concurrency': { type: 'string' },
    'vault-max-requests-per-second': { type: 'string' },
  },
});

/** Targets with one lease each, whose secrets the canned and field servers answer by name. */
function benchTargets(count: number, address: string, incrementSeconds: number): TargetConfig[] {
  return Array.from({ length: count }, (_, i) => {
    const names = fieldTargetNames(i);
    return {
      name: names.name,
      vault: { address },
      tokenSecretId: names.tokenSecretId,
      approle: {
        secretId: names.approleSecretId,
        mount: FIELD_APPROLE_MOUNT,
        roleName: names.roleName,
      },
      incrementSeconds,
      leases: [
        {
          name: 'db',
          secretId: names.leaseSecretId,
          reissuePath: FIELD_REISSUE_PATH,
          incrementSeconds,
        },
      ],
      notify: { onRelogin: false, onReissue: false },
    };
  });
}

interface RealFleet {
  readonly targets: TargetConfig[];
  readonly topicArn: string;
  readonly secretsManagerEndpoint: string;
  readonly snsEndpoint: string;
}

/** Wraps the Vault port so every call is counted. */
function countingVault(vault: VaultPort, counter: { calls: number }): VaultPort {
  return new Proxy(vault, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...params: unknown[]) => {
        counter.calls += 1;
        return (value as (...p: unknown[]) => unknown).apply(target, params);
      };
    },
  });
}

/**
 * The AWS SDK's standard retries (3 attempts, full-jitter backoff from 50 ms,
 * 1 s for throttling, aws-facts §3.2) with every backoff divided by the time
 * scale, so a throttled write waits as long in the compressed world as it
 * would in the field. One per client, as the SDK's default is.
 */
function compressedRetries(timeScale: number): StandardRetryStrategy {
  let baseMs = 50;
  return new StandardRetryStrategy({
    maxAttempts: 3,
    backoff: {
      setDelayBase: (delayMs: number) => {
        baseMs = delayMs;
      },
      computeNextBackoffDelay: (attempt: number) =>
        Math.floor(
          (Math.random() * Math.min(baseMs * 2 ** attempt, MAXIMUM_RETRY_DELAY)) / timeScale,
        ),
    },
  });
}

/**
 * The run's budgets: the deployed defaults (or --max-concurrency and a Vault
 * ceiling for `address`), rates multiplied and durations divided by the time
 * scale. Concurrency is a count, not a rate: with every answer K times
 * faster, the same workers already make K times the requests per second.
 */
function pacingFor(
  timeScale: number,
  address: string,
): Pick<RenewerConfig, 'pacing' | 'vaultRequestCeilings'> {
  const maxConcurrency = args['max-concurrency'];
  const vaultCeiling = args['vault-max-requests-per-second'];
  return {
    pacing: {
      ...DEFAULT_PACING,
      ...(maxConcurrency === undefined ? {} : { maxConcurrency: Number(maxConcurrency) }),
      writesPerSecond: DEFAULT_PACING.writesPerSecond * timeScale,
      reloginRetrySeconds: DEFAULT_PACING.reloginRetrySeconds / timeScale,
    },
    ...(vaultCeiling === undefined
      ? {}
      : { vaultRequestCeilings: { [address]: Number(vaultCeiling) * timeScale } }),
  };
}

const real = args.mode === 'real';
const field = args.mode === 'field';
const timeScale = field ? Number(args['time-scale']) : 1;
if (!(Number.isFinite(timeScale) && timeScale >= 1)) {
  throw new Error(`--time-scale takes a number >= 1: ${args['time-scale']}`);
}
const fleet: RealFleet | undefined = real
  ? (JSON.parse(readFileSync(args.fleet ?? '', 'utf8')) as RealFleet)
  : undefined;
const endpoint = args.endpoint ?? '';
const targets =
  fleet?.targets ??
  benchTargets(
    Number(args.targets),
    endpoint,
    field ? Math.round(Number(args['increment-seconds']) / timeScale) : 3600,
  );
const config: RenewerConfig = deepFreeze({
  version: 1,
  scheduleIntervalSeconds: field ? Number(args['interval-seconds']) / timeScale : 900,
  concurrency: Number(args.concurrency),
  ...pacingFor(timeScale, endpoint),
  secretIdWarnDays: 7 / timeScale,
  reminderHours: 24 / timeScale,
  // As deployed: a replaced token is retired one schedule interval later.
  ...(field
    ? { retireReplacedSeconds: Math.round(Number(args['interval-seconds']) / timeScale) }
    : { retireReplacedSeconds: 900 }),
  targets,
});
/** The server's clock in field mode (it moves between runs); the machine's otherwise. */
let clockOffsetMs = 0;
const now = (): number => Date.now() + clockOffsetMs;
/** The AWS clients' settings: field mode compresses their retry backoff. */
const awsOptions = () => (field ? { ...AWS, retryStrategy: compressedRetries(timeScale) } : AWS);

const counts = { vault: 0, smReads: 0, smWrites: 0, snsPublishes: 0 };
const vaultCounter = { calls: 0 };
const secretsManager = new SecretsManagerClient({
  ...awsOptions(),
  endpoint: fleet?.secretsManagerEndpoint ?? endpoint,
});
// In canned mode the server's own counters are the truth: no wrappers on the hot path.
if (real)
  secretsManager.middlewareStack.add(
    (next, context) => (input) => {
      if (context.commandName === 'BatchGetSecretValueCommand') counts.smReads += 1;
      if (context.commandName === 'PutSecretValueCommand') counts.smWrites += 1;
      return next(input);
    },
    { step: 'initialize' },
  );
/**
 * After a refused direct read every read goes through the SDK for a while
 * (direct-json-call.ts, 60 s): compressed like every other wait in field mode.
 */
const directCooldown = field ? { cooldownMs: 60_000 / timeScale } : {};
const directBatchRead = createDirectBatchRead(secretsManager, {
  onFallback: (reason) => console.error(`secret reads fell back to the AWS SDK: ${reason}`),
  ...directCooldown,
});
// Real mode counts the reads that did not go through the SDK's middleware above.
const directRead: typeof directBatchRead = real
  ? Object.assign(
      async (...params: Parameters<typeof directBatchRead>) => {
        const answer = await directBatchRead(...params);
        if (answer !== undefined) counts.smReads += 1;
        return answer;
      },
      { close: directBatchRead.close },
    )
  : directBatchRead;
const sns = new SNSClient({ ...awsOptions(), endpoint: fleet?.snsEndpoint ?? endpoint });
if (real)
  sns.middlewareStack.add(
    (next) => (input) => {
      counts.snsPublishes += 1;
      return next(input);
    },
    { step: 'initialize' },
  );
// As deployed: incident reads signed and sent without the SDK's middleware too.
const dynamodb = new DynamoDBClient({ ...awsOptions(), endpoint });
const directIncidentRead = createDirectBatchGetItem(dynamodb, {
  onFallback: (reason) => console.error(`incident reads fell back to the AWS SDK: ${reason}`),
  ...directCooldown,
});
// Field mode: a backoff or Retry-After of N ms (field time) waits N / K ms here.
// As deployed (functions/renew.ts): one request budget per Vault cluster.
const deployedPacer = createRequestPacer({
  ceilings: new Map(Object.entries(config.vaultRequestCeilings ?? {})),
  ...(field ? { now } : {}),
});
// Field mode: a Retry-After of N field seconds pauses the cluster N / K here, like every other wait.
const pacer: RequestPacer = field
  ? {
      acquire: (cluster, signal) => deployedPacer.acquire(cluster, signal),
      throttled: (cluster, retryAfterMs) =>
        deployedPacer.throttled(cluster, (retryAfterMs ?? 1_000) / timeScale),
      figures: () => deployedPacer.figures(),
    }
  : deployedPacer;
const vault = createVaultClient({
  pacer,
  ...(field ? { sleep: (ms, signal) => delay(ms / timeScale, undefined, { signal }), now } : {}),
});
const deps: RenewHandlerDeps = {
  config,
  vault: real ? countingVault(vault, vaultCounter) : vault,
  // As deployed (functions/renew.ts): reads signed and sent without the SDK's middleware.
  store: createSecretsManagerStore({ client: secretsManager, directRead }),
  notifier: createSnsNotifier({
    client: sns,
    topicArn: fleet?.topicArn ?? 'arn:aws:sns:us-east-1:123456789012:bench',
  }),
  serviceName: 'vault-renewer',
  // Incident bookkeeping as deployed (canned and field mode: the bench's server answers DynamoDB).
  ...(real
    ? {}
    : {
        incidents: createDynamoDbIncidentStore(dynamodb, 'bench-incidents', {
          directRead: directIncidentRead,
          ...(field ? { now } : {}),
        }),
        ledger: createDynamoDbLedgerStore(dynamodb, 'bench-incidents'),
      }),
  vaultPacing: () => pacer.figures(),
  logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'INFO' }),
  // moto serves EventBridge on the Secrets Manager endpoint; a healthy fleet puts no event.
  changeEvents: createEventBridgePublisher({
    client: new EventBridgeClient({
      ...awsOptions(),
      endpoint: fleet?.secretsManagerEndpoint ?? endpoint,
    }),
    eventBusName: 'default',
  }),
  metrics: new Metrics({ namespace: 'VaultRenewerBench', serviceName: 'vault-renewer' }),
  requestToken: deterministicRequestToken,
  ...(field ? { now } : {}),
};
const runHandler = createRenewHandler(deps);
const batchConcurrency = args.batch === undefined ? undefined : Number(args.batch);
/** A run, or with `--batch` one batch of a fanned-out run holding every target. */
const handler = (event: unknown, context: Parameters<typeof runHandler>[1]) =>
  batchConcurrency === undefined
    ? runHandler(event, context)
    : createBatchHandler(deps)(
        { Items: config.targets, BatchInput: { runId: 'bench', concurrency: batchConcurrency } },
        context,
      );

/**
 * Lambda's remaining time at the start: 15 minutes, or in field mode the
 * field deadline compressed. The handler keeps DEADLINE_MARGIN_MS of it back
 * in real milliseconds, which compression would make K times longer in field
 * time: added back, so the targets' deadline falls where it does in the field.
 */
const remainingAtStartMs = field
  ? (Number(args['deadline-seconds']) * 1000 - DEADLINE_MARGIN_MS) / timeScale + DEADLINE_MARGIN_MS
  : 15 * 60_000;
if (args['clock-url'] !== undefined) {
  // The server moves its clock to this run's due time and answers the offset.
  const answer = await request(args['clock-url'], { method: 'POST' });
  clockOffsetMs = ((await answer.body.json()) as { offsetMs: number }).offsetMs;
}

// The JSON log lines are produced (that is part of the work) but not printed.
let logBytes = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array) => {
  logBytes += chunk.length;
  return true;
}) as typeof process.stdout.write;
// Powertools writes WARN and ERROR lines to stderr: a field run has thousands. Anything
// else written there (a fallback notice, a crash) still gets through.
const writeError = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  if (typeof chunk === 'string' ? chunk.startsWith('{') : chunk[0] === 0x7b) {
    logBytes += chunk.length;
    return true;
  }
  return (writeError as (...params: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;
const started = performance.now();
const cpuBefore = process.cpuUsage();
const mainThreadBefore = process.threadCpuUsage();
let report: Awaited<ReturnType<typeof handler>> | undefined;
let handlerError: string | undefined;
try {
  report = await handler(SCHEDULED_EVENT, {
    awsRequestId: 'bench',
    // Whole milliseconds, as Lambda's: the handler turns them into AbortSignal.timeout delays.
    getRemainingTimeInMillis: () => Math.floor(remainingAtStartMs - (performance.now() - started)),
  });
} catch (error) {
  // A field run that could not publish ends in error, as the Lambda would: a figure, not a crash.
  if (!field) throw error;
  handlerError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const mainThread = process.threadCpuUsage(mainThreadBefore);
process.stdout.write = write;
process.stderr.write = writeError;
await vault.close();
await directRead.close();
await directIncidentRead.close();
counts.vault = vaultCounter.calls;
console.log(
  `FIGURES ${JSON.stringify({
    wallMs,
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    // The rest of the process's CPU went to V8's helper threads (GC, compiler).
    mainThreadCpuMs: Math.round((mainThread.user + mainThread.system) / 1000),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1048576),
    logBytes,
    summary: report?.summary,
    counts,
    ...(field
      ? {
          clockOffsetMs,
          notifications: report?.notifications,
          incidents: report?.incidents,
          changeEvents: report?.changeEvents,
          ...(handlerError === undefined ? {} : { handlerError }),
        }
      : {}),
  })}`,
);
process.exit(0);
