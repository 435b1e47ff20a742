/**
 * One Vault HTTP exchange, with a deadline and retries: headers (token,
 * namespace), the undici request, the answer classified into a typed error,
 * and the retry loop that retries only what can succeed (retry-timing.ts).
 * The endpoint groups (token, lease, inspection) are built on `call`.
 *
 * - One undici Agent per transport (so per CA bundle): keep-alive connection
 *   reuse across targets and calls within a Lambda container.
 * - Every call has a deadline: the caller's AbortSignal, else `defaultTimeoutMs`.
 * - A request that spends something in Vault (a login, a dynamic-secret read)
 *   is retried only when Vault cannot have acted on it.
 */

import { setTimeout as delay } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { RequestPacer } from '../core/request-pacer.js';
import type { CallOptions, VaultEndpoint } from '../core/vault-port.js';
import { type Answer, dispatcherFor, type Exchange, exchange } from '../http/undici.js';
import { type AddressBase, addressBase, requestTarget } from './address.js';
import { classifyVaultAnswer } from './classify.js';
import { errorsOf, headerValue, parseJson, requestIdOf, scrub } from './decode.js';
import {
  type VaultError,
  VaultHttpError,
  VaultNetworkError,
  VaultTimeoutError,
  VaultUnexpectedResponseError,
} from './errors.js';
import {
  backoffDelayMs,
  isRetryableNetworkError,
  isRetryableStatus,
  neverReachedVault,
  parseRetryAfterMs,
  type RetryPolicy,
  resolveRetryPolicy,
} from './retry-timing.js';

/** Used when the caller passes no AbortSignal: no outbound call goes without a deadline. */
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface VaultClientOptions {
  /** PEM bundle trusted for Vault's TLS certificate (replaces the public roots, like `VAULT_CACERT`). */
  readonly caCertPem?: string;
  /** An undici dispatcher to use instead of the client's own Agent (tests pass a MockAgent). */
  readonly dispatcher?: Dispatcher;
  readonly retry?: Partial<RetryPolicy>;
  readonly userAgent?: string;
  /** Deadline for calls made without a signal. */
  readonly defaultTimeoutMs?: number;
  /** [0, 1) source for backoff jitter. */
  readonly random?: () => number;
  /** Waits `ms`, rejecting when `signal` aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Epoch milliseconds, for `Retry-After` HTTP dates. */
  readonly now?: () => number;
  /** The request-rate budget per Vault cluster: each attempt waits for its slot, a 429 slows it. */
  readonly pacer?: RequestPacer;
}

export interface VaultRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Logical path, already validated, e.g. `auth/token/renew-self`. */
  readonly path: string;
  readonly query?: string;
  readonly token?: string;
  readonly body?: Readonly<Record<string, unknown>>;
  /** Values this request sent that must never appear in an error (scrubbed from `errors[]`). */
  readonly secrets: readonly string[];
  /**
   * The request spends or creates something in Vault (an AppRole login spends a
   * secret_id use and counts failures toward lockout; reading a dynamic-secrets
   * path creates a database user). It is retried only when Vault cannot have
   * acted on it: the connection was never made, or Vault answered 503 (sealed,
   * standby with no active node). Any other failure is final.
   */
  readonly spends?: boolean;
  /** Non-2xx answers that are still an answer (sys/health reports sealed with 503). */
  readonly acceptAnswer?: (status: number, body: unknown) => boolean;
}

export interface VaultResponse {
  readonly status: number;
  readonly body: unknown;
  readonly request: VaultRequest;
}

/** Sends one request to Vault and returns its answer, or throws a typed VaultError. */
export type VaultCall = (
  endpoint: VaultEndpoint,
  request: VaultRequest,
  callOptions: CallOptions | undefined,
) => Promise<VaultResponse>;

export interface VaultTransport {
  readonly call: VaultCall;
  /** Closes the transport's own Agent (not a dispatcher passed in). */
  close(): Promise<void>;
}

const USER_AGENT = 'vault-renewer';
const TIMEOUT_KIND = classifyVaultAnswer({ path: '', transport: 'deadline' });
const NETWORK_KIND = classifyVaultAnswer({ path: '', transport: 'network' });

