/**
 * What the renewal domain needs from Vault, and nothing more. The `vault/`
 * adapter implements it over HTTP; tests may implement it in memory.
 *
 * Every call takes the endpoint it talks to (address, namespace) and an
 * AbortSignal carrying the run's deadline. Failures are thrown as errors that
 * carry a {@link VaultFailureKind}; the domain branches on `kind` only.
 */

/** Where a target's Vault lives. */
export interface VaultEndpoint {
  readonly address: string;
  readonly namespace?: string;
}

/**
 * The ways a Vault call can fail that the caller handles differently.
 * Mapped once, in the adapter, from Vault's status and `errors[]` text
 * (see shared/reference/vault-facts.md §2).
 */
export const VaultFailureKind = {
  /** 403 with `invalid token`, or 403 `permission denied` on a token that does not exist/expired/revoked. */
  InvalidToken: 'invalid-token',
  /** 403 `permission denied` from an ACL check on a valid token (never contains `invalid token`). */
  PermissionDenied: 'permission-denied',
  /** 400 `lease is not renewable`. */
  NotRenewable: 'not-renewable',
  /** 400 `batch tokens cannot be renewed`. */
  BatchToken: 'batch-token',
  /** 400 `invalid lease ID` on renew-self: a root token with no lease entry. */
  RootToken: 'root-token',
  /** 400 `lease not found` / `invalid lease`. */
  LeaseNotFound: 'lease-not-found',
  /** 400 `lease expired`, or `past the max TTL, cannot renew`. */
  LeaseExpired: 'lease-expired',
  /** AppRole login 400 `invalid role or secret ID` (and older `invalid secret id`). Counts toward lockout. */
  InvalidCredentials: 'invalid-credentials',
  /** AppRole login 403 `permission denied`: the role_id is locked out after repeated failures. */
  LockedOut: 'locked-out',
  /** 503 `Vault is sealed`. */
  Sealed: 'sealed',
  /** 429 rate limit / lease count quota. */
  RateLimited: 'rate-limited',
  /** Network error, connection refused, 5xx other than sealed, standby without active node. */
  Unavailable: 'unavailable',
  /** The call's deadline passed before Vault answered. */
  Timeout: 'timeout',
  /** Any other 4xx: the request itself was wrong (bad path, bad body). */
  BadRequest: 'bad-request',
} as const;
export type VaultFailureKind = (typeof VaultFailureKind)[keyof typeof VaultFailureKind];

/** Kinds for which retrying the same call later can succeed. */
export const TRANSIENT_VAULT_FAILURES: ReadonlySet<VaultFailureKind> = new Set([
  VaultFailureKind.Sealed,
  VaultFailureKind.RateLimited,
  VaultFailureKind.Unavailable,
  VaultFailureKind.Timeout,
]);

/** The shape every Vault adapter error has. Its message never holds a secret. */
export interface VaultFailure extends Error {
  readonly kind: VaultFailureKind;
  /** HTTP status, when Vault answered. */
  readonly status?: number;
  /** Vault's own `errors[]` strings (never contain secrets: Vault does not echo tokens). */
  readonly vaultErrors: readonly string[];
  /** Request path without query string, e.g. `auth/token/renew-self`. */
  readonly path: string;
}

export function isVaultFailure(error: unknown): error is VaultFailure {
  return error instanceof Error && typeof (error as Partial<VaultFailure>).kind === 'string';
}

/** Result of `auth/token/renew-self` (the auth envelope). */
export interface TokenRenewal {
  /** `auth.lease_duration`: the TTL Vault granted, counted from now. */
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly tokenType: string;
  readonly warnings: readonly string[];
}

/** `data` of `auth/token/lookup-self`, the parts we use. */
export interface TokenInfo {
  readonly accessor: string;
  readonly policies: readonly string[];
  readonly ttlSeconds: number;
  /** Absent for the initial root token (no lease entry). */
  readonly renewable?: boolean;
  /** `service` or `batch`. */
  readonly type: string;
  /** RFC3339, or null for tokens that never expire. */
  readonly expireTime: string | null;
  readonly issueTime?: string;
  readonly creationTime: number;
  readonly creationTtlSeconds: number;
  readonly explicitMaxTtlSeconds: number;
  readonly periodSeconds?: number;
  readonly numUses: number;
  readonly orphan: boolean;
  /** e.g. `auth/approle/login`, `auth/token/root`. */
  readonly path: string;
  readonly meta: Readonly<Record<string, string>> | null;
}

