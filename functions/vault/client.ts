/**
 * The Vault HTTP adapter: implements the renewal domain's {@link VaultPort} over
 * undici. It moves bytes and maps answers; it never decides what to do about a
 * failure (that is the planner's job, branching on `kind`).
 *
 * - One undici Agent per client (so per CA bundle): keep-alive connection reuse
 *   across targets and calls within a Lambda container.
 * - Every call has a deadline: the caller's AbortSignal, else `defaultTimeoutMs`.
 * - Retries with full-jitter exponential backoff only what can succeed on retry
 *   (network errors, 5xx, 429, 412), never past the deadline, never a login that
 *   Vault refused with a 4xx (each failed login counts toward lockout).
 */
import { setTimeout as delay, setImmediate as nextTurn } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type {
  AppRoleRoleSettings,
  MountTuning,
  SecretIdInfo,
  VaultInspectionPort,
} from '../core/vault-inspection-port.js';
import type {
  CallOptions,
  IssuedLease,
  LeaseInfo,
  LeaseRenewal,
  LoginResult,
  TokenInfo,
  TokenRenewal,
  VaultEndpoint,
  VaultHealth,
  VaultPort,
} from '../core/vault-port.js';
import { classifyVaultAnswer } from './classify.js';
import {
  VaultError,
  VaultHttpError,
  VaultNetworkError,
  VaultTimeoutError,
  VaultUnexpectedResponseError,
} from './errors.js';
import { Agent, request } from './undici-core.js';

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
}

export interface VaultClient extends VaultPort, VaultInspectionPort {
  /** Closes the client's own Agent (not a dispatcher passed in). */
  close(): Promise<void>;
}

interface VaultRequest {
  readonly method: 'GET' | 'POST';
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

interface VaultAnswer {
  readonly status: number;
  readonly body: unknown;
  readonly request: VaultRequest;
}

interface RawAnswer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly text: string;
}

const USER_AGENT = 'vault-renewer';
const TIMEOUT_KIND = classifyVaultAnswer({ path: '', transport: 'deadline' });
const NETWORK_KIND = classifyVaultAnswer({ path: '', transport: 'network' });

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

