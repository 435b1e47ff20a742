/**
 * One lease of a target: observe it (renew, or look it up in a dry run) with
 * the token kept alive, let the planner decide, act (keep, report, or issue a
 * new one and store it). Returns its report and problems; shares no state.
 */

import type { LeaseConfig, TargetConfig } from '../config/types.js';
import { CredentialKind } from '../core/change-events-port.js';
import { mayTryAgain, type Refusal } from '../core/fleet-ledger.js';
import { extendIfShort, Lifetime, lifetimeOf } from '../core/lifetime.js';
import type { Problem } from '../core/problems.js';
import {
  type LeaseDocument,
  parseLeaseDocument,
  renderLeaseDocument,
} from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import { type IssuedLease, VaultFailureKind } from '../core/vault-port.js';
import {
  decideLease,
  LeaseAction,
  type LeaseDecision,
  type LeaseObservation,
  LeaseReason,
  leaseNeedsReissueWithoutRenewing,
} from './planner.js';
import { LeaseOutcome, type LeaseReport } from './report.js';
import {
  type ActiveToken,
  diesBeforeNextRun,
  failureKind,
  isoAfter,
  type RunContext,
  type StepResult,
  storeSecret,
  waitForWriteSlot,
} from './run-context.js';
import {
  leaseNotIssuedProblem,
  leaseReissuedProblem,
  leaseReissueRefusedProblem,
  leaseRenewFailedProblem,
  leaseSecretUnreadable,
  leaseTtlBelowHorizonProblem,
  leaseWriteFailedProblem,
  reissueProblem,
  secretMalformed,
  writesDeferredProblem,
} from './target-problems.js';

export interface LeaseStepResult extends StepResult {
  readonly report: LeaseReport;
  /** Dry run: what it could not know. */
  readonly unknown?: readonly string[];
  /** A re-issue Vault refused with 403 (remembered), or `null` after one succeeded. */
  readonly refused?: Refusal | null;
}

function failedLease(lease: LeaseConfig, reason: string, problem: Problem): LeaseStepResult {
  return {
    report: { name: lease.name, outcome: LeaseOutcome.Failed, reason },
    problems: [problem],
    writes: 0,
  };
}

/** The reports of leases not touched this run, and why. */
export function skippedLeases(leases: readonly LeaseConfig[], reason: string): LeaseReport[] {
  return leases.map((lease) => ({ name: lease.name, outcome: LeaseOutcome.Skipped, reason }));
}

async function observeLease(
  target: TargetConfig,
  lease: LeaseConfig,
  leaseId: string | undefined,
  active: ActiveToken,
  context: RunContext,
  mayRenew: boolean | undefined,
): Promise<{ observation: LeaseObservation; error?: unknown }> {
  const { deps, request, signal } = context;
  if (leaseId === undefined) return { observation: { kind: 'absent' } };
  try {
    if (request.dryRun) {
      const info = await deps.vault.lookupLease(target.vault, active.token, leaseId, { signal });
      return {
        observation: {
          kind: 'looked-up',
          renewable: info.renewable,
          ttlSeconds: info.ttlSeconds,
          ...(mayRenew === undefined ? {} : { mayRenew }),
        },
      };
    }
    const renewal = await deps.vault.renewLease(
      target.vault,
      active.token,
      leaseId,
      lease.incrementSeconds,
      { signal },
    );
    return { observation: { kind: 'renewed', renewal } };
  } catch (error) {
    return {
      observation: { kind: 'failed', failure: failureKind(error) ?? VaultFailureKind.Unavailable },
      error,
    };
  }
}

/** What the token step left for the leases. */
export interface LeaseTokenState {
  /** The token the leases are renewed and issued with. */
  readonly active: ActiveToken;
  /** It replaced the stored one this run: every lease moves to it. */
  readonly replaced: boolean;
  /** Dry run: whether it may renew leases (sys/capabilities-self), when asked. */
  readonly mayRenewLeases?: boolean;
  /** Its login was left for the next run: a lease capped by it waits for that login. */
  readonly loginDeferred?: boolean;
}

