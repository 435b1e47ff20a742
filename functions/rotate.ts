/**
 * Lambda entry point of the rotate function: Secrets Manager invokes it once
 * per rotation step of a token or AppRole secret the config lists. Reads the
 * environment and the target list once per cold start and builds the clients
 * once.
 */

import { loadEnvironment } from './app/environment.js';
import { createLogger } from './app/observability.js';
import { createRotateHandler } from './app/rotate-handler.js';
import { supplyFromEnvironment } from './app/target-supply.js';
import { createAwsClients } from './aws/clients.js';
import { createDynamoDbIncidentStore } from './aws/dynamodb-incident-store.js';
import { createEventBridgePublisher } from './aws/eventbridge-publisher.js';
import { createSecretStagingStore } from './aws/secret-staging.js';
import { createSnsNotifier } from './aws/sns-notifier.js';
import { loadResolvedConfigFile } from './config/resolved.js';
import { createVaultClient } from './vault/client.js';

const environment = loadEnvironment(process.env);
const config = loadResolvedConfigFile(environment.configFile);
const aws = createAwsClients();
const logger = createLogger(environment.serviceName, 'rotate');

export const handler = createRotateHandler({
  config,
  ...supplyFromEnvironment(config, environment, logger),
  vault: createVaultClient(
    config.vaultCaCertPem === undefined ? {} : { caCertPem: config.vaultCaCertPem },
  ),
  staging: createSecretStagingStore(aws.secretsManager),
  notifier: createSnsNotifier({
    client: aws.sns,
    topicArn: environment.alertTopicArn,
    ...(environment.chatTopicArn === undefined ? {} : { chatTopicArn: environment.chatTopicArn }),
  }),
  serviceName: environment.serviceName,
  // Failed rotations are incidents of the same table as the renewals' (scopes `rotation#...`).
  ...(environment.incidentTableName === undefined
    ? {}
    : { incidents: createDynamoDbIncidentStore(aws.dynamodb, environment.incidentTableName) }),
  changeEvents: createEventBridgePublisher({
    client: aws.eventBridge,
    eventBusName: environment.eventBusName,
  }),
  logger,
});