export function createVaultClient(options: VaultClientOptions = {}): VaultClient {
  const retry = resolveRetryPolicy(options.retry);
  const defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(Number.isFinite(defaultTimeoutMs) && defaultTimeoutMs > 0)) {
    throw new TypeError('defaultTimeoutMs must be a positive number of milliseconds');
  }
  const ownAgent =
    options.dispatcher === undefined
      ? new Agent({
          connect: options.caCertPem === undefined ? {} : { ca: options.caCertPem },
          // Lambda freezes between invocations; a reused socket that died meanwhile
          // fails fast with a network error, which is retried.
          keepAliveTimeout: 10_000,
        })
      : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? (ownAgent as InstanceType<typeof Agent>);
  const userAgent = options.userAgent ?? USER_AGENT;
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms, signal) => delay(ms, undefined, { signal }));
  const now = options.now ?? Date.now;

  async function call(
    endpoint: VaultEndpoint,
    request: VaultRequest,
    callOptions: CallOptions | undefined,
  ): Promise<VaultAnswer> {
    const base = parseAddress(endpoint.address, request);
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
    const target = `${base.pathPrefix}/v1/${encodeVaultPath(request.path)}${
      request.query === undefined ? '' : `?${request.query}`
    }`;
    const details = { method: request.method, path: request.path };
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
      let raw: RawAnswer;
      try {
        raw = await sendOnce(dispatcher, {
          origin: base.origin,
          path: target,
          method: request.method,
          headers,
          body: body ?? null,
          signal,
        });
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

      const { status } = raw;
      const parsed = parseJson(raw.text);
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
      if (attempt >= retry.maxAttempts || !isRetryableStatus(status, request.spends === true)) {
        throw failure;
      }
      const retryAfterMs = parseRetryAfterMs(raw.retryAfter, now());
      if (retryAfterMs !== undefined && retryAfterMs > retry.maxRetryAfterMs) throw failure;
      lastFailure = failure;
      await waitBeforeRetry(retryAfterMs ?? backoffDelayMs(attempt, retry, random), attempt);
    }
  }

  return {
    async renewSelf(endpoint, token, incrementSeconds, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: 'auth/token/renew-self',
          token,
          body: { increment: wholeSeconds(incrementSeconds, 'incrementSeconds') },
          secrets: [token],
        },
        callOptions,
      );
      const { auth, warnings } = authEnvelope(answer);
      return {
        ttlSeconds: requiredNumber(answer, auth, 'lease_duration', 'auth.lease_duration'),
        renewable: auth.renewable === true,
        accessor: optionalString(auth.accessor) ?? '',
        policies: stringList(auth.policies),
        tokenType: tokenTypeOf(auth.token_type),
        warnings,
      } satisfies TokenRenewal;
    },

    async lookupSelf(endpoint, token, callOptions) {
      // GET: the default policy grants only `read` on auth/token/lookup-self.
      const answer = await call(
        endpoint,
        { method: 'GET', path: 'auth/token/lookup-self', token, secrets: [token] },
        callOptions,
      );
      const data = dataOf(answer);
      const renewable = data.renewable;
      const issueTime = optionalString(data.issue_time);
      const period = data.period;
      return {
        accessor: optionalString(data.accessor) ?? '',
        policies: stringList(data.policies),
        ttlSeconds: requiredNumber(answer, data, 'ttl', 'data.ttl'),
        // Absent for the initial root token, which has no lease entry.
        ...(typeof renewable === 'boolean' ? { renewable } : {}),
        type: tokenTypeOf(data.type),
        expireTime: optionalString(data.expire_time) ?? null,
        ...(issueTime === undefined ? {} : { issueTime }),
        creationTime: numberOr(data.creation_time, 0),
        creationTtlSeconds: numberOr(data.creation_ttl, 0),
        explicitMaxTtlSeconds: numberOr(data.explicit_max_ttl, 0),
        ...(typeof period === 'number' ? { periodSeconds: period } : {}),
        numUses: numberOr(data.num_uses, 0),
        orphan: data.orphan === true,
        path: optionalString(data.path) ?? '',
        meta: stringRecord(data.meta),
      } satisfies TokenInfo;
    },

    async appRoleLogin(endpoint, mount, credentials, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: `auth/${trimSlashes(mount)}/login`,
          body: { role_id: credentials.roleId, secret_id: credentials.secretId },
          // role_id is an identifier, not a secret (Vault logs it); secret_id is.
          secrets: [credentials.secretId],
          spends: true,
        },
        callOptions,
      );
      const { auth, warnings } = authEnvelope(answer);
      const token = optionalString(auth.client_token);
      if (token === undefined || token === '') {
        throw unexpected(answer, 'the "auth" object has no client_token');
      }
      return {
        token,
        accessor: optionalString(auth.accessor) ?? '',
        ttlSeconds: requiredNumber(answer, auth, 'lease_duration', 'auth.lease_duration'),
        renewable: auth.renewable === true,
        policies: stringList(auth.policies),
        tokenType: tokenTypeOf(auth.token_type),
        warnings,
      } satisfies LoginResult;
    },

    async renewLease(endpoint, token, leaseId, incrementSeconds, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: 'sys/leases/renew',
          token,
          body: {
            lease_id: leaseId,
            increment: wholeSeconds(incrementSeconds, 'incrementSeconds'),
          },
          secrets: [token],
        },
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      const echoed = optionalString(body.lease_id);
      return {
        leaseId: echoed === undefined || echoed === '' ? leaseId : echoed,
        ttlSeconds: requiredNumber(answer, body, 'lease_duration'),
        renewable: body.renewable === true,
        warnings: stringList(body.warnings),
      } satisfies LeaseRenewal;
    },

    async lookupLease(endpoint, token, leaseId, callOptions) {
      // POST: the default policy grants `update` on sys/leases/lookup. Unlike
      // capabilities-self, this route is not on the legacy inject list: fields are
      // under `data` only.
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: 'sys/leases/lookup',
          token,
          body: { lease_id: leaseId },
          secrets: [token],
        },
        callOptions,
      );
      const data = dataOf(answer);
      return {
        ttlSeconds: requiredNumber(answer, data, 'ttl', 'data.ttl'),
        renewable: data.renewable === true,
        expireTime: optionalString(data.expire_time) ?? null,
      } satisfies LeaseInfo;
    },

    async issueLease(endpoint, token, path, callOptions) {
      const answer = await call(
        endpoint,
        { method: 'GET', path: trimSlashes(path), token, secrets: [token], spends: true },
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      const data = recordOf(body.data);
      if (data === undefined) throw unexpected(answer, 'the body has no "data" object');
      // A path without a lease (KV, static roles) gives lease_id "": passed through, the
      // domain decides what that means for the target.
      return {
        leaseId: optionalString(body.lease_id) ?? '',
        ttlSeconds: requiredNumber(answer, body, 'lease_duration'),
        renewable: body.renewable === true,
        data,
        warnings: stringList(body.warnings),
      } satisfies IssuedLease;
    },

    async capabilitiesSelf(endpoint, token, paths, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: 'sys/capabilities-self',
          token,
          body: { paths: [...paths] },
          secrets: [token],
        },
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      // sys/capabilities-self is on Vault's legacy inject list: keys appear under `data`
      // and at the top level. Prefer `data`; accept either.
      const data = recordOf(body.data) ?? body;
      const result: Record<string, readonly string[]> = {};
      for (const path of paths) {
        const listed =
          data[path] ?? body[path] ?? (paths.length === 1 ? data.capabilities : undefined);
        if (!Array.isArray(listed)) {
          throw unexpected(answer, `the body lists no capabilities for the path "${path}"`);
        }
        result[path] = stringList(listed);
      }
      return result;
    },

    async health(endpoint, callOptions) {
      // Status-code overrides make every state answer 200; a proxy or an old Vault that
      // ignores them still sends the health body with 429/472/473/501/503, so accept it.
      const answer = await call(
        endpoint,
        {
          method: 'GET',
          path: 'sys/health',
          query: 'standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200',
          secrets: [],
          acceptAnswer: (_status, body) => isHealthBody(body),
        },
        callOptions,
      );
      const body = recordOf(answer.body);
      if (body === undefined || !isHealthBody(body)) {
        throw unexpected(answer, 'the body is not a sys/health report');
      }
      return {
        initialized: body.initialized === true,
        sealed: body.sealed === true,
        standby: body.standby === true,
        version: optionalString(body.version) ?? '',
        status: answer.status,
      } satisfies VaultHealth;
    },

    async readAppRoleRole(endpoint, token, mount, role, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'GET',
          path: `auth/${trimSlashes(mount)}/role/${roleSegment(role)}`,
          token,
          secrets: [token],
          // A read that finds nothing is 404 with `{"errors":[]}` (vault-facts §1.1); a 404
          // with words (`no handler for route`) is a wrong path and stays an error.
          acceptAnswer: (status, body) => status === 404 && errorsOf(body).length === 0,
        },
        callOptions,
      );
      if (answer.status === 404) return undefined;
      const data = dataOf(answer);
      return {
        tokenTtlSeconds: numberOr(data.token_ttl, 0),
        tokenMaxTtlSeconds: numberOr(data.token_max_ttl, 0),
        // `period` and `policies` are the pre-1.2 names of these fields.
        tokenPeriodSeconds: numberOr(data.token_period ?? data.period, 0),
        tokenExplicitMaxTtlSeconds: numberOr(data.token_explicit_max_ttl, 0),
        tokenType: optionalString(data.token_type) ?? 'default',
        tokenNumUses: numberOr(data.token_num_uses, 0),
        tokenNoDefaultPolicy: data.token_no_default_policy === true,
        tokenPolicies: stringList(data.token_policies ?? data.policies),
        bindSecretId: data.bind_secret_id !== false,
        secretIdTtlSeconds: numberOr(data.secret_id_ttl, 0),
        secretIdNumUses: numberOr(data.secret_id_num_uses, 0),
      } satisfies AppRoleRoleSettings;
    },

    async readAuthMountTuning(endpoint, token, mount, callOptions) {
      // sys/mounts/auth/<mount>/tune needs `read` only; sys/auth/<mount>/tune needs sudo.
      const answer = await call(
        endpoint,
        {
          method: 'GET',
          path: `sys/mounts/auth/${trimSlashes(mount)}/tune`,
          token,
          secrets: [token],
        },
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      // On Vault's legacy inject list (`/v1/sys/mounts*`): keys under `data` and at the top level.
      const data = recordOf(body.data) ?? body;
      return {
        defaultLeaseTtlSeconds: numberOr(data.default_lease_ttl, 0),
        maxLeaseTtlSeconds: requiredNumber(answer, data, 'max_lease_ttl', 'data.max_lease_ttl'),
      } satisfies MountTuning;
    },

    async lookupSecretId(endpoint, token, mount, role, secretId, callOptions) {
      const answer = await call(
        endpoint,
        {
          method: 'POST',
          path: `auth/${trimSlashes(mount)}/role/${roleSegment(role)}/secret-id/lookup`,
          token,
          body: { secret_id: secretId },
          secrets: [token, secretId],
        },
        callOptions,
      );
      // An unknown secret_id (wrong, used up, expired and tidied) is a 204 without a body.
      if (answer.status === 204 || answer.body === undefined) return undefined;
      const data = dataOf(answer);
      const expiration = optionalString(data.expiration_time);
      return {
        expirationTime:
          expiration === undefined || expiration.startsWith('0001-01-01') ? null : expiration,
        usesLeft: numberOr(data.secret_id_num_uses, 0),
        ttlSeconds: numberOr(data.secret_id_ttl, 0),
      } satisfies SecretIdInfo;
    },

    async revokeSelf(endpoint, token, callOptions) {
      await call(
        endpoint,
        { method: 'POST', path: 'auth/token/revoke-self', token, secrets: [token] },
        callOptions,
      );
    },

    async close() {
      await ownAgent?.close();
    },
  };
}