export function createTransport(options: VaultClientOptions = {}): VaultTransport {
  const retry = resolveRetryPolicy(options.retry);
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(defaultTimeoutMs) && defaultTimeoutMs > 0)) {
    throw new TypeError('defaultTimeoutMs must be a positive number of milliseconds');
  }
  const { dispatcher, close } = dispatcherFor(
    options.dispatcher,
    options.caCertPem === undefined ? {} : { ca: options.caCertPem },
  );
  const userAgent = options.userAgent ?? USER_AGENT;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  const now = options.now ?? Date.now;
  const pacer = options.pacer;
  // Parsed once per address: a run sends thousands of requests to a handful of them.
  const bases = new Map<string, AddressBase>();
  const baseOf = (address: string): AddressBase => {
    let base = bases.get(address);
    if (base === undefined) {
      base = addressBase(address);
      bases.set(address, base);
    }
    return base;
  };

  async function call(
    endpoint: VaultEndpoint,
    request: VaultRequest,
    callOptions: CallOptions | undefined,
  ): Promise<VaultResponse> {
    const target = requestTarget(baseOf(endpoint.address), request);
    const signal = callOptions?.signal ?? AbortSignal.timeout(defaultTimeoutMs);
    const headers: Record<string, string> = {
      accept: 'application/json',
      'user-agent': userAgent,
      'x-vault-request': 'true',
    };
    if (request.token !== undefined) headers['x-vault-token'] = request.token;
    if (endpoint.namespace !== undefined && endpoint.namespace !== '') {
      headers['x-vault-namespace'] = endpoint.namespace;
    }
    let body: string | undefined;
    if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    const details = { method: request.method, path: request.path };
    const exchangeOptions: Exchange = {
      origin: target.origin,
      path: target.path,
      method: request.method,
      headers,
      body: body ?? null,
      signal,
    };
    let lastFailure: VaultError | undefined;
    const deadlinePassed = (attempts: number, cause: unknown) =>
      new VaultTimeoutError({ ...details, kind: TIMEOUT_KIND, attempts }, cause, lastFailure);
    const waitBeforeRetry = async (ms: number, attempts: number): Promise<void> => {
      try {
        await sleep(ms, signal);
      } catch (error) {
        if (!signal.aborted) throw error;
      }
      if (signal.aborted) throw deadlinePassed(attempts, signal.reason);
    };

    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw deadlinePassed(attempt - 1, signal.reason);
      const slot = pacer?.acquire(endpoint.address, signal);
      if (slot !== undefined) {
        try {
          await slot;
        } catch (error) {
          throw deadlinePassed(attempt - 1, error);
        }
      }
      let answer: Answer;
      try {
        answer = await exchange(dispatcher, exchangeOptions);
      } catch (error) {
        if (signal.aborted) throw deadlinePassed(attempt, error);
        const failure = new VaultNetworkError(
          { ...details, kind: NETWORK_KIND, attempts: attempt },
          error,
        );
        if (
          attempt >= retry.maxAttempts ||
          !isRetryableNetworkError(error) ||
          (request.spends === true && !neverReachedVault(error))
        ) {
          throw failure;
        }
        lastFailure = failure;
        await waitBeforeRetry(backoffDelayMs(attempt, retry, random), attempt);
        continue;
      }

      const { status } = answer;
      const parsed = parseJson(answer.text);
      if (status >= 200 && status < 300) {
        if (!parsed.ok) {
          throw new VaultUnexpectedResponseError(
            { ...details, status, attempts: attempt },
            'the body is not JSON',
          );
        }
        return { status, body: parsed.value, request };
      }
      if (parsed.ok && request.acceptAnswer?.(status, parsed.value) === true) {
        return { status, body: parsed.value, request };
      }

      // Classified on Vault's own words; stored scrubbed of what this request sent.
      const saidErrors = parsed.ok ? errorsOf(parsed.value) : [];
      const failure = new VaultHttpError({
        ...details,
        kind: classifyVaultAnswer({ path: request.path, status, errors: saidErrors }),
        status,
        vaultErrors: scrub(saidErrors, request.secrets),
        requestId: parsed.ok ? requestIdOf(parsed.value) : '',
        attempts: attempt,
      });
      const retryAfterMs = parseRetryAfterMs(headerValue(answer.headers['retry-after']), now());
      // Every request to this cluster slows down, not only this one's retry.
      if (status === 429) pacer?.throttled(endpoint.address, retryAfterMs);
      if (attempt >= retry.maxAttempts || !isRetryableStatus(status, request.spends === true)) {
        throw failure;
      }
      if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw failure;
      lastFailure = failure;
      await waitBeforeRetry(retryAfterMs ?? backoffDelayMs(attempt, retry, random), attempt);
    }
  }

  return {
    call,
    close,
  };
}

/**
 * A request made with `token`, the form most endpoints take: the token (and
 * any other `secrets` given) is kept out of every error.
 */
export function authenticated(
  method: VaultRequest['method'],
  path: string,
  token: string,
  fields: Omit<Partial<VaultRequest>, 'method' | 'path' | 'token'> = {},
): VaultRequest {
  return { method, path, token, ...fields, secrets: [token, ...(fields.secrets ?? [])] };
}
