import { describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { classifyVaultAnswer } from '../../../functions/vault/classify.js';

const RENEW_SELF = 'auth/token/renew-self';
const LOOKUP_SELF = 'auth/token/lookup-self';
const LEASE_RENEW = 'sys/leases/renew';
const LEASE_LOOKUP = 'sys/leases/lookup';
const LOGIN = 'auth/approle/login';
const CREDS = 'database/creds/app';

const MULTI_DENIED = '1 error occurred:\n\t* permission denied\n\n';

/**
 * Every row of shared/reference/vault-facts.md §2 that the renewer can meet,
 * plus the OpenBao variants pinned by test/contract/vault.contract.test.ts.
 */
const ROWS: ReadonlyArray<
  readonly [situation: string, path: string, status: number, errors: string[], VaultFailureKind]
> = [
  // --- dead tokens and denials
  [
    'dead token, Vault before PR #25953 (and OpenBao): plain 403, ambiguous, caller disambiguates',
    RENEW_SELF,
    403,
    ['permission denied'],
    VaultFailureKind.PermissionDenied,
  ],
  [
    'dead token on lookup-self, old Vault: plain 403, ambiguous',
    LOOKUP_SELF,
    403,
    ['permission denied'],
    VaultFailureKind.PermissionDenied,
  ],
  [
    'dead token, Vault after PR #25953: permission denied + invalid token',
    RENEW_SELF,
    403,
    ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'],
    VaultFailureKind.InvalidToken,
  ],
  [
    'dead token on lookup-self, new Vault',
    LOOKUP_SELF,
    403,
    ['permission denied', 'invalid token'],
    VaultFailureKind.InvalidToken,
  ],
  [
    'dead token on sys/leases/renew, new Vault',
    LEASE_RENEW,
    403,
    ['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n'],
    VaultFailureKind.InvalidToken,
  ],
  [
    'valid token whose policy lacks renew-self (#22575)',
    RENEW_SELF,
    403,
    [MULTI_DENIED],
    VaultFailureKind.PermissionDenied,
  ],
  [
    'valid token whose policy denies the issuing path',
    CREDS,
    403,
    [MULTI_DENIED],
    VaultFailureKind.PermissionDenied,
  ],
  [
    'no token header on an authenticated path',
    LEASE_RENEW,
    403,
    ['permission denied'],
    VaultFailureKind.PermissionDenied,
  ],
  // --- token renewal
  [
    'renew-self on a non-renewable token',
    RENEW_SELF,
    400,
    ['lease is not renewable'],
    VaultFailureKind.NotRenewable,
  ],
  [
    'renew-self on a token whose lease expired but is not yet revoked',
    RENEW_SELF,
    400,
    ['lease expired'],
    VaultFailureKind.LeaseExpired,
  ],
  [
    'renew-self on the initial root token (no lease entry)',
    RENEW_SELF,
    400,
    ['invalid lease ID'],
    VaultFailureKind.RootToken,
  ],
  [
    'renew on a root token through auth/token/renew',
    'auth/token/renew',
    400,
    ['invalid lease ID'],
    VaultFailureKind.RootToken,
  ],
  [
    'renew-self on a batch token',
    RENEW_SELF,
    400,
    ['batch tokens cannot be renewed'],
    VaultFailureKind.BatchToken,
  ],
  [
    'token renewal at max TTL (plain error, 500)',
    RENEW_SELF,
    500,
    ['past the max TTL, cannot renew'],
    VaultFailureKind.LeaseExpired,
  ],
  [
    'token renewal at max TTL, older Vault wording',
    RENEW_SELF,
    500,
    ['failed to renew entry: past the max TTL, cannot renew'],
    VaultFailureKind.LeaseExpired,
  ],
  // --- leases
  [
    'sys/leases/renew, unknown, revoked or reaped lease',
    LEASE_RENEW,
    400,
    ['lease not found'],
    VaultFailureKind.LeaseNotFound,
  ],
  [
    'sys/leases/lookup, unknown lease',
    LEASE_LOOKUP,
    400,
    ['invalid lease'],
    VaultFailureKind.LeaseNotFound,
  ],
  [
    'sys/leases/renew with `invalid lease ID` is not a root token',
    LEASE_RENEW,
    400,
    ['invalid lease ID'],
    VaultFailureKind.LeaseNotFound,
  ],
  [
    'sys/leases/renew on a non-renewable lease',
    LEASE_RENEW,
    400,
    ['lease is not renewable'],
    VaultFailureKind.NotRenewable,
  ],
  [
    'sys/leases/renew on an expired lease not yet revoked',
    LEASE_RENEW,
    400,
    ['lease expired'],
    VaultFailureKind.LeaseExpired,
  ],
  [
    'sys/leases/renew on an irrevocable lease',
    LEASE_RENEW,
    400,
    ['lease is expired and has failed previous revocation attempts'],
    VaultFailureKind.LeaseExpired,
  ],
  [
    'sys/leases/renew at max TTL',
    LEASE_RENEW,
    400,
    ['past the max TTL, cannot renew'],
    VaultFailureKind.LeaseExpired,
  ],
  [
    'pre-0.9 Vault, both in one text',
    LEASE_RENEW,
    400,
    ['lease not found or lease is not renewable'],
    VaultFailureKind.LeaseNotFound,
  ],
  [
    'sys/leases/renew with a token lease ID (caller bug)',
    LEASE_RENEW,
    400,
    ['tokens cannot be renewed through this endpoint'],
    VaultFailureKind.BadRequest,
  ],
  [
    'sys/leases/renew without lease_id',
    LEASE_RENEW,
    400,
    ['lease_id must be specified'],
    VaultFailureKind.BadRequest,
  ],
  // --- AppRole login
  [
    'login, unknown role_id or unknown/used-up secret_id',
    LOGIN,
    400,
    ['invalid role or secret ID'],
    VaultFailureKind.InvalidCredentials,
  ],
  [
    'login, older AppRole (#8020)',
    LOGIN,
    400,
    ['invalid secret id'],
    VaultFailureKind.InvalidCredentials,
  ],
  [
    'login at another mount',
    'auth/team-a/approle/login',
    400,
    ['invalid role or secret ID'],
    VaultFailureKind.InvalidCredentials,
  ],
  ['login, missing secret_id', LOGIN, 400, ['missing secret_id'], VaultFailureKind.BadRequest],
  [
    'login, secret-id CIDR mismatch',
    LOGIN,
    400,
    ['source address "10.0.0.1" unauthorized through CIDR restrictions on the secret ID'],
    VaultFailureKind.BadRequest,
  ],
  [
    'login while the role_id is locked out',
    LOGIN,
    403,
    ['permission denied'],
    VaultFailureKind.LockedOut,
  ],
  [
    'login at a mount where no auth method is mounted (OpenBao; same 403 as lockout)',
    'auth/no-such-mount/login',
    403,
    ['permission denied'],
    VaultFailureKind.LockedOut,
  ],
  [
    'login while locked out, at a nested mount',
    'auth/team-a/approle/login',
    403,
    [MULTI_DENIED],
    VaultFailureKind.LockedOut,
  ],
  // --- availability
  ['sealed', RENEW_SELF, 503, ['Vault is sealed'], VaultFailureKind.Sealed],
  ['sealed, during login', LOGIN, 503, ['Vault is sealed'], VaultFailureKind.Sealed],
  [
    'standby with no active node',
    RENEW_SELF,
    503,
    ['no active Vault instance found'],
    VaultFailureKind.Unavailable,
  ],
  [
    'HA-less node that is not active',
    RENEW_SELF,
    503,
    ['node is not active'],
    VaultFailureKind.Unavailable,
  ],
  ['standby that cannot forward: 307 redirect', RENEW_SELF, 307, [], VaultFailureKind.Unavailable],
  [
    'eventual consistency (Enterprise)',
    LEASE_RENEW,
    412,
    ['required index state not present'],
    VaultFailureKind.Unavailable,
  ],
  [
    'Agent listener without X-Vault-Request',
    RENEW_SELF,
    412,
    ['missing "X-Vault-Request" header'],
    VaultFailureKind.Unavailable,
  ],
  [
    'rate-limit quota',
    RENEW_SELF,
    429,
    ['request path "auth/token/renew-self": rate limit quota exceeded'],
    VaultFailureKind.RateLimited,
  ],
  [
    'lease-count quota',
    CREDS,
    429,
    ['request path "database/creds/app": lease count quota exceeded'],
    VaultFailureKind.RateLimited,
  ],
  ['rate limited during login', LOGIN, 429, [], VaultFailureKind.RateLimited],
  ['upstream rate limited', CREDS, 502, ['upstream rate limited'], VaultFailureKind.Unavailable],
  ['internal error', RENEW_SELF, 500, ['internal error'], VaultFailureKind.Unavailable],
  ['proxy error page, no JSON', RENEW_SELF, 502, [], VaultFailureKind.Unavailable],
  // --- the request itself was wrong
  [
    'wrong method (GET renew-self)',
    RENEW_SELF,
    405,
    ['1 error occurred:\n\t* unsupported operation\n\n'],
    VaultFailureKind.BadRequest,
  ],
  ['unknown path', 'nope/creds/app', 404, ['unsupported path'], VaultFailureKind.BadRequest],
  ['read that returned nothing', CREDS, 404, [], VaultFailureKind.BadRequest],
  [
    'no mount at the path (OpenBao wording)',
    'auth/nope/login',
    404,
    ['no handler for route "auth/nope/login". route entry not found.'],
    VaultFailureKind.BadRequest,
  ],
  [
    'X-Vault-Namespace names a namespace that does not exist (OpenBao, Vault Enterprise)',
    RENEW_SELF,
    404,
    ['namespace not found'],
    VaultFailureKind.BadRequest,
  ],
  [
    'namespace header on Vault CE',
    RENEW_SELF,
    403,
    ['namespaces feature not enabled'],
    VaultFailureKind.PermissionDenied,
  ],
];

describe('classifyVaultAnswer', () => {
  it.each(ROWS)('%s → %5$s', (_situation, path, status, errors, kind) => {
    expect(classifyVaultAnswer({ path, status, errors })).toBe(kind);
  });

  it('classifies a connection that got no HTTP answer as unavailable', () => {
    expect(classifyVaultAnswer({ path: RENEW_SELF, transport: 'network' })).toBe(
      VaultFailureKind.Unavailable,
    );
  });

  it('classifies a call whose deadline passed as timeout', () => {
    expect(classifyVaultAnswer({ path: RENEW_SELF, transport: 'deadline' })).toBe(
      VaultFailureKind.Timeout,
    );
  });

  it('matches Vault texts whatever their case', () => {
    expect(
      classifyVaultAnswer({ path: LOGIN, status: 400, errors: ['Invalid Role Or Secret ID'] }),
    ).toBe(VaultFailureKind.InvalidCredentials);
  });

  it('does not treat auth/token paths as logins', () => {
    expect(
      classifyVaultAnswer({ path: 'auth/token/lookup-self', status: 403, errors: [MULTI_DENIED] }),
    ).toBe(VaultFailureKind.PermissionDenied);
  });
});
