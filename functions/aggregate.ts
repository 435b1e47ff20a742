/**
 * Lambda entry point of the aggregate function: the last step of a run
 * fanned out by Step Functions (config `fanOut`). Reads the map run's
 * results and writes the run report in the stack's targets bucket; tells
 * through the same topic and incident table as renew.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { createAggregateHandler } from './app/aggregate-handler.js';
import { EnvironmentError, loadEnvironment } from './app/environment.js';
import { createLogger, createMetrics } from './app/observability.js';
import { createAwsClients, DEFAULT_MAX_ATTEMPTS } from './aws/clients.js';
import { createDynamoDbIncidentStore } from './aws/dynamodb-incident-store.js';
import { putJson, readFirstLine, readMapRunResults } from './aws/map-results.js';
import { createSnsNotifier } from './aws/sns-notifier.js';
import { loadResolvedConfigFile } from './config/resolved.js';
import { parseTargetLines } from './config/target-lines.js';

const environment = loadEnvironment(process.env);
const config = loadResolvedConfigFile(environment.configFile);
const aws = createAwsClients();
const s3 = new S3Client({ maxAttempts: DEFAULT_MAX_ATTEMPTS });
const logger = createLogger(environment.serviceName, 'aggregate');
const bucket = environment.targetsBucket;
if (bucket === undefined) {
  throw new EnvironmentError([
    'TARGETS_BUCKET is required: the aggregate function reads the run from it',
  ]);
}

export const handler = createAggregateHandler({
  config,
  async firstTarget() {
    const key = config.targetsObject?.key;
    if (key === undefined) return undefined;
    const line = await readFirstLine(s3, bucket, key);
    return line === undefined
      ? undefined
      : parseTargetLines(line, 'targets object (first line)')[0];
  },
  readResults: (resultsBucket, key) => readMapRunResults(s3, resultsBucket, key),
  writeReport: (reportBucket, key, report) => putJson(s3, reportBucket, key, report),
  notifier: createSnsNotifier({
    client: aws.sns,
    topicArn: environment.alertTopicArn,
    ...(environment.chatTopicArn === undefined ? {} : { chatTopicArn: environment.chatTopicArn }),
  }),
  ...(environment.incidentTableName === undefined
    ? {}
    : { incidents: createDynamoDbIncidentStore(aws.dynamodb, environment.incidentTableName) }),
  serviceName: environment.serviceName,
  logger,
  metrics: createMetrics(environment.serviceName),
});
