/**
 * The words of a target's problems: what happened, as a {@link Problem}, from
 * the planner's decision and what Vault or AWS answered. Pure; the run decides
 * when to say it, `notification.ts` and `explain.ts` how to tell a human.
 */

import type { LeaseConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import type { SecretReadResult } from '../core/store-port.js';
import type { TokenInfo } from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import { type LeaseDecision, LeaseReason, type TokenDecision, TokenReason } from './planner.js';

/** Why a re-login happened, in words, for the INFO message. */
export const RELOGIN_WHY: Partial<Record<TokenReason, string>> = {
  [TokenReason.MaxTtlInsideHorizon]: 'the token reaches its max TTL within two schedule intervals',
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
): Problem | undefined {
  const answer = error === undefined ? {} : { answer: describeAnswer(error) };
  const ttl = decision.ttlSeconds === undefined ? {} : { secondsUntilExpiry: decision.ttlSeconds };
  switch (decision.reason) {
    case TokenReason.Invalid:
      return {
        code: ProblemCode.TokenInvalid,
        severity: Severity.Error,
        summary:
          'The stored token is invalid (expired or revoked); every lease it created is gone with it. Logging in again.',
        ...answer,
      };
    case TokenReason.NotRenewable:
      return {
        code: ProblemCode.TokenNotRenewable,
        severity: Severity.Warning,
        summary: 'The stored token is not renewable. Logging in again.',
        ...answer,
        ...ttl,
      };
    case TokenReason.Batch:
      return {
        code: ProblemCode.TokenBatch,
        severity: Severity.Warning,
        summary:
          'The stored token is a batch token; batch tokens cannot be renewed. Logging in again.',
        ...answer,
        ...ttl,
      };
    case TokenReason.RenewDenied:
      return {
        code: ProblemCode.TokenRenewDenied,
        severity: Severity.Error,
        summary:
          "The token's policy does not allow renewing itself (auth/token/renew-self). Logged in again as a fallback; fix the policy.",
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
): Problem | undefined {
  const answer = error === undefined ? {} : { answer: describeAnswer(error) };
  switch (decision.reason) {
    case LeaseReason.Gone:
      return {
        code: ProblemCode.LeaseOrphaned,
        severity: Severity.Warning,
        summary: `Lease "${lease.name}" is gone (revoked, expired, or died with its token); issuing a new one.`,
        lease: lease.name,
        ...answer,
      };
    case LeaseReason.RenewDenied:
      return {
        code: ProblemCode.LeaseRenewDenied,
        severity: Severity.Error,
        summary: `The token's policy does not allow renewing lease "${lease.name}" (sys/leases/renew); issuing a new one as a fallback. Fix the policy.`,
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
