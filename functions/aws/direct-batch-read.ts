/**
 * BatchGetSecretValue without the SDK's middleware stack (direct-json-call.ts):
 * the run's one hot AWS call, 1,500 of them for 10,000 targets. An answer it
 * does not take goes through the SDK (secrets-manager-store.ts).
 */

import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchGetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import {
  createDirectCall,
  type DirectCallOptions,
  type FallbackLogger,
  isRecord,
  jsonOrUndefined,
  warnWith,
} from './direct-json-call.js';

/** One secret of a BatchGetSecretValue answer, as far as the store reads it. */
export interface BatchSecretValue {
  readonly Name?: string | undefined;
  readonly ARN?: string | undefined;
  readonly VersionId?: string | undefined;
  readonly SecretString?: string | undefined;
  /** Base64 on the wire; the store only needs to know it is there. */
  readonly SecretBinary?: unknown;
}

export interface BatchSecretError {
  readonly SecretId?: string | undefined;
  readonly ErrorCode?: string | undefined;
  readonly Message?: string | undefined;
}

/** The fields of a BatchGetSecretValue answer the store reads, from either path. */
export interface BatchAnswer {
  readonly SecretValues?: readonly BatchSecretValue[] | undefined;
  readonly Errors?: readonly BatchSecretError[] | undefined;
  readonly NextToken?: string | undefined;
}

export interface BatchRequest {
  readonly SecretIdList: readonly string[];
  readonly NextToken?: string;
}

/** Sends one BatchGetSecretValue; `undefined` means "send it through the SDK instead". */
export type DirectBatchRead = (
  input: BatchRequest,
  signal: AbortSignal | undefined,
) => Promise<BatchAnswer | undefined>;

/** The log line of a fallback (docs/operations.md, "Metrics and logs"). */
export const FALLBACK_MESSAGE = 'secret reads fall back to the AWS SDK';

/** An `onFallback` that logs {@link FALLBACK_MESSAGE} at WARN with its reason. */
export function warnOnFallback(logger: FallbackLogger): (reason: string) => void {
  return warnWith(logger, FALLBACK_MESSAGE);
}

export function createDirectBatchRead(
  client: SecretsManagerClient,
  options: DirectCallOptions = {},
): DirectBatchRead & { close(): Promise<void> } {
  const call = createDirectCall<BatchRequest, BatchAnswer>(
    client,
    {
      target: 'secretsmanager.BatchGetSecretValue',
      contentType: 'application/x-amz-json-1.1',
      signingName: 'secretsmanager',
      command: BatchGetSecretValueCommand,
      parse: parseAnswer,
    },
    options,
  );
  return Object.assign(
    (input: BatchRequest, signal: AbortSignal | undefined) => call(input, signal),
    {
      close: call.close,
    },
  );
}

const optionalString = (value: unknown): boolean =>
  value === undefined || typeof value === 'string';

/** Every item an object whose `keys` are strings or absent. */
const recordsOfStrings = (items: readonly unknown[], keys: readonly string[]): boolean =>
  items.every((item) => isRecord(item) && keys.every((key) => optionalString(item[key])));

/** The answer, or `undefined` when it is not the documented shape (the SDK then reads it). */
export function parseAnswer(text: string): BatchAnswer | undefined {
  const body = jsonOrUndefined(text);
  if (!isRecord(body)) return undefined;
  const { SecretValues: values = [], Errors: errors = [], NextToken: nextToken } = body;
  if (!(Array.isArray(values) && Array.isArray(errors))) return undefined;
  if (!(nextToken === undefined || nextToken === null || typeof nextToken === 'string')) {
    return undefined;
  }
  if (
    !recordsOfStrings(values, ['Name', 'ARN', 'VersionId', 'SecretString']) ||
    !recordsOfStrings(errors, ['SecretId', 'ErrorCode', 'Message'])
  ) {
    return undefined;
  }
  return {
    SecretValues: values as BatchSecretValue[],
    Errors: errors as BatchSecretError[],
    ...(typeof nextToken === 'string' ? { NextToken: nextToken } : {}),
  };
}
