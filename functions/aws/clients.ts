import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';

/** SDK default (aws-facts §3.2): the first attempt plus two retries. */
export const DEFAULT_MAX_ATTEMPTS = 3;

export interface AwsClientsOptions {
  /**
   * Region override. When absent the SDK reads `AWS_REGION`, which Lambda
   * always sets, so handlers need not read the environment themselves.
   */
  readonly region?: string;
  /** Total attempts per call, including the first (SDK retries throttling, 5xx and network errors). */
  readonly maxAttempts?: number;
}

export interface AwsClients {
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
}

/**
 * Builds the clients once; call it at module scope in a handler so warm
 * invocations reuse their connections.
 *
 * No `endpoint` here on purpose: the SDK itself honours
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER` / `AWS_ENDPOINT_URL_SNS` /
 * `AWS_ENDPOINT_URL_EVENTBRIDGE` (from SDK 3.428, aws-facts §3.1; the suffix
 * is the client's serviceId, `EventBridge`), which is how the local stack
 * redirects them.
 */
export function createAwsClients(options: AwsClientsOptions = {}): AwsClients {
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new RangeError(`maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  const config =
    options.region === undefined ? { maxAttempts } : { maxAttempts, region: options.region };
  return Object.freeze({
    secretsManager: new SecretsManagerClient(config),
    sns: new SNSClient(config),
    dynamodb: new DynamoDBClient(config),
    eventBridge: new EventBridgeClient(config),
  });
}
