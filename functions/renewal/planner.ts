/**
 * The renewal decisions, as pure functions of what Vault answered, the clock
 * and the schedule. No I/O here: `run-target.ts` observes, this decides,
 * `run-target.ts` acts.
 */

import { horizonSeconds, isRootToken } from '../core/lifetime.js';
import type { LeaseRenewal, TokenInfo, TokenRenewal } from '../core/vault-port.js';
import { TRANSIENT_VAULT_FAILURES, VaultFailureKind } from '../core/vault-port.js';

/**
 * Vault caps a renewal at the max TTL and says so in a warning; the granted
 * TTL is then the time left until the max (vault-facts §3.1, vault#1079).
 * Periodic tokens also come back with less than the increment, but without
 * this warning, and renew forever: so the warning, not the number, is the
 * signal.
 */
const CAPPED_WARNING = /exceeded the effective max_ttl/i;

export function isCapped(warnings: readonly string[]): boolean {
  return warnings.some((warning) => CAPPED_WARNING.test(warning));
}

/** What the run learnt about the stored token before deciding. */
export type TokenObservation =
  /** The token secret holds no token yet (e.g. a secret created empty by infrastructure code). */
  | { readonly kind: 'absent' }
  /** Not looked at: the operator asked for a re-login. */
  | { readonly kind: 'skipped' }
  | { readonly kind: 'renewed'; readonly renewal: TokenRenewal }
  /**
   * Dry run: observed without renewing. `mayRenew` is what sys/capabilities-self
   * says about auth/token/renew-self (undefined when it could not be asked).
   */
  | { readonly kind: 'looked-up'; readonly info: TokenInfo; readonly mayRenew?: boolean }
  | {
      readonly kind: 'failed';
      readonly failure: VaultFailureKind;
      /** lookup-self after the failure, when it succeeded (tells root and policy denial apart). */
      readonly lookup?: TokenInfo;
    };

export const TokenAction = {
  Keep: 'keep',
  Relogin: 'relogin',
  /** Leave the token alone and report: logging in again cannot help. */
  Report: 'report',
} as const;
export type TokenAction = (typeof TokenAction)[keyof typeof TokenAction];

export const TokenReason = {
  Healthy: 'healthy',
  Requested: 'requested',
  Absent: 'absent',
  MaxTtlInsideHorizon: 'max-ttl-inside-horizon',
  /** Capped by its max TTL beyond the horizon, logged in early to spread a wave of them over runs. */
  MaxTtlSpread: 'max-ttl-spread',
  TtlBelowHorizon: 'ttl-below-horizon',
  /** Dry run: a renewal would be needed to learn whether the grant outlives the horizon. */
  GrantUnknown: 'grant-unknown',
  Invalid: 'invalid',
  NotRenewable: 'not-renewable',
  Batch: 'batch',
  RenewDenied: 'renew-denied',
  Root: 'root',
  VaultUnavailable: 'vault-unavailable',
  Unexpected: 'unexpected',
} as const;
export type TokenReason = (typeof TokenReason)[keyof typeof TokenReason];

export interface TokenDecision {
  readonly action: TokenAction;
  readonly reason: TokenReason;
  /** Seconds the current token has left, when known. */
  readonly ttlSeconds?: number;
}

export interface TokenPolicy {
  readonly scheduleIntervalSeconds: number;
  /** The operator asked for a re-login (console `{"action": "relogin"}`). */
  readonly forceRelogin: boolean;
  /** Epoch ms: a dry run predicts from the token's explicit max TTL with it. */
  readonly nowMs?: number;
  /** Log in now if the renewal is capped by the max TTL, even past the horizon (a wave being spread). */
  readonly early?: boolean;
}

export function decideToken(observation: TokenObservation, policy: TokenPolicy): TokenDecision {
  if (policy.forceRelogin) {
    return { action: TokenAction.Relogin, reason: TokenReason.Requested };
  }
  if (observation.kind === 'absent' || observation.kind === 'skipped') {
    return { action: TokenAction.Relogin, reason: TokenReason.Absent };
  }
  if (observation.kind === 'looked-up') {
    return decideFromLookup(
      observation.info,
      policy.scheduleIntervalSeconds,
      observation.mayRenew,
      policy.nowMs,
    );
  }
  if (observation.kind === 'failed') {
    return decideFromFailure(observation, policy.scheduleIntervalSeconds);
  }
  const { renewal } = observation;
  const horizon = horizonSeconds(policy.scheduleIntervalSeconds);
  if (renewal.ttlSeconds > horizon) {
    if (policy.early === true && isCapped(renewal.warnings)) {
      return {
        action: TokenAction.Relogin,
        reason: TokenReason.MaxTtlSpread,
        ttlSeconds: renewal.ttlSeconds,
      };
    }
    return {
      action: TokenAction.Keep,
      reason: TokenReason.Healthy,
      ttlSeconds: renewal.ttlSeconds,
    };
  }
  if (isCapped(renewal.warnings)) {
    return {
      action: TokenAction.Relogin,
      reason: TokenReason.MaxTtlInsideHorizon,
      ttlSeconds: renewal.ttlSeconds,
    };
  }
  // Not capped yet short: the role's TTL or period is below two schedule
  // intervals. A new login would get the same short TTL, so only report.
  return {
    action: TokenAction.Keep,
    reason: TokenReason.TtlBelowHorizon,
    ttlSeconds: renewal.ttlSeconds,
  };
}

