/**
 * When a Vault call is tried again, and after how long: pure functions of the
 * attempt, the answer and the policy, so they are tested with tables.
 */

export interface RetryPolicy {
  /** Total HTTP attempts per call, including the first. */
  readonly maxAttempts: number;
  /** Backoff cap before the first retry; doubles per attempt (full jitter: a random wait in [0, cap)). */
  readonly baseDelayMs: number;
  /** Upper bound of the backoff cap. */
  readonly maxDelayMs: number;
  /**
   * The longest `Retry-After` the client waits for. A longer one gives up at once with
   * the answer's own kind (rate-limited, sealed, ...): a scheduled run cannot use a wait
   * of minutes, and the deadline (an AbortSignal) does not tell how much time is left.
   * A shorter one is waited for, unless the deadline fires first (then: timeout).
   */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  maxAttempts: 3,
  baseDelayMs: 250,
  maxDelayMs: 2_000,
  maxRetryAfterMs: 30_000,
});

/**
 * TLS verification failures: retrying cannot fix a wrong CA or an expired
 * certificate, and the lifted code in the message says what to fix.
 */
const FINAL_NETWORK_CODES: ReadonlySet<string> = new Set([
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UND_ERR_INVALID_ARG',
]);

export function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
  const policy = { ...DEFAULT_RETRY_POLICY, ...overrides };
  const problems: string[] = [];
  if (!(Number.isInteger(policy.maxAttempts) && policy.maxAttempts >= 1)) {
    problems.push('retry.maxAttempts must be an integer >= 1');
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'maxRetryAfterMs'] as const) {
    if (!(Number.isFinite(policy[key]) && policy[key] >= 0)) {
      problems.push(`retry.${key} must be a number >= 0`);
    }
  }
  if (problems.length > 0) throw new TypeError(problems.join('; '));
  return Object.freeze(policy);
}

/** Full jitter (AWS architecture blog): a random wait in [0, min(max, base·2^(attempt-1))). */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const capMs = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * capMs);
}

/** `Retry-After` as delay-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when unusable. */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1_000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

/**
 * 5xx (sealed, no active node, overloaded), 429 (quota) and 412 (index not yet
 * replicated) can succeed later. A request that spends something is retried only
 * on 503: Vault acted on no other answer it may have given after doing the work,
 * and any 4xx to a login may have counted toward the role's lockout.
 */
export function isRetryableStatus(status: number, spends: boolean): boolean {
  if (spends) return status === 503;
  if (status >= 500) return true;
  return status === 429 || status === 412;
}

/** Connection errors raised before a byte of the request reached Vault. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function neverReachedVault(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && FINAL_NETWORK_CODES.has(code));
}
