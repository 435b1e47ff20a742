/**
 * The field world's Vault: the HTTP API the renewer's client speaks
 * (functions/vault/*-endpoints.ts), with Vault's answers and error strings
 * from shared/reference/vault-facts.md:
 *
 * - `auth/token/renew-self`: grants min(increment, time left to the max TTL)
 *   and, when capped, adds Vault's warning (§3.1); a dead token answers 403
 *   with `permission denied` and `invalid token` (§2, Vault ≥ 1.17).
 * - `auth/token/lookup-self`, `auth/token/revoke-self`.
 * - `auth/<mount>/login` (AppRole): a fresh token; a refused secret_id answers
 *   400 `invalid role or secret ID`; 5 refusals lock the role out, 403
 *   `permission denied`, for the lockout duration (§9.5, "Lockout").
 * - `auth/<mount>/role/<role>/secret-id/lookup`: far from expiry, or 204 for
 *   a secret_id Vault would refuse.
 * - `sys/leases/renew`, `sys/leases/lookup`: a lease dies at its TTL and
 *   with the token that created it (§4); `database/creds/<role>` issues a
 *   new lease owned by the calling token.
 * - A rate-limit quota on every path: 429 `rate limit quota exceeded` with
 *   `Retry-After` in (field) seconds, as with `enable_rate_limit_response_headers`.
 */

import { randomUUID } from 'node:crypto';
import { FIELD_APPROLE_MOUNT } from './field-protocol.js';
import type { FieldWorld, Lease, Reply, Token } from './field-world.js';

const POLICIES = ['default', 'bench'];
/** Vault ≥ 1.17 (PR #25953) renders a dead token's 403 as a multierror of both (vault-facts §2). */
const DEAD_TOKEN = '2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n';
/** Core's refusal of a locked-out login, before routing (vault-facts §2). */
const LOCKED_OUT = 'permission denied';
const REFUSED_LOGIN = 'invalid role or secret ID';

function json(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return {
    status,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  };
}

function vaultError(status: number, message: string, headers: Record<string, string> = {}): Reply {
  return json(status, { errors: [message] }, headers);
}

const NO_CONTENT: Reply = { status: 204, headers: {}, body: '' };

/**
 * Go's `Duration.String`, trimmed as Vault's `humanDuration` does
 * (sdk/framework/lease.go): 3600 s is "1h", 750 s "12m30s".
 */
export function humanDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  let text = h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
  if (text.endsWith('m0s')) text = text.slice(0, -2);
  const at = text.indexOf('h0m');
  if (at > 0) text = text.slice(0, at + 1) + text.slice(at + 3);
  return text;
}

/** Vault's cap warning (vault-facts §3.1): the "effective max_ttl" is the time left, not the setting. */
function cappedWarning(askedSeconds: number, leftSeconds: number): string {
  return `TTL of "${humanDuration(askedSeconds)}" exceeded the effective max_ttl of "${humanDuration(leftSeconds)}"; TTL value is capped accordingly`;
}

/** `increment`: whole seconds, or a duration string like "1h" / "90s" (TypeDurationSecond). */
function durationSeconds(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.max(0, Math.floor(value));
  if (typeof value !== 'string') return 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([hms]?)/g)) {
    total += Number(amount) * (units[unit || 's'] ?? 1);
  }
  return total;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** What the request carried: method, logical path (no `/v1/`), token, JSON body. */
export interface VaultRequestParts {
  readonly method: string;
  readonly path: string;
  readonly token: string | undefined;
  readonly body: Record<string, unknown>;
}

