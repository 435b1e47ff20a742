/**
 * One measured renewal run, in a process of its own (bench.ts bundles this
 * file and runs it with plain node, as Lambda would run the function): the
 * real handler body with the real Vault client, Secrets Manager store and SNS
 * notifier. Prints `FIGURES {...}` with wall time, peak RSS and call counts.
 *
 *   node .bench/runner.mjs --mode canned --endpoint http://127.0.0.1:PORT --targets 10000
 *   node .bench/runner.mjs --mode real --fleet .bench/real-fleet.json
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { createRenewHandler } from '../../functions/app/renew-handler.js';
import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import { createDirectBatchGetItem } from '../../functions/aws/direct-batch-get-item.js';
import { createDirectBatchRead } from '../../functions/aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from '../../functions/aws/dynamodb-incident-store.js';
import { createEventBridgePublisher } from '../../functions/aws/eventbridge-publisher.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { deepFreeze } from '../../functions/config/deep-freeze.js';
import { DEFAULT_PACING } from '../../functions/config/schema.js';
import type { RenewerConfig, TargetConfig } from '../../functions/config/types.js';
import type { VaultPort } from '../../functions/core/vault-port.js';
import { createVaultClient } from '../../functions/vault/client.js';

const AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
};
const SCHEDULED_EVENT = { source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} };

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'canned' },
    endpoint: { type: 'string' },
    targets: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '64' },
    fleet: { type: 'string' },
  },
});

/** Targets with one lease each whose secrets the canned server answers by name. */
function cannedTargets(count: number, address: string): TargetConfig[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `t${i}`,
    vault: { address },
    tokenSecretId: `bench/t${i}/token`,
    approle: { secretId: `bench/t${i}/approle`, mount: 'approle', roleName: `bench-t${i}` },
    incrementSeconds: 3600,
    leases: [
      {
        name: 'db',
        secretId: `bench/t${i}/db`,
        reissuePath: 'database/creds/bench',
        incrementSeconds: 3600,
      },
    ],
    notify: { onRelogin: false, onReissue: false },
  }));
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

const real = args.mode === 'real';
const fleet: RealFleet | undefined = real
  ? (JSON.parse(readFileSync(args.fleet ?? '', 'utf8')) as RealFleet)
  : undefined;
const endpoint = args.endpoint ?? '';
const targets = fleet?.targets ?? cannedTargets(Number(args.targets), endpoint);
const config: RenewerConfig = deepFreeze({
  version: 1,
  scheduleIntervalSeconds: 900,
  concurrency: Number(args.concurrency),
  pacing: DEFAULT_PACING,
  secretIdWarnDays: 7,
  reminderHours: 24,
  targets,
});

const counts = { vault: 0, smReads: 0, smWrites: 0, snsPublishes: 0 };
const vaultCounter = { calls: 0 };
const secretsManager = new SecretsManagerClient({
  ...AWS,
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
const directBatchRead = createDirectBatchRead(secretsManager, {
  onFallback: (reason) => console.error(`secret reads fell back to the AWS SDK: ${reason}`),
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
const sns = new SNSClient({ ...AWS, endpoint: fleet?.snsEndpoint ?? endpoint });
if (real)
  sns.middlewareStack.add(
    (next) => (input) => {
      counts.snsPublishes += 1;
      return next(input);
    },
    { step: 'initialize' },
  );
// As deployed: incident reads signed and sent without the SDK's middleware too.
const dynamodb = new DynamoDBClient({ ...AWS, endpoint });
const directIncidentRead = createDirectBatchGetItem(dynamodb, {
  onFallback: (reason) => console.error(`incident reads fell back to the AWS SDK: ${reason}`),
});
const vault = createVaultClient();
const handler = createRenewHandler({
  config,
  vault: real ? countingVault(vault, vaultCounter) : vault,
  // As deployed (functions/renew.ts): reads signed and sent without the SDK's middleware.
  store: createSecretsManagerStore({ client: secretsManager, directRead }),
  notifier: createSnsNotifier({
    client: sns,
    topicArn: fleet?.topicArn ?? 'arn:aws:sns:us-east-1:123456789012:bench',
  }),
  serviceName: 'vault-renewer',
  // Incident bookkeeping as deployed (canned mode: the canned server answers DynamoDB).
  ...(real
    ? {}
    : {
        incidents: createDynamoDbIncidentStore(dynamodb, 'bench-incidents', {
          directRead: directIncidentRead,
        }),
      }),
  logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'INFO' }),
  // moto serves EventBridge on the Secrets Manager endpoint; a healthy fleet puts no event.
  changeEvents: createEventBridgePublisher({
    client: new EventBridgeClient({ ...AWS, endpoint: fleet?.secretsManagerEndpoint ?? endpoint }),
    eventBusName: 'default',
  }),
  metrics: new Metrics({ namespace: 'VaultRenewerBench', serviceName: 'vault-renewer' }),
  requestToken: deterministicRequestToken,
});

// The JSON log lines are produced (that is part of the work) but not printed.
let logBytes = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array) => {
  logBytes += chunk.length;
  return true;
}) as typeof process.stdout.write;
const started = performance.now();
const cpuBefore = process.cpuUsage();
const mainThreadBefore = process.threadCpuUsage();
const report = await handler(SCHEDULED_EVENT, {
  awsRequestId: 'bench',
  getRemainingTimeInMillis: () => 15 * 60_000,
});
const wallMs = performance.now() - started;
const cpu = process.cpuUsage(cpuBefore);
const mainThread = process.threadCpuUsage(mainThreadBefore);
process.stdout.write = write;
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
    summary: report.summary,
    counts,
  })}`,
);
process.exit(0);
