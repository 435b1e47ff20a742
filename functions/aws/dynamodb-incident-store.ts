/**
 * The core's {@link IncidentStore} over DynamoDB: one item per scope (hash
 * key `scope`), read with BatchGetItem (100 keys a call, unprocessed keys
 * read again), written with a conditional PutItem on `version`. Items whose
 * incidents are all closed carry `expiresAt` (DynamoDB TTL) and age out.
 */

import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  type DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import {
  INCIDENT_SCOPES_PER_READ,
  type IncidentItem,
  type IncidentStore,
} from '../core/incident-port.js';
import type { BatchGetItemAnswer, DirectBatchGetItem, Item } from './direct-batch-get-item.js';

/** How long an item without open incidents is kept before DynamoDB's TTL deletes it. */
export const CLOSED_ITEM_DAYS = 30;
const MAX_BATCH_ROUNDS = 5;

export class IncidentStoreError extends Error {
  override name = 'IncidentStoreError';
}

export interface DynamoDbIncidentStoreOptions {
  /** Epoch milliseconds, for the TTL of closed items. */
  readonly now?: () => number;
  /**
   * Sends BatchGetItem without the SDK's middleware (direct-batch-get-item.ts);
   * a call it gives back goes through `client`. Without it every read uses `client`.
   */
  readonly directRead?: DirectBatchGetItem;
}

export function createDynamoDbIncidentStore(
  client: DynamoDBClient,
  tableName: string,
  options: DynamoDbIncidentStoreOptions = {},
): IncidentStore {
  const { now = Date.now, directRead } = options;
  const readKeys = async (
    keys: Item[],
    signal: AbortSignal | undefined,
  ): Promise<BatchGetItemAnswer> =>
    (await directRead?.(tableName, keys, signal)) ??
    client.send(
      new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys } } }),
      signal === undefined ? {} : { abortSignal: signal },
    );
  return {
    async readBatch(scopes, readOptions = {}) {
      if (scopes.length > INCIDENT_SCOPES_PER_READ) {
        throw new RangeError(`at most ${INCIDENT_SCOPES_PER_READ} scopes per read`);
      }
      const items = new Map<string, IncidentItem>();
      let keys: Item[] = scopes.map((scope) => marshall({ scope }));
      for (let round = 0; keys.length > 0; round += 1) {
        if (round === MAX_BATCH_ROUNDS) {
          throw new IncidentStoreError(
            `BatchGetItem left ${keys.length} keys unprocessed after ${MAX_BATCH_ROUNDS} rounds (throttled)`,
          );
        }
        const answer = await readKeys(keys, readOptions.signal);
        for (const raw of answer.Responses?.[tableName] ?? []) {
          const item = unmarshall(raw) as IncidentItem;
          items.set(item.scope, {
            scope: item.scope,
            incidents: item.incidents ?? {},
            version: item.version ?? 0,
          });
        }
        keys = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
      }
      return items;
    },

    async write(item, expectedVersion, writeOptions = {}) {
      const open = Object.keys(item.incidents).length > 0;
      const stored = {
        scope: item.scope,
        incidents: item.incidents,
        version: item.version,
        ...(open ? {} : { expiresAt: Math.floor(now() / 1000) + CLOSED_ITEM_DAYS * 86_400 }),
      };
      try {
        await client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: marshall(stored, { removeUndefinedValues: true }),
            ...(expectedVersion === undefined
              ? { ConditionExpression: 'attribute_not_exists(#scope)' }
              : {
                  ConditionExpression: '#version = :expected',
                  ExpressionAttributeValues: marshall({ ':expected': expectedVersion }),
                }),
            ExpressionAttributeNames:
              expectedVersion === undefined ? { '#scope': 'scope' } : { '#version': 'version' },
          }),
          writeOptions.signal === undefined ? {} : { abortSignal: writeOptions.signal },
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },
  };
}
