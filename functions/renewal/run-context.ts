/**
 * What one renewal run works with, in one shape each: the dependencies
 * (ports, clock, idempotency keys), what was asked (the run request), and the
 * context every step of a target reads (never copies) from them.
 */

import type { ChangeEventPublisher, CredentialChange } from '../core/change-events-port.js';
import type { FleetLedger, LedgerStore } from '../core/fleet-ledger.js';
import type { IncidentStore } from '../core/incident-port.js';
import type { Notifier } from '../core/notifier-port.js';
import type { Problem } from '../core/problems.js';
import type { PacerFigures } from '../core/request-pacer.js';
import { MIN_TARGET_BUDGET_MS } from '../core/run-scope.js';
import type { SecretsStore, WrittenVersion } from '../core/store-port.js';
import type { VaultInspectionPort } from '../core/vault-inspection-port.js';
import { isVaultFailure, type VaultFailureKind, type VaultPort } from '../core/vault-port.js';
import type { WebIdentityPort } from '../core/web-identity-port.js';
import type { WriteBudget } from '../core/write-budget.js';

/** The narrow logger the run needs (Powertools Logger satisfies it). */
export interface RunLogger {
  /** The level in force (Powertools: `DEBUG`, `INFO`, ...); a healthy target is logged only at DEBUG or TRACE. */
  getLevelName?(): string;
  debug(message: string, ...fields: Record<string, unknown>[]): void;
  info(message: string, ...fields: Record<string, unknown>[]): void;
  warn(message: string, ...fields: Record<string, unknown>[]): void;
  error(message: string, ...fields: Record<string, unknown>[]): void;
}

export interface RenewalDeps {
  /** revokeSelf retires a replaced token; without it none is retired. */
  readonly vault: VaultPort & Partial<Pick<VaultInspectionPort, 'revokeSelf'>>;
  readonly store: SecretsStore;
  /** STS GetWebIdentityToken, for the targets that log in with `jwt`; absent: they cannot log in. */
  readonly webIdentity?: WebIdentityPort;
  readonly notifier: Notifier;
  /** Incident state; absent: every problem is published each run. */
  readonly incidents?: IncidentStore;
  /** What the last run left for this one (order, refusals); absent: each run starts afresh. */
  readonly ledger?: LedgerStore;
  /** The Vault request-rate budget's figures (429s seen), when the Vault client paces itself. */
  readonly vaultPacing?: () => PacerFigures;
  /** The deployment (POWERTOOLS_SERVICE_NAME): messages name their incident with it. */
  readonly serviceName: string;
  /** `Credential Changed` events for every version a run makes current. */
  readonly changeEvents: ChangeEventPublisher;
  readonly logger: RunLogger;
  readonly now: () => number;
  /**
   * Builds the idempotency key of a write from the secret and the exact value
   * written (one-way: SHA-256): a retried write of the same value cannot make a
   * second version, and a different value never collides with an earlier key
   * (which AWS would refuse).
   */
  readonly requestToken: (...parts: string[]) => string;
}

/** What an event asks of a run (the handler parses it). */
export interface RenewalRequest {
  /** Names of the targets to process; all when absent. Unknown names are rejected by the caller. */
  readonly targets?: readonly string[];
  readonly dryRun: boolean;
  readonly forceRelogin: boolean;
  /** A dry run publishes its messages only when asked (`"notify": true`). */
  readonly notify?: boolean;
}

/** The request as the run takes it: what was asked, plus the run's id and deadlines. */
export interface RunRequest extends RenewalRequest {
  readonly runId: string;
  /** Epoch ms after which no Vault or Secrets Manager call may still be running. */
  readonly deadlineAtMs: number;
  /**
   * Epoch ms by which publishing must be over too (Lambda's own end, less
   * time to return): messages about a slow run still go out after
   * `deadlineAtMs`, but never outlive the invocation.
   */
  readonly publishDeadlineAtMs: number;
  /**
   * One batch of a fanned-out run: not the whole fleet (its run causes
   * resolve in the run's last step), and its ledger kept under its own
   * partition so that concurrent batches never overwrite each other's.
   */
  readonly batch?: { readonly ledgerPartition: string };
}

export interface RunContext {
  readonly deps: RenewalDeps;
  readonly request: RunRequest;
  readonly scheduleIntervalSeconds: number;
  /** A secret_id expiring sooner than this is announced. */
  readonly secretIdWarnDays: number;
  /** Aborts every call at the run's deadline. */
  readonly signal: AbortSignal;
  /** What earlier runs left: the refusals a login must respect. */
  readonly ledger: FleetLedger;
  /** A refused AppRole secret version is tried again after this long. */
  readonly reloginRetrySeconds: number;
  /** The run's Secrets Manager writes. */
  readonly writes: WriteBudget;
  /** Targets to log in early if their token is capped by its max TTL: a wave spread over runs. */
  readonly early: ReadonlySet<string>;
  /** Seconds after a login before the token it replaced is revoked; absent: never. */
  readonly retireReplacedSeconds?: number;
  /**
   * Called by a target about to wait for a write slot: its worker goes on to
   * the next target meanwhile (absent: the target keeps its worker).
   */
  readonly park?: () => void;
}

/** The token the target's leases are renewed and issued with. */
export interface ActiveToken {
  readonly token: string;
  readonly accessor: string | undefined;
}

/** What a step found and did: it returns this, and shares no state with the other steps. */
export interface StepResult {
  readonly problems: readonly Problem[];
  /** Secrets Manager versions written. */
  readonly writes: number;
  /** What each of those writes changed, for the change events (absent: none). */
  readonly changes?: readonly CredentialChange[];
}

export function failureKind(error: unknown): VaultFailureKind | undefined {
  return isVaultFailure(error) ? error.kind : undefined;
}

export function isoAfter(nowMs: number, seconds: number): string {
  return new Date(nowMs + seconds * 1000).toISOString();
}

/** A credential must outlive the next run's start by this much to wait for that run. */
const NEXT_RUN_MARGIN_MS = 60_000;

/** Whether a credential dying at `diesAtMs` dies before the next run could act on it. */
export function diesBeforeNextRun(context: RunContext, diesAtMs: number): boolean {
  return (
    diesAtMs <= context.deps.now() + context.scheduleIntervalSeconds * 1000 + NEXT_RUN_MARGIN_MS
  );
}

/**
 * Waits for a Secrets Manager write slot, earliest `priorityMs` first, the
 * target parked meanwhile (its worker goes on); false when none comes before
 * the run's last start. Taken before Vault issues a credential, so nothing is
 * issued that could not be stored.
 */
export async function waitForWriteSlot(context: RunContext, priorityMs: number): Promise<boolean> {
  const { writes, signal, request } = context;
  const slot = writes.take(priorityMs, signal, request.deadlineAtMs - MIN_TARGET_BUDGET_MS);
  if (slot === undefined) return true;
  context.park?.();
  try {
    await slot;
    return true;
  } catch {
    return false;
  }
}

/**
 * Stores `value` as a new version of `secretId`, idempotent for that exact
 * value. The caller took its write slot first ({@link waitForWriteSlot}).
 */
export async function storeSecret(
  context: RunContext,
  secretId: string,
  value: string,
): Promise<WrittenVersion> {
  const { deps, signal } = context;
  // The slot admitted this write; its send still waits its turn, so writes
  // that bunched up behind Vault's answers stay within the quota.
  await context.writes.send(signal);
  return deps.store.write(
    { secretId, value, clientRequestToken: deps.requestToken(secretId, value) },
    { signal },
  );
}
