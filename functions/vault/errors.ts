/**
 * Errors thrown by the Vault HTTP adapter. Each one implements the port's
 * {@link VaultFailure}, so the domain branches on `kind` alone; the subclasses
 * say *how* the call failed (Vault answered, the network failed, the deadline
 * passed, or Vault answered something unusable) for logs and tests.
 *
 * Redaction happens here, where the errors are born: the constructors take only
 * method, path (no query string), status, Vault's `errors[]` strings and the
 * request id. There is no parameter through which a token header, a request
 * body, a `secret_id` or response `data` could reach an error, so no log line
 * or SNS message built from one can leak them.
 */
import type { VaultFailure, VaultFailureKind } from '../core/vault-port.js';

export interface VaultErrorDetails {
  readonly kind: VaultFailureKind;
  readonly method: string;
  /** Logical Vault path without `/v1/` and without query string, e.g. `auth/token/renew-self`. */
  readonly path: string;
  readonly status?: number;
  readonly vaultErrors?: readonly string[];
  readonly requestId?: string;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts?: number;
}

/** The fields of a Vault error that are safe to log or serialise. */
export interface VaultErrorJson {
  readonly name: string;
  readonly message: string;
  readonly kind: VaultFailureKind;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly vaultErrors: readonly string[];
  readonly requestId?: string;
  readonly attempts?: number;
}

/** Base class of every error the Vault adapter throws. */
export class VaultError extends Error implements VaultFailure {
  override name = 'VaultError';
  readonly kind: VaultFailureKind;
  readonly method: string;
  readonly path: string;
  readonly vaultErrors: readonly string[];
  declare readonly status?: number;
  declare readonly requestId?: string;
  declare readonly attempts?: number;

  constructor(message: string, details: VaultErrorDetails, options?: ErrorOptions) {
    super(message, options);
    this.kind = details.kind;
    this.method = details.method;
    this.path = details.path;
    this.vaultErrors = Object.freeze([...(details.vaultErrors ?? [])]);
    if (details.status !== undefined) this.status = details.status;
    if (details.requestId !== undefined && details.requestId !== '') {
      this.requestId = details.requestId;
    }
    if (details.attempts !== undefined) this.attempts = details.attempts;
  }

  /** What `JSON.stringify` and structured loggers see: the redacted fields plus the message. */
  toJSON(): VaultErrorJson {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      method: this.method,
      path: this.path,
      ...(this.status === undefined ? {} : { status: this.status }),
      vaultErrors: this.vaultErrors,
      ...(this.requestId === undefined ? {} : { requestId: this.requestId }),
      ...(this.attempts === undefined ? {} : { attempts: this.attempts }),
    };
  }
}

/**
 * Vault answered with an error status (or a redirect the client does not
 * follow). `kind` comes from `classifyVaultAnswer`. No `cause`: nothing was
 * thrown, Vault simply said no.
 */
export class VaultHttpError extends VaultError {
  override name = 'VaultHttpError';

  constructor(details: VaultErrorDetails & { readonly status: number }) {
    super(httpMessage(details), details);
  }
}

/**
 * The request never got an HTTP answer: refused, reset, DNS, TLS. undici puts
 * the real reason (`ECONNREFUSED`, `CERT_HAS_EXPIRED`, ...) in the thrown
 * error's `code` or deeper in its `cause` chain; the message lifts it up so a
 * log line or alert says why without anyone expanding the cause.
 */
export class VaultNetworkError extends VaultError {
  override name = 'VaultNetworkError';
  /** The lifted reason, e.g. `connect ECONNREFUSED 127.0.0.1:8200 (ECONNREFUSED)`. */
  readonly reason: string;

  constructor(details: Omit<VaultErrorDetails, 'status' | 'vaultErrors'>, cause: unknown) {
    const reason = describeNetworkCause(cause);
    super(`${prefix(details)} failed: network error: ${reason}`, details, { cause });
    this.reason = reason;
  }
}

