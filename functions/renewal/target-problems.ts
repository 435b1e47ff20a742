/**
 * The words of every problem of a target's renewal, in one place: what
 * happened, as a {@link Problem}, from the planner's decision and what Vault
 * or AWS answered. Pure; the steps only choose which one to say,
 * `notification.ts` and `core/explain.ts` how to tell a human.
 */

import type { LeaseConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import { isServiceTrouble, type SecretReadResult } from '../core/store-port.js';
import { isVaultFailure, type TokenInfo, VaultFailureKind } from '../core/vault-port.js';
import { isWebIdentityFailure } from '../core/web-identity-port.js';
import { describeAnswer, humanSeconds } from '../core/wording.js';
import { type LeaseDecision, LeaseReason, type TokenDecision, TokenReason } from './planner.js';

export {
  leaseTtlBelowHorizonProblem,
  tokenTtlBelowHorizonProblem,
} from '../core/lifetime-problems.js';

/** Why a re-login happened, in words, for the INFO message. */
export const RELOGIN_WHY: Partial<Record<TokenReason, string>> = {
  [TokenReason.MaxTtlInsideHorizon]: 'the token reaches its max TTL within two schedule intervals',
  [TokenReason.MaxTtlSpread]:
    'the token reaches its max TTL in a later run that has more logins due than its write budget allows',
  [TokenReason.Requested]: 'an operator asked for it',
  [TokenReason.Absent]: 'the token secret held no token yet',
  [TokenReason.Invalid]: 'the stored token was invalid',
  [TokenReason.NotRenewable]: 'the stored token was not renewable',
  [TokenReason.Batch]: 'the stored token was a batch token',
  [TokenReason.RenewDenied]: 'the token may not renew itself',
};

export function readFailureProblem(
  read: SecretReadResult | undefined,
  what: string,
  lease?: string,
): Problem | undefined {
  if (read?.ok) {
    return undefined;
  }
  const answer = read === undefined ? 'not read' : `${read.failure.code}: ${read.failure.message}`;
  return {
    code: ProblemCode.SecretUnreadable,
    severity: Severity.Error,
    summary: `The ${what} could not be read from Secrets Manager.`,
    answer,
    ...(read !== undefined && isServiceTrouble(read.failure)
      ? { sharedCause: 'secretsmanager' as const }
      : {}),
    ...(lease === undefined ? {} : { lease }),
  };
}

/** Why the token was left alone: a root token, or Vault out of reach. */
export function tokenReportProblem(decision: TokenDecision, error: unknown): Problem {
  const answer = error === undefined ? {} : { answer: describeAnswer(error) };
  if (decision.reason === TokenReason.Root) {
    return {
      code: ProblemCode.TokenRoot,
      severity: Severity.Error,
      summary:
        'The stored token is a root token. Root tokens are never renewed; the renewer left it untouched.',
      ...answer,
    };
  }
  if (decision.reason === TokenReason.VaultUnavailable) {
    return {
      code: ProblemCode.VaultUnreachable,
      severity: Severity.Error,
      summary:
        'Vault did not renew the token (sealed, down, rate-limiting or too slow). The renewer did not log in again: that would not help and spends secret_id uses.',
      ...answer,
    };
  }
  return {
    code: ProblemCode.UnexpectedError,
    severity: Severity.Error,
    summary: 'Vault refused to renew the token for an unexpected reason.',
    ...answer,
  };
}

/** Why the target logs in again, when that is worth telling. */
export function reloginProblem(
  decision: TokenDecision,
  error: unknown,
  info: TokenInfo | undefined,
  dryRun = false,
): Problem | undefined {
  const answer = error === undefined ? {} : { answer: describeAnswer(error) };
  const ttl = decision.ttlSeconds === undefined ? {} : { secondsUntilExpiry: decision.ttlSeconds };
  switch (decision.reason) {
    case TokenReason.Invalid:
      return {
        code: ProblemCode.TokenInvalid,
        severity: Severity.Error,
        summary: `The stored token is invalid (expired or revoked); every lease it created is gone with it. ${dryRun ? 'A real run would log in again.' : 'Logging in again.'}`,
        ...answer,
      };
    case TokenReason.NotRenewable:
      return {
        code: ProblemCode.TokenNotRenewable,
        severity: Severity.Warning,
        summary: `The stored token is not renewable. ${dryRun ? 'A real run would log in again.' : 'Logging in again.'}`,
        ...answer,
        ...ttl,
      };
    // A batch token is replaced only once it would not outlive the horizon:
    // for a role that issues batch tokens that is routine, not an alert.
    case TokenReason.RenewDenied:
      return {
        code: ProblemCode.TokenRenewDenied,
        severity: Severity.Error,
        summary: `The token's policy does not allow renewing itself (auth/token/renew-self). ${dryRun ? 'A real run would log in again as a fallback' : 'Logged in again as a fallback'}; fix the policy.`,
        ...answer,
        ...ttl,
        ...(info === undefined ? {} : { facts: { policies: info.policies.join(',') } }),
      };
    default:
      return undefined;
  }
}

/** Why a lease is re-issued, when that is worth telling. */
export function reissueProblem(
  lease: LeaseConfig,
  decision: LeaseDecision,
  error: unknown,
  dryRun = false,
): Problem | undefined {
  const answer = error === undefined ? {} : { answer: describeAnswer(error) };
  switch (decision.reason) {
    case LeaseReason.Gone:
      return {
        code: ProblemCode.LeaseOrphaned,
        severity: Severity.Warning,
        summary: `Lease "${lease.name}" is gone (revoked, expired, or died with its token); ${dryRun ? 'a real run would issue a new one' : 'issuing a new one'}.`,
        lease: lease.name,
        ...answer,
      };
    case LeaseReason.RenewDenied:
      return {
        code: ProblemCode.LeaseRenewDenied,
        severity: Severity.Error,
        summary: `The token's policy does not allow renewing lease "${lease.name}" (sys/leases/renew); ${dryRun ? 'a real run would issue a new one' : 'issuing a new one'} as a fallback. Fix the policy.`,
        lease: lease.name,
        ...answer,
      };
    default:
      return undefined;
  }
}

/** The token may not renew itself but still outlives the horizon: kept, and the policy fix asked for. */
export function renewDeniedKeptProblem(
  decision: TokenDecision,
  error: unknown,
  info: TokenInfo | undefined,
): Problem {
  return {
    code: ProblemCode.TokenRenewDenied,
    severity: Severity.Error,
    summary:
      "The token's policy does not allow renewing itself (auth/token/renew-self). It was left as it is and will be replaced by an AppRole login once it has less than two schedule intervals left; fix the policy.",
    ...(error === undefined ? {} : { answer: describeAnswer(error) }),
    ...(decision.ttlSeconds === undefined ? {} : { secondsUntilExpiry: decision.ttlSeconds }),
    ...(info === undefined ? {} : { facts: { policies: info.policies.join(',') } }),
  };
}

export function tokenSecretUnreadable(read: SecretReadResult | undefined): Problem {
  return (
    readFailureProblem(read, 'token secret') ?? {
      code: ProblemCode.SecretUnreadable,
      severity: Severity.Error,
      summary: 'The token secret could not be read.',
    }
  );
}

export function secretMalformed(what: string, error: unknown, lease?: string): Problem {
  return {
    code: ProblemCode.SecretMalformed,
    severity: Severity.Error,
    summary: `The ${what} cannot be used: ${(error as Error).message}. It was left unchanged.`,
    ...(lease === undefined ? {} : { lease }),
  };
}

/** A broken AppRole secret, found before the re-login that would need it. */
export function approleSecretUnusable(
  read: SecretReadResult | undefined,
  parseError?: unknown,
): Problem | undefined {
  if (parseError !== undefined) {
    return {
      code: ProblemCode.ApproleSecretUnusable,
      severity: Severity.Warning,
      summary: `The AppRole secret cannot be used (${(parseError as Error).message}); the next re-login will fail.`,
    };
  }
  const unreadable = readFailureProblem(read, 'AppRole secret');
  return unreadable === undefined
    ? undefined
    : {
        ...unreadable,
        code: ProblemCode.ApproleSecretUnusable,
        severity: Severity.Warning,
        summary: 'The AppRole secret could not be read; the next re-login will fail.',
      };
}

export function unexpectedErrorProblem(error: unknown): Problem {
  return {
    code: ProblemCode.UnexpectedError,
    severity: Severity.Error,
    summary: 'The renewer hit an unexpected error while processing this target.',
    answer: describeAnswer(error),
  };
}

/** ERROR when it dies inside the horizon, CRITICAL when before the next run. */
/** Why a re-login could not finish; the stored token is left as it was in every case. */
export const ReloginFailure = {
  /** Not tried: Vault refused this AppRole secret version before, and the back-off has not passed. */
  HeldBack: 'held-back',
  CredentialsUnreadable: 'credentials-unreadable',
  CredentialsUnusable: 'credentials-unusable',
  LoginRefused: 'login-refused',
  NewTokenRejected: 'new-token-rejected',
  WriteFailed: 'write-failed',
  /** A jwt target: STS did not sign a token. */
  WebIdentityUnavailable: 'web-identity-unavailable',
  /** A jwt target: Vault refused the signed token. */
  JwtRefused: 'jwt-refused',
  /** A jwt target, but the function has no STS client (a bug in the wiring). */
  NoWebIdentity: 'no-web-identity',
} as const;
export type ReloginFailure = (typeof ReloginFailure)[keyof typeof ReloginFailure];

export function reloginFailedProblem(
  failure: ReloginFailure,
  decision: TokenDecision,
  detail: {
    readonly error?: unknown;
    readonly read?: SecretReadResult;
    /** HeldBack: when Vault refused it, and when it is tried again (ISO). */
    readonly refusedAt?: string;
    readonly retryAt?: string;
  },
): Problem {
  const critical =
    decision.reason === TokenReason.Invalid || decision.reason === TokenReason.Absent;
  const severity = critical ? Severity.Critical : Severity.Error;
  const ttl = decision.ttlSeconds === undefined ? {} : { secondsUntilExpiry: decision.ttlSeconds };
  const answer = detail.error === undefined ? {} : { answer: describeAnswer(detail.error) };
  switch (failure) {
    case ReloginFailure.HeldBack:
      // The refusal's own incident, kept open: nothing changed, so nothing resolves.
      return {
        code: ProblemCode.ReloginBadCredentials,
        severity,
        summary: `Not logged in again: Vault refused this AppRole secret version at ${detail.refusedAt ?? '?'}. It is tried again at ${detail.retryAt ?? '?'}, or at once when the AppRole secret gets a new version; every refused login counts toward Vault locking the role out for every client, the workload included.`,
        ...ttl,
      };
    case ReloginFailure.CredentialsUnreadable:
      return {
        code: ProblemCode.ReloginFailed,
        severity,
        summary: 'Could not log in again: the AppRole secret could not be read.',
        ...(detail.read === undefined || detail.read.ok
          ? {}
          : { answer: `${detail.read.failure.code}: ${detail.read.failure.message}` }),
        ...ttl,
      };
    case ReloginFailure.CredentialsUnusable:
      return {
        code: ProblemCode.ReloginFailed,
        severity,
        summary: `Could not log in again: ${(detail.error as Error).message}.`,
        ...ttl,
      };
    case ReloginFailure.LoginRefused: {
      const kind = isVaultFailure(detail.error) ? detail.error.kind : undefined;
      if (kind === VaultFailureKind.InvalidCredentials) {
        return {
          code: ProblemCode.ReloginBadCredentials,
          severity,
          summary:
            'AppRole login was refused: the role_id or secret_id is wrong, expired or used up.',
          ...answer,
          ...ttl,
        };
      }
      if (kind === VaultFailureKind.LockedOut) {
        return {
          code: ProblemCode.ReloginLockedOut,
          severity,
          summary:
            'AppRole login was refused: the role is locked out after repeated failed logins.',
          ...answer,
          ...ttl,
        };
      }
      return {
        code: ProblemCode.ReloginFailed,
        severity,
        summary: 'AppRole login failed.',
        ...answer,
        ...ttl,
      };
    }
    case ReloginFailure.WebIdentityUnavailable: {
      const failure = isWebIdentityFailure(detail.error) ? detail.error : undefined;
      const disabled = failure?.code.startsWith('OutboundWebIdentityFederationDisabled') === true;
      return {
        code: ProblemCode.WebIdentityUnavailable,
        severity,
        summary: disabled
          ? 'Could not log in again: outbound identity federation is not enabled in this AWS account, so STS signs no token.'
          : 'Could not log in again: STS did not sign a web identity token.',
        ...answer,
        ...(failure?.accountWide === true ? { sharedCause: 'sts' as const } : {}),
        ...ttl,
      };
    }
    case ReloginFailure.JwtRefused: {
      const said = detail.error === undefined ? '' : describeAnswer(detail.error);
      const why = /could not be found|role .* not found/i.test(said)
        ? ': the jwt role does not exist'
        : /aud/i.test(said)
          ? ": the audience does not match the role's bound_audiences"
          : /error validating claims|does not match/i.test(said)
            ? ': a bound claim does not match (the answer names it)'
            : /keys|discovery|fetch|signature/i.test(said)
              ? ": Vault could not check the token's signature against the issuer's keys (is the issuer reachable from Vault?)"
              : '';
      return {
        code: ProblemCode.JwtLoginRefused,
        severity,
        summary: `jwt login was refused${why}.`,
        ...answer,
        ...ttl,
      };
    }
    case ReloginFailure.NoWebIdentity:
      return {
        code: ProblemCode.ReloginFailed,
        severity,
        summary: 'Could not log in again: this function has no STS client for a jwt target.',
        ...ttl,
      };
    case ReloginFailure.NewTokenRejected:
      return {
        code: ProblemCode.NewTokenRejected,
        severity,
        summary:
          'Logged in again, but the new token failed verification (lookup-self); the stored token was left unchanged.',
        ...answer,
        ...ttl,
      };
    case ReloginFailure.WriteFailed:
      return {
        code: ProblemCode.SecretWriteFailed,
        severity,
        summary:
          'Logged in again, but the new token could not be stored in Secrets Manager; the stored token was left unchanged.',
        ...answer,
        ...ttl,
      };
  }
}

export function reloggedInProblem(decision: TokenDecision, ttlSeconds: number): Problem {
  return {
    code: ProblemCode.Relogin,
    severity: Severity.Info,
    summary: `Logged in again with AppRole (${RELOGIN_WHY[decision.reason] ?? decision.reason}); the new token is stored. The old token is not revoked now (a later run retires it, when retireReplaced is on).`,
    secondsUntilExpiry: ttlSeconds,
  };
}

export function leaseSecretUnreadable(
  lease: LeaseConfig,
  read: SecretReadResult | undefined,
): Problem {
  return (
    readFailureProblem(read, `lease secret "${lease.name}"`, lease.name) ?? {
      code: ProblemCode.SecretUnreadable,
      severity: Severity.Error,
      summary: 'The lease secret could not be read.',
      lease: lease.name,
    }
  );
}

export function leaseRenewFailedProblem(lease: LeaseConfig, error: unknown): Problem {
  return {
    code: ProblemCode.LeaseRenewFailed,
    severity: Severity.Error,
    summary: `Lease "${lease.name}" could not be renewed and was left as it is.`,
    lease: lease.name,
    answer: describeAnswer(error),
  };
}

/** `retryAt`: not asked this run, since the same token was refused before (no `error` then). */
export function leaseReissueRefusedProblem(
  lease: LeaseConfig,
  decision: LeaseDecision,
  error: unknown,
  retryAt?: string,
): Problem {
  return {
    code: ProblemCode.LeaseReissueFailed,
    severity: Severity.Error,
    summary:
      retryAt === undefined
        ? `Lease "${lease.name}" needed a new issue (${decision.reason}) but ${lease.reissuePath} refused it; the stored lease was left unchanged.`
        : `Lease "${lease.name}" needs a new issue (${decision.reason}), but ${lease.reissuePath} refused this token before: not asked again until ${retryAt} or a new token; the stored lease was left unchanged.`,
    lease: lease.name,
    ...(error === undefined ? {} : { answer: describeAnswer(error) }),
    facts: { path: lease.reissuePath },
  };
}

/** KV and static-role paths answer with data but no lease. */
export function leaseNotIssuedProblem(lease: LeaseConfig): Problem {
  return {
    code: ProblemCode.LeaseReissueFailed,
    severity: Severity.Error,
    summary: `${lease.reissuePath} answered without a lease (not a dynamic-secrets path?); lease "${lease.name}" was left unchanged.`,
    lease: lease.name,
    facts: { path: lease.reissuePath },
  };
}

export function leaseWriteFailedProblem(lease: LeaseConfig, error: unknown): Problem {
  return {
    code: ProblemCode.SecretWriteFailed,
    severity: Severity.Error,
    summary: `A new lease "${lease.name}" was issued but could not be stored in Secrets Manager; the stored lease was left unchanged.`,
    lease: lease.name,
    answer: describeAnswer(error),
  };
}

export function leaseReissuedProblem(
  lease: LeaseConfig,
  decision: LeaseDecision,
  ttlSeconds: number,
): Problem {
  return {
    code: ProblemCode.LeaseReissued,
    severity: Severity.Info,
    summary: `Issued a new lease "${lease.name}" from ${lease.reissuePath} (${decision.reason}) and stored it.`,
    lease: lease.name,
    secondsUntilExpiry: ttlSeconds,
  };
}

/**
 * A login the write budget could not take this run. WARNING when the token
 * outlives the next run (it waits for it); CRITICAL when it dies first: the
 * run could not store a new token in time, and says so instead of losing it.
 */
export function writesDeferredProblem(secondsUntilExpiry: number, urgent: boolean): Problem {
  return {
    code: ProblemCode.WritesDeferred,
    severity: urgent ? Severity.Critical : Severity.Warning,
    summary: urgent
      ? `Not logged in again: the write budget left no slot to store a new token in this run, and the token dies in ${humanSeconds(secondsUntilExpiry)}.`
      : `Login left for the next run: the write budget is spent, and the token still lives ${humanSeconds(secondsUntilExpiry)}.`,
    secondsUntilExpiry,
  };
}

export function deadlineSkippedProblem(remainingMs: number): Problem {
  return {
    code: ProblemCode.DeadlineSkipped,
    severity: Severity.Error,
    summary: `Not processed: only ${Math.max(0, remainingMs)}ms were left before the invocation deadline.`,
  };
}

/** The next AppRole login would fail, or soon will: CRITICAL for the former. */
export function secretIdExpiringProblem(
  why: 'unknown' | 'expired' | 'expires-soon' | 'few-uses',
  detail: { readonly expiresInSeconds?: number; readonly usesLeft?: number },
): Problem {
  const critical = why === 'unknown' || why === 'expired';
  const summary = {
    unknown:
      'Vault does not know the stored secret_id any more (expired, used up or destroyed): the next AppRole login will fail.',
    expired: 'The stored secret_id has expired: the next AppRole login will fail.',
    'expires-soon': `The stored secret_id expires in ${humanSeconds(detail.expiresInSeconds ?? 0)}; after that no AppRole login can replace the token.`,
    'few-uses': `The stored secret_id has ${detail.usesLeft ?? 0} login(s) left.`,
  }[why];
  return {
    code: ProblemCode.SecretIdExpiring,
    severity: critical ? Severity.Critical : Severity.Warning,
    summary,
    ...(detail.expiresInSeconds === undefined
      ? {}
      : { secondsUntilExpiry: Math.max(0, detail.expiresInSeconds) }),
  };
}

/** The renewer cannot see the secret_id's expiry: say why, and the line that lets it. */
export function secretIdUntrackedProblem(error?: unknown): Problem {
  return {
    code: ProblemCode.SecretIdUntracked,
    severity: Severity.Warning,
    summary:
      error === undefined
        ? "The stored secret_id's expiry is not tracked: the config names no AppRole role for this target."
        : "The stored secret_id's expiry is not tracked: the token may not look it up.",
    ...(error === undefined ? {} : { answer: describeAnswer(error) }),
  };
}
