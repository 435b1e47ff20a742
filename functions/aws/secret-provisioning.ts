/**
 * Creating, writing and tagging Secrets Manager secrets, for the set-up tools
 * (`npm run vault:bootstrap`). The Lambda functions never import this module:
 * they only put new versions of secrets that already exist
 * (secrets-manager-store.ts), and their IAM grants neither CreateSecret nor
 * TagResource. Errors are born redacted, like the other `aws/` adapters'.
 */

import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import type { SecretDescription } from '../core/staging-port.js';

type RotationRules = NonNullable<SecretDescription['rotationRules']>;

import { type AwsFailure, describeAwsFailure, SecretStoreError } from './errors.js';

/** AWS's code for a secret that does not exist (or is scheduled for deletion). */
const NOT_FOUND = 'ResourceNotFoundException';

/**
 * Tags on every secret this creates, so whoever browses the account knows
 * whose it is, and retiring a target touches only what the set-up created.
 */
export const MANAGED_BY_TAG = { Key: 'managed-by', Value: 'vault-renewer' } as const;
export const TARGET_TAG_KEY = 'vault-renewer-target';

/** What a secret holds now, as far as creating or updating it is concerned. */
export interface ProvisionedSecret {
  readonly exists: boolean;
  /** The SecretString, when there is one. A secret: never log it. */
  readonly text?: string;
}

export interface ProvisioningWrite {
  readonly secretId: string;
  readonly value: string;
  /** From {@link SecretProvisioning.read}: an existing secret gets a new version, a missing one is created. */
  readonly exists: boolean;
  /** Same parts, same version id: a retried run does not add a version (client-request-token.ts). */
  readonly clientRequestToken: string;
  /** The target the secret belongs to, tagged on a secret this creates. */
  readonly target: string;
  /** Description of a secret this creates. */
  readonly description: string;
  /** KMS key of a secret this creates; Secrets Manager's default (aws/secretsmanager) when absent. */
  readonly kmsKeyId?: string;
  /** More tags for a secret this creates (the access tags), so it needs no TagResource after. */
  readonly tags?: readonly SecretTag[];
}

/** DescribeSecret, the parts the set-up compares; never a value. */
export interface SecretState {
  readonly exists: boolean;
  /** Scheduled for deletion (DeletedDate): RestoreSecret brings it back. */
  readonly deleted: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly rotationEnabled: boolean;
  readonly rotationLambdaArn?: string;
  readonly rotationRules?: RotationRules;
}

/** A secret the set-up created (it carries {@link TARGET_TAG_KEY}). */
export interface OwnedSecret {
  readonly name: string;
  readonly arn: string;
  readonly target: string;
  /** All its tags (the set-up's scope among them). */
  readonly tags: Readonly<Record<string, string>>;
}

export interface SecretTag {
  readonly key: string;
  readonly value: string;
}

export interface SecretProvisioning {
  /** Never throws for a missing secret: `{ exists: false }`. */
  read(secretId: string): Promise<ProvisionedSecret>;
  write(request: ProvisioningWrite): Promise<'created' | 'updated'>;
  /** TagResource, which is idempotent: tagging a tagged secret again changes nothing. */
  tag(secretId: string, tag: SecretTag): Promise<void>;
  /** Never throws for a missing secret: `{ exists: false }`. */
  describe(secretId: string): Promise<SecretState>;
  /** Every secret the set-up created and not scheduled for deletion (ListSecrets by tag key). */
  listOwned(): Promise<OwnedSecret[]>;
  /** DeleteSecret with a recovery window: RestoreSecret brings it back within it. */
  scheduleDeletion(secretId: string, recoveryDays: number): Promise<void>;
  restore(secretId: string): Promise<void>;
  /** RotateSecret(RotateImmediately=false): the secret's rotation, without rotating now. */
  rotate(secretId: string, functionArn: string, rules: RotationRules): Promise<void>;
}

/**
 * A Secrets Manager call of the set-up tools failed, or was refused before it
 * was sent. The value being written is never part of it.
 */
export class SecretProvisioningError extends SecretStoreError {
  override name = 'SecretProvisioningError';
  readonly secretId: string;
  /** AWS's error code; absent when the request was refused before it was sent. */
  readonly code: string | undefined;
  readonly httpStatusCode: number | undefined;

  constructor(secretId: string, message: string, failure?: AwsFailure, options?: ErrorOptions) {
    super(
      failure === undefined ? message : `${message}: ${failure.code}: ${failure.message}`,
      options,
    );
    this.secretId = secretId;
    this.code = failure?.code;
    this.httpStatusCode = failure?.httpStatusCode;
  }
}

/** Runs one call on a secret; its failure is a {@link SecretProvisioningError} saying what `failed`. */
async function onSecret(
  secretId: string,
  failed: string,
  call: () => Promise<unknown>,
): Promise<void> {
  try {
    await call();
  } catch (error) {
    throw new SecretProvisioningError(secretId, failed, describeAwsFailure(error), {
      cause: error,
    });
  }
}