export async function leaseStep(
  target: TargetConfig,
  lease: LeaseConfig,
  secrets: SecretLookup,
  context: RunContext,
  token: LeaseTokenState,
): Promise<LeaseStepResult> {
  const { active, replaced: tokenReplaced, mayRenewLeases: mayRenew } = token;
  const read = secrets.get(lease.secretId);
  if (!read?.ok) {
    return failedLease(lease, 'secret-unreadable', leaseSecretUnreadable(lease, read));
  }
  let document: LeaseDocument;
  try {
    document = parseLeaseDocument(read.secret.value);
  } catch (error) {
    return failedLease(
      lease,
      'secret-malformed',
      secretMalformed(`lease secret "${lease.name}"`, error, lease.name),
    );
  }

  const leaseContext = {
    scheduleIntervalSeconds: context.scheduleIntervalSeconds,
    tokenReplaced,
    ownerIsStale:
      document.tokenAccessor !== undefined &&
      active.accessor !== undefined &&
      document.tokenAccessor !== active.accessor,
  };
  let decision = leaseNeedsReissueWithoutRenewing(leaseContext);
  let error: unknown;
  if (decision === undefined) {
    const observed = await observeLease(target, lease, document.leaseId, active, context, mayRenew);
    error = observed.error;
    decision = decideLease(observed.observation, leaseContext);
  }
  const now = context.deps.now();
  const ttl = decision.ttlSeconds;
  const expiry = ttl === undefined ? {} : { ttlSeconds: ttl, expiresAt: isoAfter(now, ttl) };

  if (decision.action === LeaseAction.Keep) {
    const outcome = context.request.dryRun ? LeaseOutcome.WouldRenew : LeaseOutcome.Renewed;
    return {
      report: { name: lease.name, outcome, reason: decision.reason, ...expiry },
      // A dry run saw the TTL before any renewal: it cannot tell what one would grant.
      problems: context.request.dryRun ? [] : shortLived(lease, ttl, context),
      writes: 0,
      ...(decision.reason === LeaseReason.GrantUnknown
        ? {
            unknown: [
              `lease "${lease.name}" has ${ttl ?? 0}s left, less than the horizon: only renewing it tells what Vault would grant`,
            ],
          }
        : {}),
    };
  }
  if (decision.action === LeaseAction.Report) {
    return failedLease(lease, decision.reason, leaseRenewFailedProblem(lease, error));
  }
  const why = reissueProblem(lease, decision, error, context.request.dryRun);
  const announced = why === undefined ? [] : [why];
  if (context.request.dryRun) {
    return {
      report: {
        name: lease.name,
        outcome: LeaseOutcome.WouldReissue,
        reason: decision.reason,
        ...expiry,
      },
      problems: announced,
      writes: 0,
    };
  }
  if (token.loginDeferred === true && decision.reason === LeaseReason.MaxTtlInsideHorizon) {
    // Issued now, it would die with the same token: the next run logs in, then moves it.
    return {
      report: {
        name: lease.name,
        outcome: LeaseOutcome.Renewed,
        reason: 'login-deferred',
        ...expiry,
      },
      problems: [],
      writes: 0,
    };
  }
  const reissued = await reissue(target, lease, document.raw, active, decision, context);
  return { ...reissued, problems: [...announced, ...reissued.problems] };
}

