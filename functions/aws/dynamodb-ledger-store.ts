/**
 * The core's {@link LedgerStore} in the incident table: the ledger split
 * over items `ledger#<n>` (one per 1,500 configured targets, a target's
 * shard chosen by a hash of its name; a fanned-out run's batch keeps its
 * own, `ledger#<partition>#<n>`), each holding its entries as one JSON
 * string. The ledger holds exceptions only (targets left behind, failing,
 * refused), so a healthy fleet's items are empty and a run writes none:
 * only shards whose entries changed are put. At most 1,500 entries of about
 * 150 bytes keep an item far below DynamoDB's 400 KB.
 */

import { BatchGetItemCommand, type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { FleetLedger, LedgerEntry, LedgerStore } from '../core/fleet-ledger.js';

export const TARGETS_PER_SHARD = 1_500;
const MAX_KEYS_PER_READ = 100;
const MAX_BATCH_ROUNDS = 5;

export class LedgerStoreError extends Error {
  override name = 'LedgerStoreError';
}

export function shardCount(targets: number): number {
  return Math.max(1, Math.ceil(targets / TARGETS_PER_SHARD));
}

/** FNV-1a: stable across runs and containers, cheap for 10,000 names. */
export function shardOf(name: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i += 1) {
    hash ^= name.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

function scopeOf(shard: number, partition?: string): string {
  return partition === undefined ? `ledger#${shard}` : `ledger#${partition}#${shard}`;
}

function shardsOf(ledger: FleetLedger, shards: number): Map<number, Record<string, LedgerEntry>> {
  const split = new Map<number, Record<string, LedgerEntry>>();
  // Sorted, so an unchanged shard serialises to the same text and is not written.
  for (const [name, entry] of [...ledger].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const shard = shardOf(name, shards);
    const entries = split.get(shard) ?? {};
    entries[name] = entry;
    split.set(shard, entries);
  }
  return split;
}

export function createDynamoDbLedgerStore(client: DynamoDBClient, tableName: string): LedgerStore {
  return {
    async load(targets, options = {}) {
      const shards = shardCount(targets);
      const ledger = new Map<string, LedgerEntry>();
      for (let first = 0; first < shards; first += MAX_KEYS_PER_READ) {
        let keys = Array.from({ length: Math.min(MAX_KEYS_PER_READ, shards - first) }, (_, i) =>
          marshall({ scope: scopeOf(first + i, options.partition) }),
        );
        for (let round = 0; keys.length > 0; round += 1) {
          if (round === MAX_BATCH_ROUNDS) {
            throw new LedgerStoreError(
              `BatchGetItem left ${keys.length} ledger items unread after ${MAX_BATCH_ROUNDS} rounds (throttled)`,
            );
          }
          const answer = await client.send(
            new BatchGetItemCommand({ RequestItems: { [tableName]: { Keys: keys } } }),
            options.signal === undefined ? {} : { abortSignal: options.signal },
          );
          for (const raw of answer.Responses?.[tableName] ?? []) {
            const item = unmarshall(raw) as { entries?: unknown };
            if (typeof item.entries !== 'string') continue;
            const entries = JSON.parse(item.entries) as Record<string, LedgerEntry>;
            for (const [name, entry] of Object.entries(entries)) ledger.set(name, entry);
          }
          keys = answer.UnprocessedKeys?.[tableName]?.Keys ?? [];
        }
      }
      return ledger;
    },

    async save(ledger, previous, targets, options = {}) {
      const shards = shardCount(targets);
      const before = shardsOf(previous, shards);
      const after = shardsOf(ledger, shards);
      const puts: Promise<unknown>[] = [];
      for (let shard = 0; shard < shards; shard += 1) {
        const text = JSON.stringify(after.get(shard) ?? {});
        if (text === JSON.stringify(before.get(shard) ?? {})) continue;
        puts.push(
          client.send(
            new PutItemCommand({
              TableName: tableName,
              Item: marshall({ scope: scopeOf(shard, options.partition), entries: text }),
            }),
            options.signal === undefined ? {} : { abortSignal: options.signal },
          ),
        );
      }
      await Promise.all(puts);
    },
  };
}
