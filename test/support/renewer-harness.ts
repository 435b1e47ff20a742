/**
 * Builds the real renew handler (createRenewHandler with the real Vault
 * client, Secrets Manager store, SNS notifier and EventBridge publisher)
 * against the local stack, and captures everything it writes to stdout/stderr
 * (Powertools logs and EMF metrics) so tests can assert on logs and scan them
 * for planted secrets.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import {
  type BatchResult,
  createBatchHandler,
  createRenewHandler,
  type RenewHandler,
  type RenewHandlerDeps,
} from '../../functions/app/renew-handler.js';
import { createRotateHandler, type RotateHandler } from '../../functions/app/rotate-handler.js';
import { createTargetSupply } from '../../functions/app/target-supply.js';
import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import {
  createDirectBatchGetItem,
  warnOnIncidentFallback,
} from '../../functions/aws/direct-batch-get-item.js';
import { createDirectBatchRead, warnOnFallback } from '../../functions/aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from '../../functions/aws/dynamodb-incident-store.js';
import { createDynamoDbLedgerStore } from '../../functions/aws/dynamodb-ledger-store.js';
import { createEventBridgePublisher } from '../../functions/aws/eventbridge-publisher.js';
import { createS3ObjectReader } from '../../functions/aws/s3-object-reader.js';
import { createSecretStagingStore } from '../../functions/aws/secret-staging.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { createStsWebIdentity } from '../../functions/aws/sts-web-identity.js';
import { parseConfig } from '../../functions/config/load.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import type { SecretsStore } from '../../functions/core/store-port.js';
import type { RotationReport } from '../../functions/rotation/rotate.js';
import { createVaultClient, type VaultClient } from '../../functions/vault/client.js';
import type { StackEnv } from '../../tools/local-stack/stack.js';

export interface HarnessOptions {
  readonly env: StackEnv;
  /** The config in the file format (object), parsed by the real loader. */
  readonly config: Record<string, unknown>;
  readonly topicArn: string;
  /** Override endpoints, e.g. a fault proxy in front of moto or OpenBao. */
  readonly secretsManagerEndpoint?: string;
  readonly snsEndpoint?: string;
  readonly eventBridgeEndpoint?: string;
  /** The bus change events go to; `default` unless given. */
  readonly eventBusName?: string;
  readonly vaultRetry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  readonly awsMaxAttempts?: number;
  /** The incident table (DynamoDB on the stack); absent: every problem is published each run. */
  readonly incidentTable?: string;
  /** The run's clock (incident reminders); default Date.now. */
  readonly now?: () => number;
  /** The targets object the handlers read (config targetsObject), in the stack's S3. */
  readonly targetsObject?: { readonly bucket: string; readonly key: string };
  /** Runs after each batch read of the renew run, before its answer is used (races with other writers). */
  readonly afterRead?: (secretIds: readonly string[]) => Promise<void>;
}

export interface Harness {
  readonly config: RenewerConfig;
  readonly handler: RenewHandler;
  readonly vault: VaultClient;
  /** Every line the handler's logger and metrics printed. */
  readonly output: string[];
  /** Invokes like Lambda would, with `remainingMs` left. */
  invoke(event: unknown, remainingMs?: number): Promise<Awaited<ReturnType<RenewHandler>>>;
  /** Invokes the batch function (renewBatch) the same way. */
  invokeBatch(event: unknown, remainingMs?: number): Promise<BatchResult>;
  close(): Promise<void>;
}

/**
 * Captures process.stdout/stderr writes while `fn` runs (Powertools writes
 * through them). Overlapping captures share one patch, restored when the last
 * one ends; each chunk goes to every active sink.
 */
const sinks = new Set<string[]>();
let restore: (() => void) | undefined;

async function capturing<T>(sink: string[], fn: () => Promise<T>): Promise<T> {
  if (restore === undefined) {
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const grab =
      (original: typeof out) =>
      (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        for (const active of sinks) active.push(text);
        // Set SHOW_RENEWER_LOGS=1 to see the handler's logs while debugging a test.
        return process.env.SHOW_RENEWER_LOGS
          ? (original as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest)
          : true;
      };
    process.stdout.write = grab(out) as typeof process.stdout.write;
    process.stderr.write = grab(err) as typeof process.stderr.write;
    restore = () => {
      process.stdout.write = out;
      process.stderr.write = err;
    };
  }
  sinks.add(sink);
  try {
    return await fn();
  } finally {
    sinks.delete(sink);
    if (sinks.size === 0) {
      restore?.();
      restore = undefined;
    }
  }
}

function afterReading(store: SecretsStore, afterRead: HarnessOptions['afterRead']): SecretsStore {
  if (afterRead === undefined) return store;
  return {
    write: store.write,
    readBatch: async (ids, readOptions) => {
      const answer = await store.readBatch(ids, readOptions);
      await afterRead(ids);
      return answer;
    },
  };
}