async function reissue(
  target: TargetConfig,
  lease: LeaseConfig,
  previous: Readonly<Record<string, unknown>>,
  active: ActiveToken,
  decision: LeaseDecision,
  context: RunContext,
): Promise<LeaseStepResult> {
  const { deps, signal } = context;
  // A path this token was refused (403) is not asked again every run: the
  // policy has to change first, or the token (a login), or the back-off pass.
  // The ledger keeps a one-way digest of the token's accessor, never the accessor itself.
  const tokenVersion = deps.requestToken('lease-refusal', active.accessor ?? '');
  const refusal = context.ledger.get(target.name)?.refusedLeases?.[lease.name];
  if (!mayTryAgain(refusal, tokenVersion, deps.now(), context.reloginRetrySeconds)) {
    const retryAt = isoAfter((refusal?.atSeconds ?? 0) * 1000, context.reloginRetrySeconds);
    return {
      ...failedLease(
        lease,
        decision.reason,
        leaseReissueRefusedProblem(lease, decision, undefined, retryAt),
      ),
      ...(refusal === undefined ? {} : { refused: refusal }),
    };
  }
  // The slot its new version needs, before Vault creates a credential nobody could store.
  const slot = await takeLeaseWriteSlot(lease, decision, context);
  if (slot !== undefined) return slot;
  let issued: IssuedLease;
  try {
    issued = await deps.vault.issueLease(target.vault, active.token, lease.reissuePath, {
      signal,
    });
  } catch (error) {
    const denied = failureKind(error) === VaultFailureKind.PermissionDenied;
    return {
      ...failedLease(lease, decision.reason, leaseReissueRefusedProblem(lease, decision, error)),
      ...(denied
        ? { refused: { version: tokenVersion, atSeconds: Math.floor(deps.now() / 1000) } }
        : {}),
    };
  }
  if (issued.leaseId === '') {
    // Storing it would look like a lease the renewer can never renew.
    return failedLease(lease, decision.reason, leaseNotIssuedProblem(lease));
  }
  // A database role with a short default_ttl and a long max_ttl: extended at once.
  const ttlSeconds = await extendIfShort(
    issued.ttlSeconds,
    issued.renewable,
    context.scheduleIntervalSeconds,
    async () => {
      const renewed = await deps.vault.renewLease(
        target.vault,
        active.token,
        issued.leaseId,
        lease.incrementSeconds,
        { signal },
      );
      return renewed.ttlSeconds;
    },
  );
  const now = deps.now();
  const expiresAt = isoAfter(now, ttlSeconds);
  const value = renderLeaseDocument(previous, {
    leaseId: issued.leaseId,
    ttlSeconds,
    renewable: issued.renewable,
    data: issued.data,
    path: lease.reissuePath,
    tokenAccessor: active.accessor ?? '',
    issuedAt: new Date(now).toISOString(),
    expiresAt,
  });
  let written: Awaited<ReturnType<typeof storeSecret>>;
  try {
    written = await storeSecret(context, lease.secretId, value);
  } catch (error) {
    return failedLease(lease, decision.reason, leaseWriteFailedProblem(lease, error));
  }
  return {
    refused: null,
    report: {
      name: lease.name,
      outcome: LeaseOutcome.Reissued,
      reason: decision.reason,
      ttlSeconds,
      expiresAt,
    },
    problems: [
      leaseReissuedProblem(lease, decision, ttlSeconds),
      ...shortLived(lease, ttlSeconds, context, true),
    ],
    writes: 1,
    changes: [
      {
        target: target.name,
        kind: CredentialKind.Lease,
        name: lease.name,
        secretArn: written.arn,
        versionId: written.versionId,
        reason: decision.reason,
        expiresAt,
      },
    ],
  };
}

/**
 * Takes the write slot of a lease about to be issued; answers the result to
 * return when none could be had before the run's end. A lease re-issued is
 * gone, dies with a replaced token, or is capped: it goes first in line.
 */
async function takeLeaseWriteSlot(
  lease: LeaseConfig,
  decision: LeaseDecision,
  context: RunContext,
): Promise<LeaseStepResult | undefined> {
  const now = context.deps.now();
  if (await waitForWriteSlot(context, now)) return undefined;
  const ttlSeconds = Math.max(0, decision.ttlSeconds ?? 0);
  const urgent = diesBeforeNextRun(context, now + ttlSeconds * 1000);
  return failedLease(lease, decision.reason, {
    ...writesDeferredProblem(ttlSeconds, urgent),
    lease: lease.name,
    summary: `Lease "${lease.name}" needs a new issue (${decision.reason}), but the write budget left no slot to store it in this run; ${urgent ? 'it dies before the next run' : 'the next run issues it first'}.`,
  });
}

/** The lease dies before the renewer can act again: say when, why and the fix. */
function shortLived(
  lease: LeaseConfig,
  ttlSeconds: number | undefined,
  context: RunContext,
  fresh = false,
): Problem[] {
  if (ttlSeconds === undefined) return [];
  return lifetimeOf(ttlSeconds, context.scheduleIntervalSeconds) === Lifetime.Enough
    ? []
    : [leaseTtlBelowHorizonProblem(lease, ttlSeconds, context.scheduleIntervalSeconds, fresh)];
}