export function answerVault(world: FieldWorld, request: VaultRequestParts): Reply {
  const setup = world.setup;
  if (setup === undefined) return vaultError(503, 'Vault is sealed');
  const nowMs = world.clock.now();
  world.bump('vaultRequests');
  // The quota wraps the whole HTTP handler: checked before the token.
  if (world.vaultWindow.full(nowMs)) {
    world.bump('vaultThrottled');
    const waitFieldSeconds = Math.max(
      1,
      Math.ceil((world.vaultWindow.msUntilRoom(nowMs) * setup.timeScale) / 1000),
    );
    return vaultError(429, `request path "${request.path}": rate limit quota exceeded`, {
      'retry-after': String(waitFieldSeconds),
    });
  }
  world.vaultWindow.record(nowMs);

  const token = request.token === undefined ? undefined : world.tokens.get(request.token);
  if (token !== undefined) world.touch(token);
  const live = token !== undefined && world.tokenAlive(token, nowMs) ? token : undefined;
  const { method, path, body } = request;
  const write = method === 'POST' || method === 'PUT';

  const login = /^auth\/([^/]+)\/login$/.exec(path);
  if (login !== null && write) return appRoleLogin(world, login[1] ?? '', body, nowMs);
  if (path === 'sys/health' && method === 'GET') {
    return json(200, {
      initialized: true,
      sealed: false,
      standby: false,
      performance_standby: false,
      server_time_utc: Math.floor(nowMs / 1000),
      version: '1.19.0',
      cluster_name: 'vault-cluster-bench',
    });
  }
  // Every other path needs a live token.
  if (live === undefined) return vaultError(403, DEAD_TOKEN);

  if (path === 'auth/token/renew-self') {
    return write
      ? renewSelf(world, live, body, nowMs)
      : vaultError(405, '1 error occurred:\n\t* unsupported operation\n\n');
  }
  if (path === 'auth/token/lookup-self' && (method === 'GET' || write)) {
    return json(200, envelope({ data: lookupData(live, nowMs) }));
  }
  if (path === 'auth/token/revoke-self' && write) {
    live.revoked = true;
    world.bump('tokensRevoked');
    return NO_CONTENT;
  }
  const secretIdLookup = /^auth\/([^/]+)\/role\/([^/]+)\/secret-id\/lookup$/.exec(path);
  if (secretIdLookup !== null && write) {
    return lookupSecretId(world, secretIdLookup[2] ?? '', body, nowMs);
  }
  if (path === 'sys/leases/renew' && write) return renewLease(world, body, nowMs);
  if (path === 'sys/leases/lookup' && write) return lookupLease(world, body, nowMs);
  if (path === 'sys/capabilities-self' && write) {
    const paths = Array.isArray(body.paths) ? body.paths.map(String) : [String(body.path ?? '')];
    const granted = Object.fromEntries(paths.map((p) => [p, ['update']]));
    return json(200, { ...granted, capabilities: ['update'], data: granted });
  }
  if (/^database\/creds\/[^/]+$/.test(path) && method === 'GET') {
    return issueLease(world, live, nowMs);
  }
  world.unhandled(`vault ${method} ${path.replace(/[^/]{16,}/g, '*')}`);
  return vaultError(404, '1 error occurred:\n\t* unsupported path\n\n');
}

/** The fields every JSON answer carries (vault-facts §1.0). */
function envelope(fields: Record<string, unknown>): Record<string, unknown> {
  return {
    request_id: randomUUID(),
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: null,
    wrap_info: null,
    warnings: null,
    auth: null,
    ...fields,
  };
}

function authBlock(world: FieldWorld, token: Token, ttlSeconds: number): Record<string, unknown> {
  const role = world.rolesByName.get(`bench-t${token.target}`);
  return {
    client_token: token.id,
    accessor: token.accessor,
    policies: POLICIES,
    token_policies: POLICIES,
    metadata: { role_name: role?.name ?? '' },
    lease_duration: ttlSeconds,
    renewable: true,
    entity_id: `entity-${token.target}`,
    token_type: 'service',
    orphan: true,
    mfa_requirement: null,
    num_uses: 0,
  };
}