/** One HTTP exchange; the whole body is read so the socket goes back to the pool. */
async function sendOnce(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<RawAnswer> {
  const response = await request(dispatcher, options);
  const text = await response.body.text();
  // undici marks the socket free in a microtask queued after the body ends; a call
  // made right after this one would find it busy and open a second connection.
  // One turn of the event loop keeps sequential calls on one keep-alive socket.
  await nextTurn();
  return {
    status: response.statusCode,
    retryAfter: headerValue(response.headers['retry-after']),
    text,
  };
}

// ---------------------------------------------------------------------------
// Retry timing (pure)

function resolveRetryPolicy(overrides: Partial<RetryPolicy> | undefined): RetryPolicy {
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
function isRetryableStatus(status: number, spends: boolean): boolean {
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

function neverReachedVault(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current !== null && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT_CODES.has(code)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && FINAL_NETWORK_CODES.has(code));
}

// ---------------------------------------------------------------------------
// Paths and addresses

/** Percent-encodes each segment of a logical Vault path (already checked by `pathProblem`). */
function encodeVaultPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Why a logical path is unsafe, or undefined. Empty, `.` and `..` segments are
 * refused so a configured path can never climb out of `/v1/` (a `%2e%2e` stays
 * literal: `%` itself is encoded).
 */
function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return 'contains a "." or ".." segment';
  }
  if (segments.some((segment) => segment === '')) return 'contains an empty segment ("//")';
  return undefined;
}