/**
 * A token that cannot be extended (a batch token; one whose policy denies
 * renew-self) is kept while it outlives the horizon and replaced by a login
 * only once it would not: logging in on every run would spend a secret_id
 * use, write a secret version and re-issue every lease each time.
 */
function keptWhileItLasts(
  reason: TokenReason,
  ttlSeconds: number,
  scheduleIntervalSeconds: number,
): TokenDecision {
  const action =
    ttlSeconds > horizonSeconds(scheduleIntervalSeconds) ? TokenAction.Keep : TokenAction.Relogin;
  return { action, reason, ttlSeconds };
}

function decideFromLookup(
  info: TokenInfo,
  scheduleIntervalSeconds: number,
  mayRenew: boolean | undefined,
  nowMs: number | undefined,
): TokenDecision {
  if (isRootToken(info)) {
    return { action: TokenAction.Report, reason: TokenReason.Root };
  }
  if (info.type === 'batch') {
    return keptWhileItLasts(TokenReason.Batch, info.ttlSeconds, scheduleIntervalSeconds);
  }
  if (info.renewable === false) {
    return {
      action: TokenAction.Relogin,
      reason: TokenReason.NotRenewable,
      ttlSeconds: info.ttlSeconds,
    };
  }
  if (mayRenew === false) {
    // The real run's renew-self would be refused: what it then does (vault#22575).
    return keptWhileItLasts(TokenReason.RenewDenied, info.ttlSeconds, scheduleIntervalSeconds);
  }
  if (info.ttlSeconds <= horizonSeconds(scheduleIntervalSeconds)) {
    // An explicit max TTL (lookup-self shows it) inside the horizon caps any
    // renewal there: the real run would log in again. Only a cap can be
    // known this way (the role's and the mount's max TTL are not shown), so
    // anything else stays unknown.
    if (nowMs !== undefined && info.explicitMaxTtlSeconds > 0) {
      const maxLeftSeconds = info.creationTime + info.explicitMaxTtlSeconds - nowMs / 1000;
      if (maxLeftSeconds <= horizonSeconds(scheduleIntervalSeconds)) {
        return {
          action: TokenAction.Relogin,
          reason: TokenReason.MaxTtlInsideHorizon,
          ttlSeconds: info.ttlSeconds,
        };
      }
    }
    // Whether the renewal would be capped by a max TTL only renewing tells.
    return {
      action: TokenAction.Keep,
      reason: TokenReason.GrantUnknown,
      ttlSeconds: info.ttlSeconds,
    };
  }
  return { action: TokenAction.Keep, reason: TokenReason.Healthy, ttlSeconds: info.ttlSeconds };
}

function decideFromFailure(
  observation: Extract<TokenObservation, { kind: 'failed' }>,
  scheduleIntervalSeconds: number,
): TokenDecision {
  const { failure, lookup } = observation;
  if (lookup !== undefined && isRootToken(lookup)) {
    return { action: TokenAction.Report, reason: TokenReason.Root };
  }
  const ttl = lookup === undefined ? {} : { ttlSeconds: lookup.ttlSeconds };
  switch (failure) {
    case VaultFailureKind.RootToken:
      return { action: TokenAction.Report, reason: TokenReason.Root };
    case VaultFailureKind.InvalidToken:
    case VaultFailureKind.LeaseExpired:
      return { action: TokenAction.Relogin, reason: TokenReason.Invalid };
    case VaultFailureKind.NotRenewable:
      return { action: TokenAction.Relogin, reason: TokenReason.NotRenewable, ...ttl };
    case VaultFailureKind.BatchToken:
      return lookup === undefined
        ? { action: TokenAction.Relogin, reason: TokenReason.Batch }
        : keptWhileItLasts(TokenReason.Batch, lookup.ttlSeconds, scheduleIntervalSeconds);
    case VaultFailureKind.PermissionDenied:
      // A valid token whose policy lacks renew-self (vault#22575): kept while
      // it lasts, and the missing capability reported either way.
      return lookup === undefined
        ? { action: TokenAction.Relogin, reason: TokenReason.RenewDenied }
        : keptWhileItLasts(TokenReason.RenewDenied, lookup.ttlSeconds, scheduleIntervalSeconds);
    default:
      if (TRANSIENT_VAULT_FAILURES.has(failure)) {
        // Logging in again would not help and burns secret_id uses.
        return { action: TokenAction.Report, reason: TokenReason.VaultUnavailable };
      }
      return { action: TokenAction.Report, reason: TokenReason.Unexpected };
  }
}