function appRoleLogin(
  world: FieldWorld,
  mount: string,
  body: Record<string, unknown>,
  nowMs: number,
): Reply {
  const setup = world.setup;
  if (setup === undefined || mount !== FIELD_APPROLE_MOUNT) return vaultError(403, LOCKED_OUT);
  world.bump('logins');
  const roleId = typeof body.role_id === 'string' ? body.role_id : '';
  const role = world.rolesById.get(roleId);
  const refused = role === undefined || body.secret_id !== role.secretId;
  // Every attempt with a secret_id Vault refuses, answered 400 or 403 alike.
  if (refused) world.bump('loginsWithRefusedSecret');
  if (role === undefined) return vaultError(400, REFUSED_LOGIN);
  if (role.lockedUntilMs > nowMs) {
    world.bump('loginsLockedOut');
    return vaultError(403, LOCKED_OUT);
  }
  if (refused) {
    // The counter resets after `lockout_counter_reset` without a failed attempt.
    if (nowMs - role.lastFailureMs > world.ms(setup.lockoutCounterResetSeconds)) role.failures = 0;
    role.failures += 1;
    role.lastFailureMs = nowMs;
    if (role.failures >= setup.lockoutAttempts) {
      role.lockedUntilMs = nowMs + world.ms(setup.lockoutSeconds);
      role.failures = 0;
    }
    return vaultError(400, REFUSED_LOGIN);
  }
  role.failures = 0;
  const ttl = world.vaultSeconds(setup.tokenTtlSeconds);
  const token = world.issueToken(
    role.target,
    ttl,
    nowMs + world.ms(setup.tokenMaxTtlSeconds),
    nowMs,
  );
  return json(200, envelope({ auth: authBlock(world, token, ttl) }));
}

function renewSelf(
  world: FieldWorld,
  token: Token,
  body: Record<string, unknown>,
  nowMs: number,
): Reply {
  const setup = world.setup;
  if (setup === undefined) return vaultError(503, 'Vault is sealed');
  world.bump('renewSelf');
  const increment = durationSeconds(body.increment);
  const asked = increment > 0 ? increment : world.vaultSeconds(setup.tokenTtlSeconds);
  // CalculateTTL (vault-facts §3.1): the increment counts from now, capped at the max TTL.
  const leftSeconds = Math.floor((token.maxMs - nowMs) / 1000);
  if (leftSeconds <= 0) return vaultError(500, 'past the max TTL, cannot renew');
  const warnings: string[] = [];
  let ttl = asked;
  if (asked > leftSeconds) {
    world.bump('renewCapped');
    warnings.push(cappedWarning(asked, leftSeconds));
    ttl = leftSeconds;
  }
  token.expireMs = nowMs + ttl * 1000;
  token.lastRenewalMs = nowMs;
  return json(
    200,
    envelope({
      auth: authBlock(world, token, ttl),
      warnings: warnings.length === 0 ? null : warnings,
    }),
  );
}

function lookupData(token: Token, nowMs: number): Record<string, unknown> {
  const renewal = token.lastRenewalMs;
  return {
    accessor: token.accessor,
    creation_time: Math.floor(token.issuedMs / 1000),
    creation_ttl: token.creationTtlSeconds,
    display_name: 'approle',
    entity_id: `entity-${token.target}`,
    expire_time: iso(token.expireMs),
    explicit_max_ttl: 0,
    id: token.id,
    issue_time: iso(token.issuedMs),
    ...(renewal === undefined
      ? {}
      : { last_renewal: iso(renewal), last_renewal_time: Math.floor(renewal / 1000) }),
    meta: { role_name: `bench-t${token.target}` },
    num_uses: 0,
    orphan: true,
    path: `auth/${FIELD_APPROLE_MOUNT}/login`,
    policies: POLICIES,
    renewable: true,
    ttl: Math.max(0, Math.floor((token.expireMs - nowMs) / 1000)),
    type: 'service',
  };
}

