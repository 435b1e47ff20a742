/**
 * One lease of a target: observe it (renew, or look it up in a dry run) with
 * the token kept alive, let the planner decide, act (keep, report, or issue a
 * new one and store it). Returns its report and problems; shares no state.
 */

import type { LeaseConfig, TargetConfig } from '../config/types.js';
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
  leaseNeedsReissueWithoutRenewing,
} from './planner.js';
import { LeaseOutcome, type LeaseReport } from './report.js';
import {
  type ActiveToken,
  failureKind,
  isoAfter,
  type RunContext,
  type StepResult,
  storeSecret,
} from './run-context.js';
import {
  leaseNotIssuedProblem,
  leaseReissuedProblem,
  leaseReissueRefusedProblem,
  leaseRenewFailedProblem,
  leaseSecretUnreadable,
  leaseWriteFailedProblem,
  reissueProblem,
  secretMalformed,
} from './target-problems.js';

export interface LeaseStepResult extends StepResult {
  readonly report: LeaseReport;
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
): Promise<{ observation: LeaseObservation; error?: unknown }> {
  const { deps, request, signal } = context;
  if (leaseId === undefined) return { observation: { kind: 'absent' } };
  try {
    if (request.dryRun) {
      const info = await deps.vault.lookupLease(target.vault, active.token, leaseId, { signal });
      return {
        observation: { kind: 'looked-up', renewable: info.renewable, ttlSeconds: info.ttlSeconds },
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

export async function leaseStep(
  target: TargetConfig,
  lease: LeaseConfig,
  secrets: SecretLookup,
  context: RunContext,
  active: ActiveToken,
  tokenReplaced: boolean,
): Promise<LeaseStepResult> {
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
    const observed = await observeLease(target, lease, document.leaseId, active, context);
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
      problems: [],
      writes: 0,
    };
  }
  if (decision.action === LeaseAction.Report) {
    return failedLease(lease, decision.reason, leaseRenewFailedProblem(lease, error));
  }
  const why = reissueProblem(lease, decision, error);
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
  let issued: IssuedLease;
  try {
    issued = await deps.vault.issueLease(target.vault, active.token, lease.reissuePath, {
      signal,
    });
  } catch (error) {
    return failedLease(lease, decision.reason, leaseReissueRefusedProblem(lease, decision, error));
  }
  if (issued.leaseId === '') {
    // Storing it would look like a lease the renewer can never renew.
    return failedLease(lease, decision.reason, leaseNotIssuedProblem(lease));
  }
  const now = deps.now();
  const value = renderLeaseDocument(previous, {
    leaseId: issued.leaseId,
    ttlSeconds: issued.ttlSeconds,
    renewable: issued.renewable,
    data: issued.data,
    path: lease.reissuePath,
    tokenAccessor: active.accessor ?? '',
    issuedAt: new Date(now).toISOString(),
    expiresAt: isoAfter(now, issued.ttlSeconds),
  });
  try {
    await storeSecret(context, lease.secretId, value);
  } catch (error) {
    return failedLease(lease, decision.reason, leaseWriteFailedProblem(lease, error));
  }
  return {
    report: {
      name: lease.name,
      outcome: LeaseOutcome.Reissued,
      reason: decision.reason,
      ttlSeconds: issued.ttlSeconds,
      expiresAt: isoAfter(now, issued.ttlSeconds),
    },
    problems: [leaseReissuedProblem(lease, decision, issued.ttlSeconds)],
    writes: 1,
  };
}