/** What the run learnt about one lease before deciding. */
export type LeaseObservation =
  /** The lease secret holds no lease yet (created empty). */
  | { readonly kind: 'absent' }
  | { readonly kind: 'renewed'; readonly renewal: LeaseRenewal }
  /** Dry run: `sys/leases/lookup` answered; `mayRenew` as for the token. */
  | {
      readonly kind: 'looked-up';
      readonly renewable: boolean;
      readonly ttlSeconds: number;
      readonly mayRenew?: boolean;
    }
  | { readonly kind: 'failed'; readonly failure: VaultFailureKind };

export const LeaseAction = {
  Keep: 'keep',
  Reissue: 'reissue',
  Report: 'report',
} as const;
export type LeaseAction = (typeof LeaseAction)[keyof typeof LeaseAction];

export const LeaseReason = {
  Healthy: 'healthy',
  Absent: 'absent',
  TokenReplaced: 'token-replaced',
  OwnerNotManaged: 'owner-not-managed',
  MaxTtlInsideHorizon: 'max-ttl-inside-horizon',
  Gone: 'gone',
  NotRenewable: 'not-renewable',
  RenewDenied: 'renew-denied',
  VaultUnavailable: 'vault-unavailable',
  Unexpected: 'unexpected',
  /** Dry run: a renewal would be needed to learn whether the grant outlives the horizon. */
  GrantUnknown: 'grant-unknown',
} as const;
export type LeaseReason = (typeof LeaseReason)[keyof typeof LeaseReason];

export interface LeaseDecision {
  readonly action: LeaseAction;
  readonly reason: LeaseReason;
  readonly ttlSeconds?: number;
}

export interface LeaseContext {
  readonly scheduleIntervalSeconds: number;
  /** The target logged in again in this run: every lease must move to the new token. */
  readonly tokenReplaced: boolean;
  /**
   * The lease secret records the accessor of the token that issued the lease,
   * and it is not the token we keep alive: the lease dies with a token nobody
   * renews (leases are revoked with their token, vault-facts §4).
   */
  readonly ownerIsStale: boolean;
}

/** Decides before any lease call: cases where renewing is pointless. */
export function leaseNeedsReissueWithoutRenewing(context: LeaseContext): LeaseDecision | undefined {
  if (context.tokenReplaced) {
    return { action: LeaseAction.Reissue, reason: LeaseReason.TokenReplaced };
  }
  if (context.ownerIsStale) {
    return { action: LeaseAction.Reissue, reason: LeaseReason.OwnerNotManaged };
  }
  return undefined;
}

export function decideLease(observation: LeaseObservation, context: LeaseContext): LeaseDecision {
  const early = leaseNeedsReissueWithoutRenewing(context);
  if (early !== undefined) {
    return early;
  }
  const horizon = horizonSeconds(context.scheduleIntervalSeconds);
  switch (observation.kind) {
    case 'absent':
      return { action: LeaseAction.Reissue, reason: LeaseReason.Absent };
    case 'looked-up':
      if (!observation.renewable) {
        return {
          action: LeaseAction.Reissue,
          reason: LeaseReason.NotRenewable,
          ttlSeconds: observation.ttlSeconds,
        };
      }
      if (observation.mayRenew === false) {
        return {
          action: LeaseAction.Reissue,
          reason: LeaseReason.RenewDenied,
          ttlSeconds: observation.ttlSeconds,
        };
      }
      return {
        action: LeaseAction.Keep,
        reason: observation.ttlSeconds <= horizon ? LeaseReason.GrantUnknown : LeaseReason.Healthy,
        ttlSeconds: observation.ttlSeconds,
      };
    case 'renewed': {
      const { renewal } = observation;
      if (renewal.ttlSeconds <= horizon && (isCapped(renewal.warnings) || !renewal.renewable)) {
        return {
          action: LeaseAction.Reissue,
          reason: LeaseReason.MaxTtlInsideHorizon,
          ttlSeconds: renewal.ttlSeconds,
        };
      }
      return {
        action: LeaseAction.Keep,
        reason: LeaseReason.Healthy,
        ttlSeconds: renewal.ttlSeconds,
      };
    }
    case 'failed':
      return decideLeaseFailure(observation.failure);
  }
}

function decideLeaseFailure(failure: VaultFailureKind): LeaseDecision {
  switch (failure) {
    case VaultFailureKind.LeaseNotFound:
    case VaultFailureKind.LeaseExpired:
      return { action: LeaseAction.Reissue, reason: LeaseReason.Gone };
    case VaultFailureKind.NotRenewable:
      return { action: LeaseAction.Reissue, reason: LeaseReason.NotRenewable };
    case VaultFailureKind.PermissionDenied:
      // The policy lacks `sys/leases/renew`: a fresh lease keeps the
      // credentials working while the report asks for the policy fix.
      return { action: LeaseAction.Reissue, reason: LeaseReason.RenewDenied };
    default:
      if (TRANSIENT_VAULT_FAILURES.has(failure)) {
        return { action: LeaseAction.Report, reason: LeaseReason.VaultUnavailable };
      }
      return { action: LeaseAction.Report, reason: LeaseReason.Unexpected };
  }
}