/** The stack's clients both harnesses build the same way, and how to close them. */
function stackClients(options: HarnessOptions) {
  const { env } = options;
  const base = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
    maxAttempts: options.awsMaxAttempts ?? 3,
  };
  const secretsManager = new SecretsManagerClient({
    ...base,
    endpoint: options.secretsManagerEndpoint ?? env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  });
  const sns = new SNSClient({ ...base, endpoint: options.snsEndpoint ?? env.AWS_ENDPOINT_URL_SNS });
  const eventBridge = new EventBridgeClient({
    ...base,
    endpoint: options.eventBridgeEndpoint ?? env.AWS_ENDPOINT_URL_EVENTBRIDGE,
  });
  const vault = createVaultClient({
    retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 500, ...options.vaultRetry },
  });
  const logger = new Logger({ serviceName: 'vault-renewer', logLevel: 'DEBUG' });
  // Reads as deployed: signed and sent without the SDK's middleware, the SDK when that fails.
  const directRead = createDirectBatchRead(secretsManager, {
    onFallback: warnOnFallback(logger),
  });
  const dynamodb = new DynamoDBClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
  const directIncidentRead = createDirectBatchGetItem(dynamodb, {
    onFallback: warnOnIncidentFallback(logger),
  });
  return {
    config: parseConfig(JSON.stringify(options.config), { format: 'json' }),
    base,
    secretsManager,
    vault,
    notifier: createSnsNotifier({ client: sns, topicArn: options.topicArn }),
    changeEvents: createEventBridgePublisher({
      client: eventBridge,
      eventBusName: options.eventBusName ?? 'default',
    }),
    serviceName: 'vault-renewer',
    logger,
    directRead,
    dynamodb,
    directIncidentRead,
    close: async () => {
      await vault.close();
      await directRead.close();
      await directIncidentRead.close();
      dynamodb.destroy();
      secretsManager.destroy();
      sns.destroy();
      eventBridge.destroy();
    },
  };
}

export function createHarness(options: HarnessOptions): Harness {
  const {
    config,
    secretsManager,
    vault,
    notifier,
    changeEvents,
    serviceName,
    logger,
    directRead,
    dynamodb,
    directIncidentRead,
    close,
  } = stackClients(options);
  const deps: RenewHandlerDeps = {
    config,
    ...(options.targetsObject === undefined
      ? {}
      : {
          supply: createTargetSupply(
            config,
            createS3ObjectReader(
              new S3Client({
                region: options.env.AWS_REGION,
                endpoint: options.env.AWS_ENDPOINT_URL_S3,
                forcePathStyle: true,
                credentials: {
                  accessKeyId: options.env.AWS_ACCESS_KEY_ID,
                  secretAccessKey: options.env.AWS_SECRET_ACCESS_KEY,
                },
              }),
              options.targetsObject.bucket,
              options.targetsObject.key,
            ),
            logger,
          ),
        }),
    vault,
    webIdentity: createStsWebIdentity(
      new STSClient({
        region: options.env.AWS_REGION,
        endpoint: options.env.AWS_ENDPOINT_URL_STS,
        credentials: {
          accessKeyId: options.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: options.env.AWS_SECRET_ACCESS_KEY,
        },
      }),
    ),
    store: afterReading(
      createSecretsManagerStore({ client: secretsManager, directRead }),
      options.afterRead,
    ),
    notifier,
    serviceName,
    changeEvents,
    logger,
    metrics: new Metrics({ namespace: 'VaultRenewerTest', serviceName: 'vault-renewer' }),
    requestToken: deterministicRequestToken,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.incidentTable === undefined
      ? {}
      : {
          incidents: createDynamoDbIncidentStore(dynamodb, options.incidentTable, {
            ...(options.now === undefined ? {} : { now: options.now }),
            directRead: directIncidentRead,
          }),
          ledger: createDynamoDbLedgerStore(dynamodb, options.incidentTable),
        }),
  };
  const handler = createRenewHandler(deps);
  const batchHandler = createBatchHandler(deps);
  const output: string[] = [];
  const context = (remainingMs: number) => {
    const deadline = Date.now() + remainingMs;
    return {
      awsRequestId: `test-${Math.random().toString(16).slice(2)}`,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    };
  };
  return {
    config,
    handler,
    vault,
    output,
    invoke: (event, remainingMs = 60_000) =>
      capturing(output, () => handler(event, context(remainingMs))),
    invokeBatch: (event, remainingMs = 60_000) =>
      capturing(output, () => batchHandler(event, context(remainingMs))),
    close,
  };
}

export interface RotateHarness {
  readonly config: RenewerConfig;
  readonly handler: RotateHandler;
  /** Every line the handler's logger printed. */
  readonly output: string[];
  invoke(event: unknown): Promise<RotationReport>;
  close(): Promise<void>;
}

/** The real rotate handler (Vault client, staging store, SNS notifier) against the stack. */
export function createRotateHarness(options: HarnessOptions): RotateHarness {
  const {
    config,
    secretsManager,
    dynamodb,
    vault,
    notifier,
    changeEvents,
    serviceName,
    logger,
    close,
  } = stackClients(options);
  const handler = createRotateHandler({
    config,
    vault,
    staging: createSecretStagingStore(secretsManager),
    notifier,
    serviceName,
    changeEvents,
    logger,
    ...(options.incidentTable === undefined
      ? {}
      : { incidents: createDynamoDbIncidentStore(dynamodb, options.incidentTable) }),
  });
  const output: string[] = [];
  return {
    config,
    handler,
    output,
    invoke: (event) =>
      capturing(output, () =>
        handler(event, {
          awsRequestId: `test-${Math.random().toString(16).slice(2)}`,
          getRemainingTimeInMillis: () => 60_000,
        }),
      ),
    close,
  };
}

export { SCHEDULED_EVENT } from '../fixtures/events.js';
