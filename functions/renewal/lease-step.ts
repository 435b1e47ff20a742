/**
 * The leases of one target: renew each with the token kept alive, or issue a
 * new one (and store it) when the planner says so.
 */

import type { LeaseConfig, TargetConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import { ProblemCode } from '../core/problems.js';
import { parseLeaseDocument, renderLeaseDocument } from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import { VaultFailureKind, type VaultPort } from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import {
  decideLease,
  LeaseAction,
  type LeaseDecision,
  type LeaseObservation,
  leaseNeedsReissueWithoutRenewing,
} from './planner.js';
import { LeaseOutcome, TokenOutcome } from './report.js';
import { readFailureProblem, reissueProblem } from './target-problems.js';
import {
  type ActiveToken,
  failureKind,
  isoAfter,
  type RunContext,
  type TargetState,
} from './target-state.js';

export class LeaseStep {
  public constructor(
    private readonly target: TargetConfig,
    private readonly secrets: SecretLookup,
    private readonly context: RunContext,
    private readonly state: TargetState,
  ) {}

  public async run(active: ActiveToken | undefined): Promise<void> {
    if (active === undefined) {
      return;
    }
    const tokenReplaced =
      this.state.tokenOutcome.outcome === TokenOutcome.Relogged ||
      this.state.tokenOutcome.outcome === TokenOutcome.WouldRelogin;
    for (const lease of this.target.leases) {
      await this.handleLease(lease, active, tokenReplaced);
    }
  }

  private async handleLease(
    lease: LeaseConfig,
    active: ActiveToken,
    tokenReplaced: boolean,
  ): Promise<void> {
    const read = this.secrets.get(lease.secretId);
    const unreadable = readFailureProblem(read, `lease secret "${lease.name}"`, lease.name);
    if (unreadable !== undefined || !read?.ok) {
      this.state.failLease(
        lease,
        'secret-unreadable',
        unreadable ?? {
          code: ProblemCode.SecretUnreadable,
          severity: Severity.Error,
          summary: 'The lease secret could not be read.',
          lease: lease.name,
        },
      );
      return;
    }
    let document: ReturnType<typeof parseLeaseDocument>;
    try {
      document = parseLeaseDocument(read.secret.value);
    } catch (error) {
      this.state.failLease(lease, 'secret-malformed', {
        code: ProblemCode.SecretMalformed,
        severity: Severity.Error,
        summary: `The lease secret "${lease.name}" cannot be used: ${(error as Error).message}. It was left unchanged.`,
        lease: lease.name,
      });
      return;
    }

    const leaseContext = {
      scheduleIntervalSeconds: this.context.scheduleIntervalSeconds,
      tokenReplaced,
      ownerIsStale:
        document.tokenAccessor !== undefined &&
        active.accessor !== undefined &&
        document.tokenAccessor !== active.accessor,
    };
    let decision: LeaseDecision | undefined = leaseNeedsReissueWithoutRenewing(leaseContext);
    let error: unknown;
    if (decision === undefined) {
      const observed = await this.observeLease(lease, document.leaseId, active);
      error = observed.error;
      decision = decideLease(observed.observation, leaseContext);
    }
    const now = this.context.now();
    const ttl = decision.ttlSeconds;
    const expiry = ttl === undefined ? {} : { ttlSeconds: ttl, expiresAt: isoAfter(now, ttl) };

    if (decision.action === LeaseAction.Keep) {
      this.state.leaseReports.push({
        name: lease.name,
        outcome: this.context.dryRun ? LeaseOutcome.WouldRenew : LeaseOutcome.Renewed,
        reason: decision.reason,
        ...expiry,
      });
      return;
    }
    if (decision.action === LeaseAction.Report) {
      this.state.failLease(lease, decision.reason, {
        code: ProblemCode.LeaseRenewFailed,
        severity: Severity.Error,
        summary: `Lease "${lease.name}" could not be renewed and was left as it is.`,
        lease: lease.name,
        answer: describeAnswer(error),
      });
      return;
    }
    const why = reissueProblem(lease, decision, error);
    if (why !== undefined) {
      this.state.problems.push(why);
    }
    if (this.context.dryRun) {
      this.state.leaseReports.push({
        name: lease.name,
        outcome: LeaseOutcome.WouldReissue,
        reason: decision.reason,
        ...expiry,
      });
      return;
    }
    await this.reissue(lease, document.raw, active, decision);
  }

  private async observeLease(
    lease: LeaseConfig,
    leaseId: string | undefined,
    active: ActiveToken,
  ): Promise<{ observation: LeaseObservation; error?: unknown }> {
    const { vault, signal } = this.context;
    const endpoint = this.target.vault;
    if (leaseId === undefined) {
      return { observation: { kind: 'absent' } };
    }
    try {
      if (this.context.dryRun) {
        const info = await vault.lookupLease(endpoint, active.token, leaseId, { signal });
        return {
          observation: {
            kind: 'looked-up',
            renewable: info.renewable,
            ttlSeconds: info.ttlSeconds,
          },
        };
      }
      const renewal = await vault.renewLease(
        endpoint,
        active.token,
        leaseId,
        lease.incrementSeconds,
        {
          signal,
        },
      );
      return { observation: { kind: 'renewed', renewal } };
    } catch (error) {
      return {
        observation: {
          kind: 'failed',
          failure: failureKind(error) ?? VaultFailureKind.Unavailable,
        },
        error,
      };
    }
  }

  private async reissue(
    lease: LeaseConfig,
    previous: Readonly<Record<string, unknown>>,
    active: ActiveToken,
    decision: LeaseDecision,
  ): Promise<void> {
    const { vault, store, signal } = this.context;
    let issued: Awaited<ReturnType<VaultPort['issueLease']>>;
    try {
      issued = await vault.issueLease(this.target.vault, active.token, lease.reissuePath, {
        signal,
      });
    } catch (error) {
      this.state.failLease(lease, decision.reason, {
        code: ProblemCode.LeaseReissueFailed,
        severity: Severity.Error,
        summary: `Lease "${lease.name}" needed a new issue (${decision.reason}) but ${lease.reissuePath} refused it; the stored lease was left unchanged.`,
        lease: lease.name,
        answer: describeAnswer(error),
        facts: { path: lease.reissuePath },
      });
      return;
    }
    if (issued.leaseId === '') {
      // KV and static-role paths answer with data but no lease: storing it
      // would look like a lease the renewer can never renew.
      this.state.failLease(lease, decision.reason, {
        code: ProblemCode.LeaseReissueFailed,
        severity: Severity.Error,
        summary: `${lease.reissuePath} answered without a lease (not a dynamic-secrets path?); lease "${lease.name}" was left unchanged.`,
        lease: lease.name,
        facts: { path: lease.reissuePath },
      });
      return;
    }
    const now = this.context.now();
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
      await store.write(
        {
          secretId: lease.secretId,
          value,
          clientRequestToken: this.context.requestToken(lease.secretId, value),
        },
        { signal },
      );
      this.state.writes += 1;
    } catch (error) {
      this.state.failLease(lease, decision.reason, {
        code: ProblemCode.SecretWriteFailed,
        severity: Severity.Error,
        summary: `A new lease "${lease.name}" was issued but could not be stored in Secrets Manager; the stored lease was left unchanged.`,
        lease: lease.name,
        answer: describeAnswer(error),
      });
      return;
    }
    this.state.problems.push({
      code: ProblemCode.LeaseReissued,
      severity: Severity.Info,
      summary: `Issued a new lease "${lease.name}" from ${lease.reissuePath} (${decision.reason}) and stored it.`,
      lease: lease.name,
      secondsUntilExpiry: issued.ttlSeconds,
    });
    this.state.leaseReports.push({
      name: lease.name,
      outcome: LeaseOutcome.Reissued,
      reason: decision.reason,
      ttlSeconds: issued.ttlSeconds,
      expiresAt: isoAfter(now, issued.ttlSeconds),
    });
  }
}
