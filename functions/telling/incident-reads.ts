/**
 * Reading incident state: the scopes a target's incidents live in, and
 * their items read 100 scopes a call, a few calls at a time. The teller
 * reads through it before it tells; diagnose reads through it to list what
 * is open.
 */

import pLimit from 'p-limit';
import type { TargetConfig } from '../config/types.js';
import {
  INCIDENT_SCOPES_PER_READ,
  type IncidentItem,
  type IncidentStore,
  rotationScope,
  targetScope,
} from '../core/incident-port.js';

/** Incident reads at once (100 scopes each). */
const READ_CONCURRENCY = 4;

/** The items of `scopes` (missing ones absent). Throws when any read fails. */
export async function readIncidentItems(
  store: Pick<IncidentStore, 'readBatch'>,
  scopes: readonly string[],
  options: { readonly signal?: AbortSignal } = {},
): Promise<ReadonlyMap<string, IncidentItem>> {
  const limit = pLimit(READ_CONCURRENCY);
  const batches = await Promise.all(
    Array.from({ length: Math.ceil(scopes.length / INCIDENT_SCOPES_PER_READ) }, (_, i) =>
      limit(() =>
        store.readBatch(
          scopes.slice(i * INCIDENT_SCOPES_PER_READ, (i + 1) * INCIDENT_SCOPES_PER_READ),
          options,
        ),
      ),
    ),
  );
  return new Map(batches.flatMap((batch) => [...batch]));
}

/** Where a target's incidents live: its renewals', and each rotated secret's. */
export function incidentScopesOf(
  target: TargetConfig,
): readonly { readonly scope: string; readonly rotation?: 'approle' | 'token' }[] {
  return [
    { scope: targetScope(target.name) },
    ...(['approle', 'token'] as const)
      .filter((kind) => target.rotation?.[kind] !== undefined)
      .map((kind) => ({ scope: rotationScope(target.name, kind), rotation: kind })),
  ];
}