export function createSecretProvisioning(options: {
  readonly client: SecretsManagerClient;
}): SecretProvisioning {
  const { client } = options;
  return {
    async read(secretId) {
      try {
        const answer = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
        return answer.SecretString === undefined
          ? { exists: true }
          : { exists: true, text: answer.SecretString };
      } catch (error) {
        const failure = describeAwsFailure(error);
        if (failure.code === NOT_FOUND) return { exists: false };
        throw new SecretProvisioningError(secretId, `cannot read secret ${secretId}`, failure, {
          cause: error,
        });
      }
    },

    async write(request) {
      const { secretId } = request;
      if (!request.exists && secretId.startsWith('arn:')) {
        // CreateSecret takes a name; the ARN (and its random suffix) is AWS's to choose.
        throw new SecretProvisioningError(
          secretId,
          `secret ${secretId} does not exist, and a secret cannot be created by ARN: create it, or name it in the config instead`,
        );
      }
      try {
        if (request.exists) {
          await client.send(
            new PutSecretValueCommand({
              SecretId: secretId,
              SecretString: request.value,
              ClientRequestToken: request.clientRequestToken,
            }),
          );
          return 'updated';
        }
        await client.send(
          new CreateSecretCommand({
            Name: secretId,
            SecretString: request.value,
            ClientRequestToken: request.clientRequestToken,
            Description: request.description,
            ...(request.kmsKeyId === undefined ? {} : { KmsKeyId: request.kmsKeyId }),
            Tags: [
              MANAGED_BY_TAG,
              { Key: TARGET_TAG_KEY, Value: request.target },
              ...(request.tags ?? []).map((t) => ({ Key: t.key, Value: t.value })),
            ],
          }),
        );
        return 'created';
      } catch (error) {
        throw new SecretProvisioningError(
          secretId,
          `cannot write secret ${secretId}`,
          describeAwsFailure(error, [request.value]),
          { cause: error },
        );
      }
    },

    tag(secretId, tag) {
      return onSecret(secretId, `cannot tag secret ${secretId}`, () =>
        client.send(
          new TagResourceCommand({
            SecretId: secretId,
            Tags: [{ Key: tag.key, Value: tag.value }],
          }),
        ),
      );
    },

    async describe(secretId) {
      try {
        const d = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
        const rules = d.RotationRules;
        return {
          exists: true,
          deleted: d.DeletedDate !== undefined,
          tags: Object.fromEntries((d.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? ''])),
          rotationEnabled: d.RotationEnabled === true,
          ...(d.RotationLambdaARN === undefined ? {} : { rotationLambdaArn: d.RotationLambdaARN }),
          ...(rules === undefined
            ? {}
            : {
                rotationRules: {
                  ...(rules.AutomaticallyAfterDays === undefined
                    ? {}
                    : { AutomaticallyAfterDays: rules.AutomaticallyAfterDays }),
                  ...(rules.ScheduleExpression === undefined
                    ? {}
                    : { ScheduleExpression: rules.ScheduleExpression }),
                  ...(rules.Duration === undefined ? {} : { Duration: rules.Duration }),
                },
              }),
        };
      } catch (error) {
        const failure = describeAwsFailure(error);
        if (failure.code === NOT_FOUND) {
          return { exists: false, deleted: false, tags: {}, rotationEnabled: false };
        }
        throw new SecretProvisioningError(secretId, `cannot describe secret ${secretId}`, failure, {
          cause: error,
        });
      }
    },

    async listOwned() {
      const owned: OwnedSecret[] = [];
      let nextToken: string | undefined;
      try {
        do {
          const page = await client.send(
            new ListSecretsCommand({
              Filters: [{ Key: 'tag-key', Values: [TARGET_TAG_KEY] }],
              MaxResults: 100,
              ...(nextToken === undefined ? {} : { NextToken: nextToken }),
            }),
          );
          for (const entry of page.SecretList ?? []) {
            const target = entry.Tags?.find((t) => t.Key === TARGET_TAG_KEY)?.Value;
            const managed = entry.Tags?.some(
              (t) => t.Key === MANAGED_BY_TAG.Key && t.Value === MANAGED_BY_TAG.Value,
            );
            if (entry.Name === undefined || target === undefined || managed !== true) continue;
            if (entry.DeletedDate !== undefined) continue;
            const tags = Object.fromEntries(
              (entry.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
            );
            owned.push({ name: entry.Name, arn: entry.ARN ?? '', target, tags });
          }
          nextToken = page.NextToken;
        } while (nextToken !== undefined);
      } catch (error) {
        throw new SecretProvisioningError(
          '(list)',
          'cannot list the secrets the set-up created',
          describeAwsFailure(error),
          { cause: error },
        );
      }
      return owned;
    },

    scheduleDeletion(secretId, recoveryDays) {
      return onSecret(secretId, `cannot schedule secret ${secretId} for deletion`, () =>
        client.send(
          new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: recoveryDays }),
        ),
      );
    },

    rotate(secretId, functionArn, rules) {
      return onSecret(secretId, `cannot set the rotation of secret ${secretId}`, () =>
        client.send(
          new RotateSecretCommand({
            SecretId: secretId,
            RotationLambdaARN: functionArn,
            RotationRules: { ...rules },
            RotateImmediately: false,
          }),
        ),
      );
    },

    restore(secretId) {
      return onSecret(secretId, `cannot restore secret ${secretId}`, () =>
        client.send(new RestoreSecretCommand({ SecretId: secretId })),
      );
    },
  };
}
