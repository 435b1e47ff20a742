/**
 * DynamoDB BatchGetItem without the SDK's middleware stack (direct-json-call.ts):
 * the incident store reads 100 scopes a call, one call per 100 targets. An
 * answer it does not take goes through the SDK (dynamodb-incident-store.ts).
 *
 * Items come as DynamoDB's JSON (`{"S": "..."}`, `{"N": "12"}`, `{"M": {...}}`),
 * which is what the SDK hands `unmarshall` too, except binary values: the SDK
 * decodes `B` and `BS` from base64, so an answer holding one is left to the SDK.
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import {
  createDirectCall,
  type DirectCallOptions,
  type FallbackLogger,
  isRecord,
  jsonOrUndefined,
  type SdkClient,
  warnWith,
} from './direct-json-call.js';

export type Item = Record<string, AttributeValue>;

export interface BatchGetItemRequest {
  readonly RequestItems: Readonly<Record<string, { readonly Keys: readonly Item[] }>>;
}

/** The fields of a BatchGetItem answer the incident store reads, from either path. */
export interface BatchGetItemAnswer {
  readonly Responses?: Record<string, Item[]> | undefined;
  readonly UnprocessedKeys?: Record<string, { Keys?: Item[] | undefined }> | undefined;
}

/** Sends one BatchGetItem of one table; `undefined` means "send it through the SDK instead". */
export type DirectBatchGetItem = (
  tableName: string,
  keys: readonly Item[],
  signal: AbortSignal | undefined,
) => Promise<BatchGetItemAnswer | undefined>;

/** The log line of a fallback (docs/operations.md, "Metrics and logs"). */
export const INCIDENT_FALLBACK_MESSAGE = 'incident reads fall back to the AWS SDK';

/** An `onFallback` that logs {@link INCIDENT_FALLBACK_MESSAGE} at WARN with its reason. */
export function warnOnIncidentFallback(logger: FallbackLogger): (reason: string) => void {
  return warnWith(logger, INCIDENT_FALLBACK_MESSAGE);
}

export function createDirectBatchGetItem(
  client: SdkClient,
  options: DirectCallOptions = {},
): DirectBatchGetItem & { close(): Promise<void> } {
  const call = createDirectCall<BatchGetItemRequest, BatchGetItemAnswer>(
    client,
    {
      target: 'DynamoDB_20120810.BatchGetItem',
      contentType: 'application/x-amz-json-1.0',
      signingName: 'dynamodb',
      command: BatchGetItemCommand,
      parse: parseBatchGetItemAnswer,
    },
    options,
  );
  const read: DirectBatchGetItem = (tableName, keys, signal) =>
    call({ RequestItems: { [tableName]: { Keys: keys } } }, signal, {
      // The table (a name or an ARN) and the caller's account pick the endpoint.
      key: tableName,
      input: { RequestItems: { [tableName]: { Keys: [] } } },
    });
  return Object.assign(read, { close: call.close });
}

/** The answer, or `undefined` when it is not the documented shape (the SDK then reads it). */
export function parseBatchGetItemAnswer(text: string): BatchGetItemAnswer | undefined {
  const body = jsonOrUndefined(text);
  if (!isRecord(body)) return undefined;
  const { Responses: responses = {}, UnprocessedKeys: unprocessed = {} } = body;
  if (!(isRecord(responses) && isRecord(unprocessed))) return undefined;
  for (const items of Object.values(responses)) {
    if (!(Array.isArray(items) && items.every(isItem))) return undefined;
  }
  for (const entry of Object.values(unprocessed)) {
    if (!isRecord(entry)) return undefined;
    const keys = entry.Keys ?? [];
    if (!(Array.isArray(keys) && keys.every(isItem))) return undefined;
  }
  return {
    Responses: responses as Record<string, Item[]>,
    UnprocessedKeys: unprocessed as Record<string, { Keys?: Item[] }>,
  };
}

const isItem = (value: unknown): boolean =>
  isRecord(value) && Object.values(value).every(isAttributeValue);

/** One attribute value of DynamoDB's JSON, binary excepted (see above). */
function isAttributeValue(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const kinds = Object.keys(value);
  if (kinds.length !== 1) return false;
  const kind = kinds[0] as string;
  const inner = value[kind];
  switch (kind) {
    case 'S':
    case 'N':
      return typeof inner === 'string';
    case 'BOOL':
      return typeof inner === 'boolean';
    case 'NULL':
      return inner === true;
    case 'SS':
    case 'NS':
      return Array.isArray(inner) && inner.every((each) => typeof each === 'string');
    case 'L':
      return Array.isArray(inner) && inner.every(isAttributeValue);
    case 'M':
      return isItem(inner);
    default:
      return false;
  }
}
