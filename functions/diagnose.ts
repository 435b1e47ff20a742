/**
 * Lambda entry point of the diagnose function: reads the environment and the
 * target list once per cold start, builds the clients once, and hands every
 * invocation to the shared handler body. Read-only: it is given no way to
 * write a secret (the store is passed as a reader).
 */

import { createDiagnoseHandler } from './app/diagnose-handler.js';
import { loadEnvironment } from './app/environment.js';
import { createLogger } from './app/observability.js';
import { supplyFromEnvironment } from './app/target-supply.js';
import { createAwsClients } from './aws/clients.js';
import { createDirectBatchGetItem, warnOnIncidentFallback } from './aws/direct-batch-get-item.js';
import { createDirectBatchRead, warnOnFallback } from './aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from './aws/dynamodb-incident-store.js';
import { createSecretStagingStore } from './aws/secret-staging.js';
import { createSecretsManagerStore } from './aws/secrets-manager-store.js';
import { createSnsNotifier } from './aws/sns-notifier.js';
import { loadResolvedConfigFile } from './config/resolved.js';
import { createVaultClient } from './vault/client.js';

const environment = loadEnvironment(process.env);
const config = loadResolvedConfigFile(environment.configFile);
const aws = createAwsClients();
const vault = createVaultClient(
  config.vaultCaCertPem === undefined ? {} : { caCertPem: config.vaultCaCertPem },
);
const logger = createLogger(environment.serviceName, 'diagnose');
const store = createSecretsManagerStore({
  client: aws.secretsManager,
  directRead: createDirectBatchRead(aws.secretsManager, {
    onFallback: warnOnFallback(logger),
  }),
});

export const handler = createDiagnoseHandler({
  config,
  ...supplyFromEnvironment(config, environment, logger),
  vault,
  store: { readBatch: store.readBatch },
  describe: { describe: createSecretStagingStore(aws.secretsManager).describe },
  ...(environment.incidentTableName === undefined
    ? {}
    : {
        incidents: createDynamoDbIncidentStore(aws.dynamodb, environment.incidentTableName, {
          directRead: createDirectBatchGetItem(aws.dynamodb, {
            onFallback: warnOnIncidentFallback(logger),
          }),
        }),
      }),
  notifier: createSnsNotifier({ client: aws.sns, topicArn: environment.alertTopicArn }),
  logger,
});