/** Result of an AppRole login. `token` is a secret: never log it. */
export interface LoginResult {
  readonly token: string;
  readonly accessor: string;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly policies: readonly string[];
  readonly tokenType: string;
  readonly warnings: readonly string[];
}

/** Result of `sys/leases/renew`. */
export interface LeaseRenewal {
  readonly leaseId: string;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly warnings: readonly string[];
}

/** `data` of `sys/leases/lookup`. */
export interface LeaseInfo {
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  /** RFC3339 or null. */
  readonly expireTime: string | null;
}

/** A freshly issued leased secret (e.g. `database/creds/<role>`). `data` is secret. */
export interface IssuedLease {
  readonly leaseId: string;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly data: Readonly<Record<string, unknown>>;
  readonly warnings: readonly string[];
}

/** `sys/health` summary. */
export interface VaultHealth {
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly standby: boolean;
  readonly version: string;
  readonly status: number;
  /** `server_time_utc`, epoch seconds, when Vault says it: the clock jwt logins are checked by. */
  readonly serverTimeUtc?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface VaultPort {
  renewSelf(
    endpoint: VaultEndpoint,
    token: string,
    incrementSeconds: number,
    options?: CallOptions,
  ): Promise<TokenRenewal>;
  lookupSelf(endpoint: VaultEndpoint, token: string, options?: CallOptions): Promise<TokenInfo>;
  appRoleLogin(
    endpoint: VaultEndpoint,
    mount: string,
    credentials: { readonly roleId: string; readonly secretId: string },
    options?: CallOptions,
  ): Promise<LoginResult>;
  /** `auth/<mount>/login` of the jwt auth method, with a signed token for `role`. */
  jwtLogin(
    endpoint: VaultEndpoint,
    mount: string,
    credentials: { readonly role: string; readonly jwt: string },
    options?: CallOptions,
  ): Promise<LoginResult>;
  renewLease(
    endpoint: VaultEndpoint,
    token: string,
    leaseId: string,
    incrementSeconds: number,
    options?: CallOptions,
  ): Promise<LeaseRenewal>;
  /** `sys/leases/lookup` (read-only; used by dry runs). */
  lookupLease(
    endpoint: VaultEndpoint,
    token: string,
    leaseId: string,
    options?: CallOptions,
  ): Promise<LeaseInfo>;
  /** Read a path that issues a leased secret (re-issue). */
  issueLease(
    endpoint: VaultEndpoint,
    token: string,
    path: string,
    options?: CallOptions,
  ): Promise<IssuedLease>;
  /** `sys/capabilities-self`: path → capabilities (`["deny"]` when none). */
  capabilitiesSelf(
    endpoint: VaultEndpoint,
    token: string,
    paths: readonly string[],
    options?: CallOptions,
  ): Promise<Readonly<Record<string, readonly string[]>>>;
  health(endpoint: VaultEndpoint, options?: CallOptions): Promise<VaultHealth>;
  /** The secret_id's metadata, or undefined when Vault does not know it (wrong, expired and tidied, or used up). */
  lookupSecretId(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    role: string,
    secretId: string,
    options?: CallOptions,
  ): Promise<SecretIdInfo | undefined>;
}

/** `data` of `auth/<mount>/role/<role>/secret-id/lookup` (vault-facts §6.2); never the secret_id or its accessor. */
export interface SecretIdInfo {
  /** RFC3339, or null when the secret_id never expires (Vault sends `0001-01-01T00:00:00Z`). */
  readonly expirationTime: string | null;
  /** Logins left; 0 = unlimited. Vault decrements it at each login and deletes the entry at the last. */
  readonly usesLeft: number;
  readonly ttlSeconds: number;
}
