/**
 * One target, one run: observe the stored token, let the planner decide, act
 * (log in again, verify, store), then the same for each lease. Every failure
 * becomes a {@link Problem}; nothing here throws for a Vault or AWS failure.
 */

import type { LeaseConfig, TargetConfig } from '../config/types.js';
import { Severity } from './notifier-port.js';
import {
  decideLease,
  decideToken,
  LeaseAction,
  type LeaseDecision,
  type LeaseObservation,
  leaseNeedsReissueWithoutRenewing,
  TokenAction,
  type TokenDecision,
  type TokenObservation,
  TokenReason,
} from './planner.js';
import { type Problem, ProblemCode } from './problems.js';
import {
  LeaseOutcome,
  type LeaseReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from './report.js';
import {
  parseAppRoleDocument,
  parseLeaseDocument,
  parseTokenDocument,
  renderLeaseDocument,
  renderTokenDocument,
  type TokenDocument,
} from './secret-documents.js';
import type { SecretLookup } from './secret-reads.js';
import type { SecretsStore } from './store-port.js';
import {
  describeAnswer,
  RELOGIN_WHY,
  readFailureProblem,
  reissueProblem,
  reloginProblem,
  renewDeniedKeptProblem,
  tokenReportProblem,
} from './target-problems.js';
import { isVaultFailure, type TokenInfo, VaultFailureKind, type VaultPort } from './vault-port.js';

export interface RunContext {
  readonly vault: VaultPort;
  readonly store: SecretsStore;
  readonly now: () => number;
  readonly scheduleIntervalSeconds: number;
  readonly dryRun: boolean;
  readonly forceRelogin: boolean;
  readonly signal: AbortSignal;
  /**
   * Builds the idempotency key of a write from the secret and the exact value
   * written (one-way: SHA-256): a retried write of the same value cannot make a
   * second version, and a different value never collides with an earlier key
   * (which AWS would refuse). Keys built from an accessor or a lease id were
   * empty for batch tokens and lease-less paths, and so collided on every run.
   */
  readonly requestToken: (...parts: string[]) => string;
}

interface ActiveToken {
  readonly token: string;
  readonly accessor: string | undefined;
}

function failureKind(error: unknown): VaultFailureKind | undefined {
  return isVaultFailure(error) ? error.kind : undefined;
}

function isoAfter(nowMs: number, seconds: number): string {
  return new Date(nowMs + seconds * 1000).toISOString();
}

export async function runTarget(
  target: TargetConfig,
  secrets: SecretLookup,
  context: RunContext,
): Promise<TargetReport> {
  const started = context.now();
  const run = new TargetRun(target, secrets, context);
  try {
    await run.execute();
  } catch (error) {
    // A bug must not stop the other targets; it is reported like any failure.
    run.problems.push({
      code: ProblemCode.UnexpectedError,
      severity: Severity.Error,
      summary: 'The renewer hit an unexpected error while processing this target.',
      answer: describeAnswer(error),
    });
  }
  return run.report(context.now() - started);
}

class TargetRun {
  public readonly problems: Problem[] = [];
  private readonly leaseReports: LeaseReport[] = [];
  private tokenOutcome: TargetReport['token'] = { outcome: TokenOutcome.Untouched };
  private writes = 0;

  public constructor(
    private readonly target: TargetConfig,
    private readonly secrets: SecretLookup,
    private readonly context: RunContext,
  ) {}

  public async execute(): Promise<void> {
    const tokenRead = this.secrets.get(this.target.tokenSecretId);
    const unreadable = readFailureProblem(tokenRead, 'token secret');
    if (unreadable !== undefined || !tokenRead?.ok) {
      this.problems.push(
        unreadable ?? {
          code: ProblemCode.SecretUnreadable,
          severity: Severity.Error,
          summary: 'The token secret could not be read.',
        },
      );
      this.tokenOutcome = { outcome: TokenOutcome.Failed, reason: 'secret-unreadable' };
      this.skipLeases('token secret unreadable');
      return;
    }
    let document: TokenDocument;
    try {
      document = parseTokenDocument(tokenRead.secret.value);
    } catch (error) {
      this.problems.push({
        code: ProblemCode.SecretMalformed,
        severity: Severity.Error,
        summary: `The token secret cannot be used: ${(error as Error).message}. It was left unchanged.`,
      });
      this.tokenOutcome = { outcome: TokenOutcome.Failed, reason: 'secret-malformed' };
      this.skipLeases('token secret malformed');
      return;
    }
    this.checkAppRoleSecretEarly();
    const active = await this.handleToken(document);
    await this.handleLeases(active);
  }

  /** A broken AppRole secret is reported even when this run does not need it: the next re-login would fail. */
  private checkAppRoleSecretEarly(): void {
    const read = this.secrets.get(this.target.approle.secretId);
    if (read?.ok) {
      try {
        parseAppRoleDocument(read.secret.value);
      } catch (error) {
        this.problems.push({
          code: ProblemCode.ApproleSecretUnusable,
          severity: Severity.Warning,
          summary: `The AppRole secret cannot be used (${(error as Error).message}); the next re-login will fail.`,
        });
      }
      return;
    }
    const problem = readFailureProblem(read, 'AppRole secret');
    if (problem !== undefined) {
      this.problems.push({
        ...problem,
        code: ProblemCode.ApproleSecretUnusable,
        severity: Severity.Warning,
        summary: 'The AppRole secret could not be read; the next re-login will fail.',
      });
    }
  }

  // ---- token ---------------------------------------------------------------

  private async observeToken(document: TokenDocument): Promise<{
    observation: TokenObservation;
    error?: unknown;
    info?: TokenInfo;
  }> {
    const { vault, signal } = this.context;
    const endpoint = this.target.vault;
    if (this.context.forceRelogin) {
      return { observation: { kind: 'skipped' } };
    }
    if (document.token === undefined) {
      return { observation: { kind: 'absent' } };
    }
    if (this.context.dryRun) {
      try {
        const info = await vault.lookupSelf(endpoint, document.token, { signal });
        return { observation: { kind: 'looked-up', info }, info };
      } catch (error) {
        // lookup-self is in the default policy: a 403 means the token is dead
        // (OpenBao and Vault < 1.17 say only `permission denied`).
        const kind = failureKind(error);
        if (kind === VaultFailureKind.PermissionDenied || kind === VaultFailureKind.InvalidToken) {
          return { observation: { kind: 'failed', failure: VaultFailureKind.InvalidToken }, error };
        }
        return { observation: this.failedObservation(error), error };
      }
    }
    try {
      const renewal = await vault.renewSelf(
        endpoint,
        document.token,
        this.target.incrementSeconds,
        {
          signal,
        },
      );
      return { observation: { kind: 'renewed', renewal } };
    } catch (error) {
      const kind = failureKind(error);
      if (kind === VaultFailureKind.PermissionDenied || kind === VaultFailureKind.NotRenewable) {
        // A 403 without `invalid token` is a policy denial on a live token, or
        // (older Vault) a dead token; lookup-self, granted by the default
        // policy, tells them apart. It also reveals a root token.
        try {
          const info = await vault.lookupSelf(endpoint, document.token, { signal });
          return { observation: { kind: 'failed', failure: kind, lookup: info }, error, info };
        } catch (lookupError) {
          if (kind === VaultFailureKind.PermissionDenied) {
            const lookupKind = failureKind(lookupError);
            if (
              lookupKind === VaultFailureKind.InvalidToken ||
              lookupKind === VaultFailureKind.PermissionDenied
            ) {
              return {
                observation: { kind: 'failed', failure: VaultFailureKind.InvalidToken },
                error,
              };
            }
          }
        }
      }
      return { observation: this.failedObservation(error), error };
    }
  }

  private failedObservation(error: unknown): TokenObservation {
    return { kind: 'failed', failure: failureKind(error) ?? VaultFailureKind.Unavailable };
  }

  private async handleToken(document: TokenDocument): Promise<ActiveToken | undefined> {
    const { observation, error, info } = await this.observeToken(document);
    const decision = decideToken(observation, {
      scheduleIntervalSeconds: this.context.scheduleIntervalSeconds,
      forceRelogin: this.context.forceRelogin,
    });
    const now = this.context.now();
    const current: ActiveToken | undefined =
      document.token === undefined
        ? undefined
        : {
            token: document.token,
            accessor:
              observation.kind === 'renewed'
                ? observation.renewal.accessor
                : (info?.accessor ?? document.accessor),
          };
    const ttl = decision.ttlSeconds;
    const expiry = ttl === undefined ? {} : { ttlSeconds: ttl, expiresAt: isoAfter(now, ttl) };

    if (decision.action === TokenAction.Keep && decision.reason === TokenReason.RenewDenied) {
      this.tokenOutcome = { outcome: TokenOutcome.Untouched, reason: decision.reason, ...expiry };
      this.problems.push(renewDeniedKeptProblem(decision, error, info));
      return current;
    }

    if (decision.action === TokenAction.Keep) {
      this.tokenOutcome = {
        outcome: this.context.dryRun ? TokenOutcome.WouldRenew : TokenOutcome.Renewed,
        reason: decision.reason,
        ...expiry,
      };
      if (decision.reason === TokenReason.TtlBelowHorizon && ttl !== undefined) {
        this.problems.push({
          code: ProblemCode.TokenTtlBelowHorizon,
          severity:
            ttl <= this.context.scheduleIntervalSeconds ? Severity.Critical : Severity.Warning,
          summary: `The token was renewed but only for ${ttl}s, less than two schedule intervals (${this.context.scheduleIntervalSeconds}s each): one missed run lets it expire.`,
          secondsUntilExpiry: ttl,
          facts: { intervalSeconds: String(this.context.scheduleIntervalSeconds) },
        });
      }
      return current;
    }

    if (decision.action === TokenAction.Report) {
      this.tokenOutcome = { outcome: TokenOutcome.Failed, reason: decision.reason };
      this.problems.push(tokenReportProblem(decision, error));
      this.skipLeases(decision.reason === TokenReason.Root ? 'root token' : 'Vault unreachable');
      return undefined;
    }

    // After a failed login the old token is only used when it was seen alive
    // this run: not when it is dead or absent, nor when an operator's forced
    // re-login skipped looking at it.
    const stillValid =
      decision.reason !== TokenReason.Invalid &&
      decision.reason !== TokenReason.Absent &&
      decision.reason !== TokenReason.Requested;
    const why = reloginProblem(decision, error, info);
    if (why !== undefined) {
      this.problems.push(why);
    }
    if (this.context.dryRun) {
      this.tokenOutcome = {
        outcome: TokenOutcome.WouldRelogin,
        reason: decision.reason,
        ...expiry,
      };
      return current;
    }
    const fresh = await this.relogin(document, decision);
    if (fresh === undefined) {
      this.tokenOutcome = { outcome: TokenOutcome.Failed, reason: decision.reason, ...expiry };
      if (!stillValid) {
        this.skipLeases('no valid token');
        return undefined;
      }
      return current;
    }
    return fresh;
  }

  private async relogin(
    document: TokenDocument,
    decision: TokenDecision,
  ): Promise<ActiveToken | undefined> {
    const { vault, store, signal } = this.context;
    const endpoint = this.target.vault;
    const critical =
      decision.reason === TokenReason.Invalid || decision.reason === TokenReason.Absent;
    const severity = critical ? Severity.Critical : Severity.Error;
    const ttl =
      decision.ttlSeconds === undefined ? {} : { secondsUntilExpiry: decision.ttlSeconds };

    const read = this.secrets.get(this.target.approle.secretId);
    if (!read?.ok) {
      this.problems.push({
        code: ProblemCode.ReloginFailed,
        severity,
        summary: 'Could not log in again: the AppRole secret could not be read.',
        ...(read === undefined ? {} : { answer: `${read.failure.code}: ${read.failure.message}` }),
        ...ttl,
      });
      return undefined;
    }
    let credentials: ReturnType<typeof parseAppRoleDocument>;
    try {
      credentials = parseAppRoleDocument(read.secret.value);
    } catch (error) {
      this.problems.push({
        code: ProblemCode.ReloginFailed,
        severity,
        summary: `Could not log in again: ${(error as Error).message}.`,
        ...ttl,
      });
      return undefined;
    }

    let login: Awaited<ReturnType<VaultPort['appRoleLogin']>>;
    try {
      login = await vault.appRoleLogin(endpoint, this.target.approle.mount, credentials, {
        signal,
      });
    } catch (error) {
      const kind = failureKind(error);
      const code =
        kind === VaultFailureKind.InvalidCredentials
          ? ProblemCode.ReloginBadCredentials
          : kind === VaultFailureKind.LockedOut
            ? ProblemCode.ReloginLockedOut
            : ProblemCode.ReloginFailed;
      this.problems.push({
        code,
        severity,
        summary:
          code === ProblemCode.ReloginBadCredentials
            ? 'AppRole login was refused: the role_id or secret_id is wrong, expired or used up.'
            : code === ProblemCode.ReloginLockedOut
              ? 'AppRole login was refused: the role is locked out after repeated failed logins.'
              : 'AppRole login failed.',
        answer: describeAnswer(error),
        ...ttl,
      });
      return undefined;
    }

    // Verify before storing: a token that cannot even look itself up must
    // never replace the stored one.
    let verified: TokenInfo;
    try {
      verified = await vault.lookupSelf(endpoint, login.token, { signal });
      if (verified.ttlSeconds <= 0 && verified.expireTime !== null) {
        throw new Error('the new token has no TTL left');
      }
    } catch (error) {
      this.problems.push({
        code: ProblemCode.NewTokenRejected,
        severity,
        summary:
          'Logged in again, but the new token failed verification (lookup-self); the stored token was left unchanged.',
        answer: describeAnswer(error),
        ...ttl,
      });
      return undefined;
    }

    const now = this.context.now();
    const value = renderTokenDocument(document.raw, {
      token: login.token,
      accessor: verified.accessor,
      renewable: login.renewable,
      policies: verified.policies,
      tokenType: verified.type,
      issuedAt: new Date(now).toISOString(),
      expiresAt: verified.expireTime,
      ttlSeconds: verified.ttlSeconds,
    });
    try {
      await store.write(
        {
          secretId: this.target.tokenSecretId,
          value,
          clientRequestToken: this.context.requestToken(this.target.tokenSecretId, value),
        },
        { signal },
      );
      this.writes += 1;
    } catch (error) {
      this.problems.push({
        code: ProblemCode.SecretWriteFailed,
        severity,
        summary:
          'Logged in again, but the new token could not be stored in Secrets Manager; the stored token was left unchanged.',
        answer: describeAnswer(error),
        ...ttl,
      });
      return undefined;
    }

    this.tokenOutcome = {
      outcome: TokenOutcome.Relogged,
      reason: decision.reason,
      ttlSeconds: verified.ttlSeconds,
      expiresAt: isoAfter(now, verified.ttlSeconds),
    };
    this.problems.push({
      code: ProblemCode.Relogin,
      severity: Severity.Info,
      summary: `Logged in again with AppRole (${RELOGIN_WHY[decision.reason] ?? decision.reason}); the new token is stored. The old token was not revoked.`,
      secondsUntilExpiry: verified.ttlSeconds,
    });
    return { token: login.token, accessor: verified.accessor };
  }

  // ---- leases --------------------------------------------------------------

  /** Reports `lease` as failed for `reason`, with the problem that says why. */
  private failLease(lease: LeaseConfig, reason: string, problem: Problem): void {
    this.problems.push(problem);
    this.leaseReports.push({ name: lease.name, outcome: LeaseOutcome.Failed, reason });
  }

  private skipLeases(reason: string): void {
    for (const lease of this.target.leases) {
      this.leaseReports.push({ name: lease.name, outcome: LeaseOutcome.Skipped, reason });
    }
  }

  private async handleLeases(active: ActiveToken | undefined): Promise<void> {
    if (active === undefined) {
      return;
    }
    const tokenReplaced =
      this.tokenOutcome.outcome === TokenOutcome.Relogged ||
      this.tokenOutcome.outcome === TokenOutcome.WouldRelogin;
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
      this.failLease(
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
      this.failLease(lease, 'secret-malformed', {
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
      this.leaseReports.push({
        name: lease.name,
        outcome: this.context.dryRun ? LeaseOutcome.WouldRenew : LeaseOutcome.Renewed,
        reason: decision.reason,
        ...expiry,
      });
      return;
    }
    if (decision.action === LeaseAction.Report) {
      this.failLease(lease, decision.reason, {
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
      this.problems.push(why);
    }
    if (this.context.dryRun) {
      this.leaseReports.push({
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
      this.failLease(lease, decision.reason, {
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
      this.failLease(lease, decision.reason, {
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
      this.writes += 1;
    } catch (error) {
      this.failLease(lease, decision.reason, {
        code: ProblemCode.SecretWriteFailed,
        severity: Severity.Error,
        summary: `A new lease "${lease.name}" was issued but could not be stored in Secrets Manager; the stored lease was left unchanged.`,
        lease: lease.name,
        answer: describeAnswer(error),
      });
      return;
    }
    this.problems.push({
      code: ProblemCode.LeaseReissued,
      severity: Severity.Info,
      summary: `Issued a new lease "${lease.name}" from ${lease.reissuePath} (${decision.reason}) and stored it.`,
      lease: lease.name,
      secondsUntilExpiry: issued.ttlSeconds,
    });
    this.leaseReports.push({
      name: lease.name,
      outcome: LeaseOutcome.Reissued,
      reason: decision.reason,
      ttlSeconds: issued.ttlSeconds,
      expiresAt: isoAfter(now, issued.ttlSeconds),
    });
  }

  // ---- report --------------------------------------------------------------

  public report(durationMs: number): TargetReport {
    const failed = this.problems.some(
      (p) => p.severity === Severity.Error || p.severity === Severity.Critical,
    );
    const status = failed
      ? TargetStatus.Failed
      : this.writes > 0
        ? TargetStatus.Changed
        : TargetStatus.Ok;
    return {
      target: this.target.name,
      status,
      token: this.tokenOutcome,
      leases: this.leaseReports,
      problems: this.problems,
      writes: this.writes,
      durationMs,
    };
  }
}
