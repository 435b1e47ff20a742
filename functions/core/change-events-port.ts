/**
 * What the features need to tell machines that a credential changed: one
 * `Credential Changed` event per new Secrets Manager version the renewer or
 * the rotate function made current, for consumers that cache a credential
 * (restart a service, refresh a pool). The `aws/` adapter puts them on
 * EventBridge; it moves bytes and never decides which change is worth one.
 *
 * An event names the credential and its new version, never a value: a
 * consumer reads the secret itself, with its own permission.
 */

/** `source` of every event; consumers' rules match on it. */
export const CHANGE_EVENT_SOURCE = 'vault-renewer';
/** `detail-type` of every event. */
export const CHANGE_EVENT_DETAIL_TYPE = 'Credential Changed';

/**
 * PutEvents takes at most 10 entries a call (EventBridge API reference,
 * PutEvents `Entries`). Callers that collect changes send them in groups of
 * this size; the adapter splits larger groups itself.
 */
export const CHANGE_EVENTS_PER_PUT = 10;

export const CredentialKind = {
  Token: 'token',
  Lease: 'lease',
  AppRole: 'approle',
} as const;
export type CredentialKind = (typeof CredentialKind)[keyof typeof CredentialKind];

/** The `detail` of one event. Every field is a name, an id or a time: nothing secret. */
export interface CredentialChange {
  /** The target's name in the config. */
  readonly target: string;
  readonly kind: CredentialKind;
  /** The lease's name for a lease; `token` or `approle` for the target's own secrets. */
  readonly name: string;
  /**
   * The secret's ARN as Secrets Manager answered the write; the configured
   * name when the answer held none.
   */
  readonly secretArn: string;
  /** The new version, now AWSCURRENT: the VersionId GetSecretValue answers. */
  readonly versionId: string;
  /** Why it changed: the planner's reason (`max-ttl-inside-horizon`, `gone`, `requested`, ...) or `rotation`. */
  readonly reason: string;
  /**
   * When the new token or lease expires, in one form whatever the source
   * ({@link expiryForEvent}); `null` when not known (a secret_id, a token that
   * never expires).
   */
  readonly expiresAt: string | null;
}

/**
 * `expiresAt` as events carry it: ISO 8601 in UTC with milliseconds, as
 * `Date.toISOString()` writes it. Vault answers `expire_time` with nanoseconds
 * and an offset (`2026-12-01T11:44:27.470544137Z`), which some consumers'
 * parsers refuse; an unparseable time is not known.
 */
export function expiryForEvent(time: string | null | undefined): string | null {
  if (time === null || time === undefined) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : new Date(ms).toISOString();
}

/** An event that could not be put, with EventBridge's (or the network's) code and message. */
export interface ChangeEventFailure {
  readonly change: CredentialChange;
  /** e.g. `ThrottlingException`, `InternalFailure`, `AccessDeniedException`, `ECONNREFUSED`. */
  readonly code: string;
  readonly message: string;
}

export interface ChangeEventsOutcome {
  readonly published: number;
  /** One entry per event not put, after the adapter's own retries. */
  readonly failures: readonly ChangeEventFailure[];
}

export interface ChangeEventPublisher {
  /**
   * Puts one event per change. Never throws for a failed call or entry: the
   * credential already changed, so a failure is the caller's to report.
   */
  publish(
    changes: readonly CredentialChange[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<ChangeEventsOutcome>;
}
