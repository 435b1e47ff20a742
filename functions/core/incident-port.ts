/**
 * Incident state: what has been told about each target (or shared cause),
 * so an alert is published when an incident opens, worsens, is due a
 * reminder, and resolves, not on every run. One item per scope (a target, or
 * a shared cause such as a Vault cluster) holding its open incidents by key,
 * so a run reads 100 scopes per batched call and writes nothing while
 * nothing changes. The `aws/` adapter keeps them in DynamoDB.
 */

import type { Severity } from './notifier-port.js';

/** One open incident: `key` is the event code, with `/<lease>` for a lease's. */
export interface OpenIncident {
  /**
   * The event code it opened under, and the lease it is about: what its
   * RESOLVED message names. Absent in items stored before they were kept,
   * whose key says it (telling/incident-plan.ts `openedAs`).
   */
  readonly code?: string;
  readonly lease?: string;
  readonly severity: Severity;
  /** ISO time it opened. */
  readonly openedAt: string;
  /** ISO time of the last message about it (opening, worsening or reminder). */
  readonly lastPublishedAt: string;
}

export interface IncidentItem {
  /** `target#<name>` or `cause#<what>`. */
  readonly scope: string;
  readonly incidents: Readonly<Record<string, OpenIncident>>;
  /** Optimistic concurrency: each write expects the version it read. */
  readonly version: number;
}

export interface IncidentStore {
  /** The items of these scopes (missing ones are absent); at most 100 per call. */
  readBatch(
    scopes: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<ReadonlyMap<string, IncidentItem>>;
  /**
   * Writes `item` (version `expectedVersion + 1`) if the stored one still has
   * `expectedVersion` (`undefined`: none stored). Answers false when another
   * run changed it first; throws when the table cannot be written.
   */
  write(
    item: IncidentItem,
    expectedVersion: number | undefined,
    options?: { readonly signal?: AbortSignal },
  ): Promise<boolean>;
}

export const INCIDENT_SCOPES_PER_READ = 100;

export function targetScope(target: string): string {
  return `target#${target}`;
}

export function causeScope(cause: string): string {
  return `cause#${cause}`;
}

/** The rotations of one secret (a target's AppRole or token secret): their failures. */
export function rotationScope(target: string, kind: string): string {
  return `rotation#${target}/${kind}`;
}