function lookupSecretId(
  world: FieldWorld,
  roleName: string,
  body: Record<string, unknown>,
  nowMs: number,
): Reply {
  const role = world.rolesByName.get(roleName);
  // A secret_id Vault would refuse (wrong, used up, destroyed): 204 without a body (vault-facts, OpenBao 2.7.2).
  if (role === undefined || body.secret_id !== role.secretId) return NO_CONTENT;
  return json(
    200,
    envelope({
      data: {
        cidr_list: [],
        creation_time: iso(nowMs - 86_400_000),
        // Far from expiry: a year on this world's clock is beyond any warning window.
        expiration_time: iso(nowMs + 365 * 86_400_000),
        last_updated_time: iso(nowMs - 86_400_000),
        metadata: {},
        secret_id_accessor: `accessor-${role.target}`,
        secret_id_num_uses: 0,
        secret_id_ttl: 0,
        token_bound_cidrs: [],
      },
    }),
  );
}

function liveLease(world: FieldWorld, body: Record<string, unknown>, nowMs: number) {
  const id = typeof body.lease_id === 'string' ? body.lease_id : '';
  const lease = world.leases.get(id);
  return { id, lease: lease !== undefined && world.leaseAlive(lease, nowMs) ? lease : undefined };
}

function renewLease(world: FieldWorld, body: Record<string, unknown>, nowMs: number): Reply {
  const setup = world.setup;
  if (setup === undefined) return vaultError(503, 'Vault is sealed');
  world.bump('leaseRenewals');
  const { id, lease } = liveLease(world, body, nowMs);
  if (id === '') return vaultError(400, 'lease_id must be specified');
  // Expired, or revoked with its token: Vault has already deleted it.
  if (lease === undefined) return vaultError(400, 'lease not found');
  const increment = durationSeconds(body.increment);
  const asked = increment > 0 ? increment : world.vaultSeconds(setup.leaseTtlSeconds);
  const leftSeconds = Math.floor((lease.maxMs - nowMs) / 1000);
  if (leftSeconds <= 0) return vaultError(400, 'past the max TTL, cannot renew');
  const warnings: string[] = [];
  let ttl = asked;
  if (asked > leftSeconds) {
    warnings.push(cappedWarning(asked, leftSeconds));
    ttl = leftSeconds;
  }
  lease.expireMs = nowMs + ttl * 1000;
  lease.lastRenewalMs = nowMs;
  return json(
    200,
    envelope({
      lease_id: lease.id,
      renewable: true,
      lease_duration: ttl,
      warnings: warnings.length === 0 ? null : warnings,
    }),
  );
}

function lookupLease(world: FieldWorld, body: Record<string, unknown>, nowMs: number): Reply {
  const { lease } = liveLease(world, body, nowMs);
  if (lease === undefined) return vaultError(400, 'invalid lease');
  return json(200, envelope({ data: leaseData(lease, nowMs) }));
}

function leaseData(lease: Lease, nowMs: number) {
  return {
    id: lease.id,
    issue_time: iso(lease.issuedMs),
    expire_time: iso(lease.expireMs),
    last_renewal: lease.lastRenewalMs === undefined ? null : iso(lease.lastRenewalMs),
    renewable: true,
    ttl: Math.max(0, Math.floor((lease.expireMs - nowMs) / 1000)),
  };
}

function issueLease(world: FieldWorld, owner: Token, nowMs: number): Reply {
  const setup = world.setup;
  if (setup === undefined) return vaultError(503, 'Vault is sealed');
  world.bump('leasesIssued');
  const ttl = world.vaultSeconds(setup.leaseTtlSeconds);
  const lease = world.issueLease(owner, ttl, nowMs + world.ms(setup.leaseMaxTtlSeconds), nowMs);
  return json(
    200,
    envelope({
      lease_id: lease.id,
      renewable: true,
      lease_duration: ttl,
      data: { username: lease.data.username, password: lease.data.password },
    }),
  );
}
