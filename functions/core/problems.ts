/**
 * Everything the renewer can report about a target, as stable codes. These
 * codes are the `event` of an SNS message and of a report entry; subscribers
 * filter on them, so they never change meaning once published.
 */

import type { Severity } from './notifier-port.js';

export const ProblemCode = {
  // The stored token
  TokenInvalid: 'token-invalid',
  TokenNotRenewable: 'token-not-renewable',
  TokenBatch: 'token-batch',
  TokenRoot: 'token-root',
  TokenRenewDenied: 'token-renew-denied',
  TokenTtlBelowHorizon: 'token-ttl-below-horizon',
  // Logging in again
  Relogin: 'relogin',
  ReloginBadCredentials: 'relogin-bad-credentials',
  ReloginLockedOut: 'relogin-locked-out',
  ReloginFailed: 'relogin-failed',
  NewTokenRejected: 'new-token-rejected',
  /** A jwt target's login: STS would not sign a token (federation off, throttled, denied). */
  WebIdentityUnavailable: 'web-identity-unavailable',
  /** A jwt target's login: Vault refused the signed token (audience, claims, role, issuer keys). */
  JwtLoginRefused: 'jwt-login-refused',
  // Leases
  LeaseReissued: 'lease-reissued',
  LeaseRenewDenied: 'lease-renew-denied',
  LeaseReissueFailed: 'lease-reissue-failed',
  LeaseRenewFailed: 'lease-renew-failed',
  LeaseOrphaned: 'lease-orphaned',
  LeaseTtlBelowHorizon: 'lease-ttl-below-horizon',
  // Vault itself
  VaultUnreachable: 'vault-unreachable',
  // Secrets Manager
  SecretUnreadable: 'secret-unreadable',
  SecretMalformed: 'secret-malformed',
  SecretWriteFailed: 'secret-write-failed',
  ApproleSecretUnusable: 'approle-secret-unusable',
  // The AppRole secret_id the next login needs
  SecretIdExpiring: 'secret-id-expiring',
  SecretIdUntracked: 'secret-id-untracked',
  // Rotation (Secrets Manager's rotation function)
  RotationFailed: 'rotation-failed',
  RotationCleanupFailed: 'rotation-cleanup-failed',
  // The run
  DeadlineSkipped: 'deadline-skipped',
  /** A login (and its writes) left for the next run: the Secrets Manager write budget was spent. */
  WritesDeferred: 'writes-deferred',
  /** Batches of a fanned-out run that Step Functions gave up on: their targets were not renewed. */
  BatchesFailed: 'batches-failed',
  UnexpectedError: 'unexpected-error',
} as const;
export type ProblemCode = (typeof ProblemCode)[keyof typeof ProblemCode];

/** One thing worth telling about a target. Never holds a token, secret_id, password or lease data. */
export interface Problem {
  readonly code: ProblemCode;
  readonly severity: Severity;
  /** One sentence, human, what happened. */
  readonly summary: string;
  /** What Vault or AWS answered (status and error strings), when relevant. */
  readonly answer?: string;
  /** The lease this is about, by its configured name. */
  readonly lease?: string;
  /** Seconds until the credential dies, when known. */
  readonly secondsUntilExpiry?: number;
  /** Extra facts for the fix text (policies, paths); never secret. */
  readonly facts?: Readonly<Record<string, string>>;
  /**
   * The run repaired what this is about (a dead token replaced by a login):
   * told once as what happened, never an open incident, and the target's
   * status is the state the run left it in.
   */
  readonly repaired?: true;
  /**
   * Not this target's own: a cause every target sees now (Secrets Manager
   * throttled or out of reach), told once for all of them.
   */
  readonly sharedCause?: 'secretsmanager' | 'sts';
}
