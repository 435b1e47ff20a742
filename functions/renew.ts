/**
 * Lambda entry point of the renew function: reads the environment and the
 * target list once per cold start, builds the clients once, and hands every
 * invocation to the shared handler body.
 */

import { STSClient } from '@aws-sdk/client-sts';
import { loadEnvironment } from './app/environment.js';
import { createLogger, createMetrics } from './app/observability.js';
import {
  type BatchHandler,
  createBatchHandler,
  createRenewHandler,
  type RenewHandlerDeps,
} from './app/renew-handler.js';
import { supplyFromEnvironment } from './app/target-supply.js';
import { deterministicRequestToken } from './aws/client-request-token.js';
import { createAwsClients, DEFAULT_MAX_ATTEMPTS } from './aws/clients.js';
import { createDirectBatchGetItem, warnOnIncidentFallback } from './aws/direct-batch-get-item.js';
import { createDirectBatchRead, warnOnFallback } from './aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from './aws/dynamodb-incident-store.js';
import { createDynamoDbLedgerStore } from './aws/dynamodb-ledger-store.js';
import { createEventBridgePublisher } from './aws/eventbridge-publisher.js';
import { createSecretsManagerStore } from './aws/secrets-manager-store.js';
import { createSnsNotifier } from './aws/sns-notifier.js';
import { createStsWebIdentity } from './aws/sts-web-identity.js';
import { loadResolvedConfigFile } from './config/resolved.js';
import { createRequestPacer } from './core/request-pacer.js';
import { createVaultClient } from './vault/client.js';

const environment = loadEnvironment(process.env);
const config = loadResolvedConfigFile(environment.configFile);
const aws = createAwsClients();
const logger = createLogger(environment.serviceName, 'renew');
const supply = supplyFromEnvironment(config, environment, logger);

/**
 * The handlers' dependencies. `share` is the part of each Vault's request
 * budget this function takes: 1 for a run, 1 / fanOut.maxConcurrency for a
 * batch, since that many batches run at once.
 */
function dependencies(share: number): RenewHandlerDeps {
  // One request budget per Vault cluster for the container's life: what a 429 taught outlasts the run.
  const pacer = createRequestPacer({
    ceilings: new Map(
      Object.entries(config.vaultRequestCeilings ?? {}).map(([address, ceiling]) => [
        address,
        ceiling * share,
      ]),
    ),
  });
  const vault = createVaultClient({
    pacer,
    ...(config.vaultCaCertPem === undefined ? {} : { caCertPem: config.vaultCaCertPem }),
  });
  return {
    config,
    ...supply,
    vault,
    // Targets that log in with jwt ask STS for their token (the SDK's regional endpoint).
    ...(config.webIdentityAudiences !== undefined
      ? { webIdentity: createStsWebIdentity(new STSClient({ maxAttempts: DEFAULT_MAX_ATTEMPTS })) }
      : {}),
    store: createSecretsManagerStore({
      client: aws.secretsManager,
      directRead: createDirectBatchRead(aws.secretsManager, {
        onFallback: warnOnFallback(logger),
      }),
    }),
    notifier: createSnsNotifier({
      client: aws.sns,
      topicArn: environment.alertTopicArn,
      ...(environment.chatTopicArn === undefined ? {} : { chatTopicArn: environment.chatTopicArn }),
    }),
    serviceName: environment.serviceName,
    ...(environment.incidentTableName === undefined
      ? {}
      : {
          incidents: createDynamoDbIncidentStore(aws.dynamodb, environment.incidentTableName, {
            directRead: createDirectBatchGetItem(aws.dynamodb, {
              onFallback: warnOnIncidentFallback(logger),
            }),
          }),
          ledger: createDynamoDbLedgerStore(aws.dynamodb, environment.incidentTableName),
        }),
    vaultPacing: () => pacer.figures(),
    changeEvents: createEventBridgePublisher({
      client: aws.eventBridge,
      eventBusName: environment.eventBusName,
    }),
    logger,
    metrics: createMetrics(environment.serviceName),
    requestToken: deterministicRequestToken,
  };
}

/** The scheduled (or console) run over every target. */
export const handler = createRenewHandler(dependencies(1));

let batches: BatchHandler | undefined;
/** One batch of a run fanned out by Step Functions (the renewBatch function). */
export const batchHandler: BatchHandler = (event, context) => {
  batches ??= createBatchHandler(dependencies(1 / (config.fanOut?.maxConcurrency ?? 1)));
  return batches(event, context);
};
