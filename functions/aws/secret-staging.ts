/**
 * The core's {@link SecretStagingStore} over Secrets Manager: DescribeSecret,
 * GetSecretValue by version, PutSecretValue with AWSPENDING and
 * UpdateSecretVersionStage.
 */

import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import {
  type SecretStagingStore,
  Stage,
  type StagingFailure,
  type StoreCallOptions,
} from '../core/staging-port.js';
import { describeAwsFailure, SecretStoreError } from './errors.js';

export class SecretStagingError extends SecretStoreError implements StagingFailure {
  override name = 'SecretStagingError';
  readonly code: string;

  constructor(action: string, secretId: string, error: unknown, redact: readonly string[] = []) {
    const failure = describeAwsFailure(error, redact);
    super(
      `${action} failed for secret ${JSON.stringify(secretId)}: ${failure.code}: ${failure.message}`,
      {
        cause: error,
      },
    );
    this.code = failure.code;
  }
}

const NOT_FOUND = 'ResourceNotFoundException';

function sendOptions(options: StoreCallOptions): { abortSignal?: AbortSignal } {
  return options.signal === undefined ? {} : { abortSignal: options.signal };
}

export function createSecretStagingStore(client: SecretsManagerClient): SecretStagingStore {
  return {
    async describe(secretId, options = {}) {
      try {
        const answer = await client.send(
          new DescribeSecretCommand({ SecretId: secretId }),
          sendOptions(options),
        );
        const rules = answer.RotationRules;
        return {
          arn: answer.ARN ?? secretId,
          name: answer.Name ?? secretId,
          rotationEnabled: answer.RotationEnabled === true,
          ...(answer.RotationLambdaARN ? { rotationLambdaArn: answer.RotationLambdaARN } : {}),
          ...(rules === undefined
            ? {}
            : {
                rotationRules: {
                  ...(rules.AutomaticallyAfterDays
                    ? { AutomaticallyAfterDays: rules.AutomaticallyAfterDays }
                    : {}),
                  ...(rules.ScheduleExpression
                    ? { ScheduleExpression: rules.ScheduleExpression }
                    : {}),
                  ...(rules.Duration ? { Duration: rules.Duration } : {}),
                },
              }),
          ...(answer.LastRotatedDate
            ? { lastRotatedDate: answer.LastRotatedDate.toISOString() }
            : {}),
          ...(answer.NextRotationDate
            ? { nextRotationDate: answer.NextRotationDate.toISOString() }
            : {}),
          versionStages: answer.VersionIdsToStages ?? {},
        };
      } catch (error) {
        throw new SecretStagingError('DescribeSecret', secretId, error);
      }
    },

    async readVersion(secretId, version, options = {}) {
      try {
        const answer = await client.send(
          new GetSecretValueCommand({
            SecretId: secretId,
            ...(version.versionId === undefined ? {} : { VersionId: version.versionId }),
            ...(version.stage === undefined ? {} : { VersionStage: version.stage }),
          }),
          sendOptions(options),
        );
        if (answer.SecretString === undefined || answer.VersionId === undefined) return undefined;
        return { versionId: answer.VersionId, value: answer.SecretString };
      } catch (error) {
        // No such version, or the placeholder RotateSecret staged without a value.
        if (error instanceof Error && error.name === NOT_FOUND) return undefined;
        throw new SecretStagingError('GetSecretValue', secretId, error);
      }
    },

    async stagePending(secretId, versionId, value, options = {}) {
      try {
        await client.send(
          new PutSecretValueCommand({
            SecretId: secretId,
            ClientRequestToken: versionId,
            SecretString: value,
            VersionStages: [Stage.Pending],
          }),
          sendOptions(options),
        );
      } catch (error) {
        throw new SecretStagingError('PutSecretValue', secretId, error, [value]);
      }
    },

    async moveStage(secretId, stage, versions, options = {}) {
      try {
        await client.send(
          new UpdateSecretVersionStageCommand({
            SecretId: secretId,
            VersionStage: stage,
            ...(versions.to === undefined ? {} : { MoveToVersionId: versions.to }),
            ...(versions.from === undefined ? {} : { RemoveFromVersionId: versions.from }),
          }),
          sendOptions(options),
        );
      } catch (error) {
        throw new SecretStagingError('UpdateSecretVersionStage', secretId, error);
      }
    },
  };
}
