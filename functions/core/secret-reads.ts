/**
 * Secrets for many targets, read 20 ids a BatchGetSecretValue call ahead of
 * the targets that need them (ids packed across target boundaries, so reads
 * stay at 1/20 per secret). Each call's result is dropped once the last
 * target using it is done, so a long run frees secrets as it goes instead of
 * keeping all of them until its end. This module is the one place that
 * splits secret ids into reads.
 */

import pLimit from 'p-limit';
import type { TargetConfig } from '../config/types.js';
import { SECRET_IDS_PER_READ, type SecretReadResult } from './store-port.js';

/** BatchGetSecretValue calls in flight (AWS allows 100 such calls per second per Region). */
export const READ_CONCURRENCY = 4;

/** What a target's run needs: its secrets by id. */
export interface SecretLookup {
  get(secretId: string): SecretReadResult | undefined;
}

/** The secret ids one target needs. */
export function secretIdsOf(target: TargetConfig): string[] {
  return [
    target.tokenSecretId,
    ...(target.approle === undefined ? [] : [target.approle.secretId]),
    ...target.leases.map((l) => l.secretId),
  ];
}

/** Every secret id of `targets` (first use wins), 20 per call, in target order. */
export function chunkSecretIds(targets: readonly TargetConfig[]): string[][] {
  const ids = [...new Set(targets.flatMap(secretIdsOf))];
  const chunks: string[][] = [];
  for (let start = 0; start < ids.length; start += SECRET_IDS_PER_READ) {
    chunks.push(ids.slice(start, start + SECRET_IDS_PER_READ));
  }
  return chunks;
}

type Read = ReadonlyMap<string, SecretReadResult> | undefined;

export class SecretReads {
  private readonly reads: (Promise<Read> | undefined)[];
  private readonly chunkOf = new Map<string, number>();
  /** The calls holding each target's secrets, by target name: worked out once, used thrice. */
  private readonly chunksByTarget = new Map<string, readonly number[]>();
  private readonly users: number[];

  /**
   * @param read reads one call's ids; `undefined` means it was not read (the
   *   deadline came first). Calls are started in target order as `read`'s own
   *   concurrency limit lets them.
   */
  public constructor(
    targets: readonly TargetConfig[],
    read: (ids: readonly string[]) => Promise<Read>,
  ) {
    const chunks = chunkSecretIds(targets);
    chunks.forEach((ids, index) => {
      for (const id of ids) this.chunkOf.set(id, index);
    });
    this.users = chunks.map(() => 0);
    for (const target of targets) {
      for (const index of this.chunksOf(target)) this.users[index] = (this.users[index] ?? 0) + 1;
    }
    this.reads = chunks.map((ids) => read(ids));
  }

  private chunksOf(target: TargetConfig): readonly number[] {
    let indexes = this.chunksByTarget.get(target.name);
    if (indexes === undefined) {
      indexes = [...new Set(secretIdsOf(target).map((id) => this.chunkOf.get(id) ?? 0))];
      this.chunksByTarget.set(target.name, indexes);
    }
    return indexes;
  }

  /** The target's secrets, or `undefined` when a call holding them was not made. */
  public async forTarget(target: TargetConfig): Promise<SecretLookup | undefined> {
    const reads = await Promise.all(this.chunksOf(target).map((index) => this.reads[index]));
    if (reads.some((r) => r === undefined)) {
      return undefined;
    }
    const maps = reads as ReadonlyMap<string, SecretReadResult>[];
    return {
      get: (secretId) => {
        for (const map of maps) {
          const found = map.get(secretId);
          if (found !== undefined) return found;
        }
        return undefined;
      },
    };
  }

  /** The target is done with its secrets: drop each call's result once nobody needs it. */
  public release(target: TargetConfig): void {
    for (const index of this.chunksOf(target)) {
      this.users[index] = (this.users[index] ?? 1) - 1;
      if (this.users[index] === 0) this.reads[index] = undefined;
    }
  }
}

/**
 * Every secret of `targets` before any target starts, `concurrency` reads in
 * flight: for a run that looks at all of them at once (diagnose). The renew
 * run streams instead ({@link SecretReads}).
 */
export async function readAllSecrets(
  targets: readonly TargetConfig[],
  read: (ids: readonly string[]) => Promise<ReadonlyMap<string, SecretReadResult>>,
  concurrency: number,
): Promise<ReadonlyMap<string, SecretReadResult>> {
  const limit = pLimit(concurrency);
  const reads = await Promise.all(chunkSecretIds(targets).map((ids) => limit(() => read(ids))));
  const all = new Map<string, SecretReadResult>();
  for (const results of reads) {
    for (const [secretId, result] of results) all.set(secretId, result);
  }
  return all;
}
