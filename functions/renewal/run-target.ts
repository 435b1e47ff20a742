/**
 * One target, one run: observe the stored token, let the planner decide, act
 * (log in again, verify, store), then hand the leases to {@link LeaseStep}.
 * Every failure becomes a {@link Problem}; nothing here throws for a Vault or
 * AWS failure.
 */

import type { TargetConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import { ProblemCode } from '../core/problems.js';
import {
  parseAppRoleDocument,
  parseTokenDocument,
  renderTokenDocument,
  type TokenDocument,
} from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import { type TokenInfo, VaultFailureKind, type VaultPort } from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import { LeaseStep } from './lease-step.js';
import {
  decideToken,
  TokenAction,
  type TokenDecision,
  type TokenObservation,
  TokenReason,
} from './planner.js';
import { type TargetReport, TokenOutcome } from './report.js';
import {
  RELOGIN_WHY,
  readFailureProblem,
  reloginProblem,
  renewDeniedKeptProblem,
  tokenReportProblem,
} from './target-problems.js';
import {
  type ActiveToken,
  failureKind,
  isoAfter,
  type RunContext,
  TargetState,
} from './target-state.js';

export type { RunContext } from './target-state.js';

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
    run.state.problems.push({
      code: ProblemCode.UnexpectedError,
      severity: Severity.Error,
      summary: 'The renewer hit an unexpected error while processing this target.',
      answer: describeAnswer(error),
    });
  }
  return run.state.report(target.name, context.now() - started);
}

class TargetRun {
  public readonly state = new TargetState();

  public constructor(
    private readonly target: TargetConfig,
    private readonly secrets: SecretLookup,
    private readonly context: RunContext,
  ) {}

  public async execute(): Promise<void> {
    const tokenRead = this.secrets.get(this.target.tokenSecretId);
    const unreadable = readFailureProblem(tokenRead, 'token secret');
    if (unreadable !== undefined || !tokenRead?.ok) {
      this.state.problems.push(
        unreadable ?? {
          code: ProblemCode.SecretUnreadable,
          severity: Severity.Error,
          summary: 'The token secret could not be read.',
        },
      );
      this.state.tokenOutcome = { outcome: TokenOutcome.Failed, reason: 'secret-unreadable' };
      this.state.skipLeases(this.target.leases, 'token secret unreadable');
      return;
    }
    let document: TokenDocument;
    try {
      document = parseTokenDocument(tokenRead.secret.value);
    } catch (error) {
      this.state.problems.push({
        code: ProblemCode.SecretMalformed,
        severity: Severity.Error,
        summary: `The token secret cannot be used: ${(error as Error).message}. It was left unchanged.`,
      });
      this.state.tokenOutcome = { outcome: TokenOutcome.Failed, reason: 'secret-malformed' };
      this.state.skipLeases(this.target.leases, 'token secret malformed');
      return;
    }
    this.checkAppRoleSecretEarly();
    const active = await this.handleToken(document);
    await new LeaseStep(this.target, this.secrets, this.context, this.state).run(active);
  }

  /** A broken AppRole secret is reported even when this run does not need it: the next re-login would fail. */
  private checkAppRoleSecretEarly(): void {
    const read = this.secrets.get(this.target.approle.secretId);
    if (read?.ok) {
      try {
        parseAppRoleDocument(read.secret.value);
      } catch (error) {
        this.state.problems.push({
          code: ProblemCode.ApproleSecretUnusable,
          severity: Severity.Warning,
          summary: `The AppRole secret cannot be used (${(error as Error).message}); the next re-login will fail.`,
        });
      }
      return;
    }
    const problem = readFailureProblem(read, 'AppRole secret');
    if (problem !== undefined) {
      this.state.problems.push({
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
      this.state.tokenOutcome = {
        outcome: TokenOutcome.Untouched,
        reason: decision.reason,
        ...expiry,
      };
      this.state.problems.push(renewDeniedKeptProblem(decision, error, info));
      return current;
    }

    if (decision.action === TokenAction.Keep) {
      this.state.tokenOutcome = {
        outcome: this.context.dryRun ? TokenOutcome.WouldRenew : TokenOutcome.Renewed,
        reason: decision.reason,
        ...expiry,
      };
      if (decision.reason === TokenReason.TtlBelowHorizon && ttl !== undefined) {
        this.state.problems.push({
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
      this.state.tokenOutcome = { outcome: TokenOutcome.Failed, reason: decision.reason };
      this.state.problems.push(tokenReportProblem(decision, error));
      this.state.skipLeases(
        this.target.leases,
        decision.reason === TokenReason.Root ? 'root token' : 'Vault unreachable',
      );
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
      this.state.problems.push(why);
    }
    if (this.context.dryRun) {
      this.state.tokenOutcome = {
        outcome: TokenOutcome.WouldRelogin,
        reason: decision.reason,
        ...expiry,
      };
      return current;
    }
    const fresh = await this.relogin(document, decision);
    if (fresh === undefined) {
      this.state.tokenOutcome = {
        outcome: TokenOutcome.Failed,
        reason: decision.reason,
        ...expiry,
      };
      if (!stillValid) {
        this.state.skipLeases(this.target.leases, 'no valid token');
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
      this.state.problems.push({
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
      this.state.problems.push({
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
      this.state.problems.push({
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
      this.state.problems.push({
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
      this.state.writes += 1;
    } catch (error) {
      this.state.problems.push({
        code: ProblemCode.SecretWriteFailed,
        severity,
        summary:
          'Logged in again, but the new token could not be stored in Secrets Manager; the stored token was left unchanged.',
        answer: describeAnswer(error),
        ...ttl,
      });
      return undefined;
    }

    this.state.tokenOutcome = {
      outcome: TokenOutcome.Relogged,
      reason: decision.reason,
      ttlSeconds: verified.ttlSeconds,
      expiresAt: isoAfter(now, verified.ttlSeconds),
    };
    this.state.problems.push({
      code: ProblemCode.Relogin,
      severity: Severity.Info,
      summary: `Logged in again with AppRole (${RELOGIN_WHY[decision.reason] ?? decision.reason}); the new token is stored. The old token was not revoked.`,
      secondsUntilExpiry: verified.ttlSeconds,
    });
    return { token: login.token, accessor: verified.accessor };
  }
}
