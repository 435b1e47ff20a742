import {
  BatchGetSecretValueCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  SECRET_IDS_PER_READ,
  type SecretReadFailure,
  type SecretReadResult,
  type SecretsStore,
  type SecretWrite,
} from '../core/store-port.js';
import type {
  BatchAnswer,
  BatchSecretError,
  BatchSecretValue,
  DirectBatchRead,
} from './direct-batch-read.js';
import { type AwsFailure, describeAwsFailure, SecretWriteError } from './errors.js';

/** Failure code for a secret that holds SecretBinary: the renewer only reads JSON in SecretString. */
export const BINARY_SECRET_UNSUPPORTED = 'BinarySecretUnsupported';
/** Same code AWS uses, so callers handle "missing" one way however it was detected. */
const NOT_FOUND = 'ResourceNotFoundException';

export interface SecretsManagerStoreOptions {
  readonly client: SecretsManagerClient;
  /**
   * Sends BatchGetSecretValue without the SDK's middleware (direct-batch-read.ts);
   * a call it gives back goes through `client`. Without it every read uses `client`.
   */
  readonly directRead?: DirectBatchRead;
}

type SendOptions = { abortSignal?: AbortSignal };

export function createSecretsManagerStore(options: SecretsManagerStoreOptions): SecretsStore {
  const { client, directRead } = options;
  const send = async (
    ids: readonly string[],
    nextToken: string | undefined,
    sendOptions: SendOptions,
  ): Promise<BatchAnswer> => {
    const input = {
      SecretIdList: ids,
      ...(nextToken === undefined ? {} : { NextToken: nextToken }),
    };
    return (
      (await directRead?.(input, sendOptions.abortSignal)) ??
      client.send(new BatchGetSecretValueCommand({ ...input, SecretIdList: [...ids] }), sendOptions)
    );
  };
  async function readBatch(
    ids: readonly string[],
    sendOptions: SendOptions,
  ): Promise<Map<string, SecretReadResult>> {
    const entries: BatchSecretValue[] = [];
    const errors: BatchSecretError[] = [];
    let batchFailure: AwsFailure | undefined;
    try {
      // With SecretIdList AWS answers in one page; follow NextToken anyway so a
      // paged answer can never turn unread secrets into "not found". Each page
      // holds at least one secret, hence the bound.
      let nextToken: string | undefined;
      let pages = 0;
      do {
        const output = await send(ids, nextToken, sendOptions);
        entries.push(...(output.SecretValues ?? []));
        errors.push(...(output.Errors ?? []));
        nextToken = output.NextToken;
        pages += 1;
      } while (nextToken !== undefined && pages < ids.length);
    } catch (error) {
      // Throttling after the SDK's retries, AccessDenied on the batch action, a
      // network error or the deadline: every id not yet answered fails with it.
      batchFailure = describeAwsFailure(error);
    }

    // AWS answers with each secret's Name and ARN. Asked by name, the name
    // finds it; the index of every ARN form is built only for an id it does not.
    const byName = new Map<string, BatchSecretValue>();
    for (const entry of entries) {
      if (entry.Name !== undefined) byName.set(entry.Name, entry);
    }
    let entryIndex: Map<string, BatchSecretValue> | undefined;
    const errorIndex = indexErrors(errors);
    // In the caller's order, whatever order AWS answered in.
    const results = new Map<string, SecretReadResult>();
    for (const secretId of ids) {
      let entry = byName.get(secretId);
      if (entry === undefined) {
        entryIndex ??= indexEntries(entries);
        entry = entryIndex.get(secretId);
      }
      if (entry !== undefined) {
        results.set(secretId, toResult(secretId, entry));
        continue;
      }
      const apiError = errorIndex.get(secretId);
      if (apiError !== undefined) {
        results.set(
          secretId,
          failed(secretId, apiError.ErrorCode ?? 'UnknownError', apiError.Message ?? ''),
        );
        continue;
      }
      results.set(
        secretId,
        batchFailure === undefined
          ? failed(
              secretId,
              NOT_FOUND,
              'BatchGetSecretValue returned neither a value nor an error for this id.',
            )
          : failed(secretId, batchFailure.code, batchFailure.message),
      );
    }
    return results;
  }

  return {
    async readBatch(secretIds, readOptions) {
      const uniqueIds = [...new Set(secretIds)];
      if (uniqueIds.length === 0) return new Map();
      if (uniqueIds.length > SECRET_IDS_PER_READ) {
        // A caller's bug: AWS would refuse the whole call.
        throw new RangeError(
          `readBatch takes at most ${SECRET_IDS_PER_READ} secret ids (BatchGetSecretValue's limit), got ${uniqueIds.length}`,
        );
      }
      return readBatch(uniqueIds, toSendOptions(readOptions?.signal));
    },

    async readPrevious(secretId, readOptions) {
      try {
        const output = await client.send(
          new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPREVIOUS' }),
          toSendOptions(readOptions?.signal),
        );
        return output.SecretString === undefined || output.VersionId === undefined
          ? undefined
          : { secretId, value: output.SecretString, versionId: output.VersionId };
      } catch (error) {
        // No version carries AWSPREVIOUS (a secret written once): nothing was replaced.
        if ((error as { name?: string }).name === 'ResourceNotFoundException') return undefined;
        throw error;
      }
    },

    async write(request: SecretWrite, writeOptions) {
      try {
        const output = await client.send(
          new PutSecretValueCommand({
            SecretId: request.secretId,
            SecretString: request.value,
            ClientRequestToken: request.clientRequestToken,
          }),
          toSendOptions(writeOptions?.signal),
        );
        // The token becomes the VersionId (PutSecretValue model docs), so it is
        // the right answer should a response ever omit it.
        return {
          versionId: output.VersionId ?? request.clientRequestToken,
          arn: output.ARN ?? request.secretId,
        };
      } catch (error) {
        throw new SecretWriteError(request.secretId, describeAwsFailure(error, [request.value]), {
          cause: error,
        });
      }
    },
  };
}