/**
 * The caller's deadline (its AbortSignal) fired before Vault answered, or while
 * the client waited to retry. `cause` is the abort reason; `lastFailure` is the
 * attempt that failed before the wait, when there was one.
 */
export class VaultTimeoutError extends VaultError {
  override name = 'VaultTimeoutError';
  declare readonly lastFailure?: VaultError;

  constructor(
    details: Omit<VaultErrorDetails, 'status' | 'vaultErrors'>,
    cause: unknown,
    lastFailure?: VaultError,
  ) {
    const last = lastFailure === undefined ? '' : `; last attempt: ${lastFailure.message}`;
    super(`${prefix(details)} failed: deadline passed before Vault answered${last}`, details, {
      cause,
    });
    if (lastFailure !== undefined) this.lastFailure = lastFailure;
  }
}

/**
 * Vault answered 2xx, but the body is not what this endpoint returns (no JSON,
 * no `auth` on renew-self/login, no `data` on lookup-self). Kind `unavailable`:
 * something that is not a working Vault (a proxy's error page, a wrapped
 * response, a wrong address) answered at the Vault address, so neither logging
 * in again nor changing the request would help. Not retried by the client:
 * the call may have had its effect (a login may have spent a `secret_id` use).
 */
export class VaultUnexpectedResponseError extends VaultError {
  override name = 'VaultUnexpectedResponseError';

  constructor(details: Omit<VaultErrorDetails, 'kind' | 'vaultErrors'>, problem: string) {
    super(`${prefix(details)} returned ${details.status ?? 'a response'}, but ${problem}`, {
      ...details,
      kind: 'unavailable',
    });
  }
}

function prefix(details: Pick<VaultErrorDetails, 'method' | 'path'>): string {
  return `Vault ${details.method} ${details.path}`;
}

function httpMessage(details: VaultErrorDetails & { readonly status: number }): string {
  const said = (details.vaultErrors ?? []).map(oneLine).filter((text) => text !== '');
  const answer = said.length > 0 ? `: ${said.join('; ')}` : '';
  const request = details.requestId ? ` (request ${details.requestId})` : '';
  return `${prefix(details)} failed with ${details.status}${answer} [${details.kind}]${request}`;
}

/** Vault multierrors read `1 error occurred:\n\t* permission denied\n\n`; keep messages on one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/**
 * The most specific reason in an undici/Node network error: walks `cause`
 * chains and `AggregateError.errors` (Happy Eyeballs tries several addresses
 * and may throw an AggregateError with an empty message), and appends the
 * errno-style code once.
 */
export function describeNetworkCause(error: unknown): string {
  const messages: string[] = [];
  const codes: string[] = [];
  const seen = new Set<unknown>();
  const visit = (value: unknown, depth: number): void => {
    if (value === null || value === undefined || seen.has(value) || depth > 8) return;
    seen.add(value);
    if (typeof value !== 'object') {
      messages.push(String(value));
      return;
    }
    const candidate = value as { message?: unknown; code?: unknown; cause?: unknown };
    if (typeof candidate.message === 'string' && candidate.message.trim() !== '') {
      messages.push(oneLine(candidate.message));
    }
    if (typeof candidate.code === 'string' && candidate.code !== '') codes.push(candidate.code);
    if (value instanceof AggregateError) {
      for (const inner of value.errors) visit(inner, depth + 1);
    }
    visit(candidate.cause, depth + 1);
  };
  visit(error, 0);

  // undici's own wrappers say little ('fetch failed', 'other side closed'): lead
  // with the innermost, most specific text and keep the wrappers after it.
  const unique = [...new Set(messages)].reverse();
  const code = codes.find((candidate) => !unique.some((message) => message.includes(candidate)));
  const text = unique.length > 0 ? unique.join(' <- ') : 'unknown network error';
  return code === undefined ? text : `${text} (${code})`;
}