/** A role name is one path segment; a `/` in it would address another path. */
function roleSegment(role: string): string {
  if (role === '' || role.includes('/')) {
    throw new TypeError('an AppRole role name must be one non-empty path segment (no "/")');
  }
  return role;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

function parseAddress(
  address: string,
  request: VaultRequest,
): { readonly origin: string; readonly pathPrefix: string } {
  const details = { kind: 'bad-request' as const, method: request.method, path: request.path };
  const problem = pathProblem(request.path);
  if (problem !== undefined) {
    throw new VaultError(`Vault ${request.method} ${request.path}: the path ${problem}`, details);
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    // The address is not repeated: it could carry credentials.
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address is not a URL`,
      details,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address must be http:// or https://`,
      details,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address must not carry credentials, a query or a fragment`,
      details,
    );
  }
  // A reverse proxy may serve Vault under a prefix: https://host/vault → /vault/v1/...
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}

// ---------------------------------------------------------------------------
// Response bodies

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function errorsOf(body: unknown): string[] {
  const errors = recordOf(body)?.errors;
  return Array.isArray(errors) ? errors.filter((item) => typeof item === 'string') : [];
}

function requestIdOf(body: unknown): string {
  return optionalString(recordOf(body)?.request_id) ?? '';
}

const MIN_SCRUBBED_LENGTH = 8;

/**
 * Vault does not echo tokens or secret_ids in `errors[]`, but whatever answers at
 * the address might (a proxy, a double, a future bug); what this request sent
 * never reaches an error.
 */
function scrub(errors: readonly string[], secrets: readonly string[]): string[] {
  // Vault tokens and secret_ids are 24+ characters; scrubbing shorter values would
  // mangle Vault's own words (a secret_id "s" would eat every "s").
  const planted = secrets.filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH);
  return errors.map((text) =>
    planted.reduce((clean, secret) => clean.split(secret).join('[redacted]'), text),
  );
}

function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** `policies`, `warnings`: a string list, or null/absent (Vault sends `warnings: null`). */
function stringList(value: unknown): readonly string[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
}

function stringRecord(value: unknown): Readonly<Record<string, string>> | null {
  const record = recordOf(value);
  if (record === undefined) return null;
  return Object.fromEntries(
    Object.entries(record).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** Vault before 1.0 had no batch tokens and no `token_type`/`type` field: all were service tokens. */
function tokenTypeOf(value: unknown): string {
  return optionalString(value) ?? 'service';
}

function wholeSeconds(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new TypeError(`${name} must be a whole number of seconds >= 0`);
  }
  return value;
}

function unexpected(answer: VaultAnswer, problem: string): VaultUnexpectedResponseError {
  return new VaultUnexpectedResponseError(
    {
      method: answer.request.method,
      path: answer.request.path,
      status: answer.status,
      requestId: requestIdOf(answer.body),
    },
    problem,
  );
}

function authEnvelope(answer: VaultAnswer): {
  readonly auth: Record<string, unknown>;
  readonly warnings: readonly string[];
} {
  const body = recordOf(answer.body);
  const auth = recordOf(body?.auth);
  if (auth === undefined) {
    throw unexpected(
      answer,
      'the body has no "auth" object (a wrapped response, or not Vault at this address?)',
    );
  }
  return { auth, warnings: stringList(body?.warnings) };
}

function dataOf(answer: VaultAnswer): Record<string, unknown> {
  const data = recordOf(recordOf(answer.body)?.data);
  if (data === undefined) throw unexpected(answer, 'the body has no "data" object');
  return data;
}

/** `record[key]` as a number; `label` names it in the error (e.g. `auth.lease_duration`). */
function requiredNumber(
  answer: VaultAnswer,
  record: Record<string, unknown>,
  key: string,
  label = key,
): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw unexpected(answer, `"${label}" is not a number`);
  }
  return value;
}

function isHealthBody(body: unknown): body is Record<string, unknown> {
  const record = recordOf(body);
  return typeof record?.initialized === 'boolean' && typeof record.sealed === 'boolean';
}