function toSendOptions(signal: AbortSignal | undefined): SendOptions {
  return signal === undefined ? {} : { abortSignal: signal };
}

function toResult(secretId: string, entry: BatchSecretValue): SecretReadResult {
  if (entry.SecretString === undefined) {
    return entry.SecretBinary === undefined
      ? failed(secretId, NOT_FOUND, 'The secret version has no SecretString.')
      : failed(
          secretId,
          BINARY_SECRET_UNSUPPORTED,
          'The secret holds SecretBinary; only SecretString is supported.',
        );
  }
  if (entry.VersionId === undefined) {
    return failed(secretId, 'MalformedResponse', 'BatchGetSecretValue returned no VersionId.');
  }
  return { ok: true, secret: { secretId, value: entry.SecretString, versionId: entry.VersionId } };
}

function failed(secretId: string, code: string, message: string): SecretReadResult {
  const failure: SecretReadFailure = { secretId, code, message };
  return { ok: false, failure };
}

/**
 * A caller may name a secret by its name, its full ARN or its ARN without
 * the 6-character suffix; AWS answers with ARN and Name. Index each answer
 * under every form so it maps back to whichever id the caller asked for.
 */
function indexEntries(entries: readonly BatchSecretValue[]): Map<string, BatchSecretValue> {
  const index = new Map<string, BatchSecretValue>();
  for (const entry of entries) {
    for (const key of [entry.Name, ...(entry.ARN === undefined ? [] : arnForms(entry.ARN))]) {
      if (key !== undefined) index.set(key, entry);
    }
  }
  return index;
}

/** `Errors[].SecretId` echoes the id as requested; index ARN forms too in case AWS answers with one. */
function indexErrors(errors: readonly BatchSecretError[]): Map<string, BatchSecretError> {
  const index = new Map<string, BatchSecretError>();
  for (const error of errors) {
    if (error.SecretId === undefined) continue;
    for (const key of [error.SecretId, ...arnForms(error.SecretId)]) {
      if (!index.has(key)) index.set(key, error);
    }
  }
  return index;
}

/** Secret ARN: `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>` (aws-facts §1.2). */
const SECRET_ARN = /^(arn:[^:]+:secretsmanager:[^:]*:[^:]*:secret:(.+))-[A-Za-z0-9]{6}$/;

function arnForms(id: string): string[] {
  const match = SECRET_ARN.exec(id);
  if (match === null) return [];
  const [arn, partialArn, name] = match;
  return [arn, partialArn, name].filter((form) => form !== undefined);
}
