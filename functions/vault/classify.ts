/**
 * The one place where Vault's answers become a {@link VaultFailureKind}.
 * Pure: no I/O, no clock. Every rule cites shared/reference/vault-facts.md §2.
 *
 * Vault's error text is matched case-insensitively on substrings, never on the
 * whole string: multierrors wrap the text (`1 error occurred:\n\t* permission
 * denied\n\n`), Vault versions reword the prefix, and OpenBao keeps Vault's
 * wording in the parts that matter.
 */
import { VaultFailureKind } from '../core/vault-port.js';

/** What Vault said: an HTTP status with its `errors[]`, or no answer at all. */
export type VaultAnswer =
  | {
      /** Logical path, e.g. `auth/token/renew-self` or `auth/approle/login`. */
      readonly path: string;
      readonly status: number;
      readonly errors: readonly string[];
    }
  | {
      readonly path: string;
      /** `network`: no HTTP answer (refused, reset, DNS, TLS). `deadline`: the caller's signal fired. */
      readonly transport: 'network' | 'deadline';
    };

/** Token renew paths, where `invalid lease ID` means "this token has no lease": a root token. */
const TOKEN_RENEW_PATHS: ReadonlySet<string> = new Set([
  'auth/token/renew-self',
  'auth/token/renew',
]);

/**
 * Login paths of auth methods (`auth/<mount>/login`, also `auth/<mount>/login/<role>`),
 * which are unauthenticated: a 403 there is not about a token. The token store
 * has no login path, so `auth/token/...` never matches.
 */
const LOGIN_PATH = /^auth\/(?!token\/).+\/login(?:\/[^/]+)?$/;

/** Texts checked in order; the first match wins. Each row names its §2 source. */
const TEXT_RULES: ReadonlyArray<{
  readonly contains: readonly string[];
  readonly kind: VaultFailureKind;
}> = [
  // 503 `Vault is sealed` (AdjustErrorStatusCode forces 503 for this text).
  { contains: ['vault is sealed'], kind: VaultFailureKind.Sealed },
  // 400 on renew of a batch token.
  { contains: ['batch tokens cannot be renewed'], kind: VaultFailureKind.BatchToken },
  // AppRole login: unknown role_id, unknown/used-up secret_id; older Vault (#8020): `invalid secret id`.
  {
    contains: ['invalid role or secret id', 'invalid secret id'],
    kind: VaultFailureKind.InvalidCredentials,
  },
  // Pre-0.9 Vault said `lease not found or lease is not renewable` for both: treat as gone,
  // which leads to the same re-issue as not-renewable would.
  { contains: ['lease not found'], kind: VaultFailureKind.LeaseNotFound },
  { contains: ['lease is not renewable'], kind: VaultFailureKind.NotRenewable },
  // `lease expired` (race before revocation), `past the max TTL, cannot renew` (400 on
  // sys/leases/renew, 500 on token renew, older Vault prefixed `failed to renew entry: `),
  // and the irrevocable `lease is expired and has failed previous revocation attempts`.
  {
    contains: ['lease expired', 'past the max ttl', 'lease is expired'],
    kind: VaultFailureKind.LeaseExpired,
  },
  // sys/leases/lookup says `invalid lease` for an unknown lease. `invalid lease ID` on a
  // token renew path is handled before this table (root token).
  { contains: ['invalid lease'], kind: VaultFailureKind.LeaseNotFound },
];

/**
 * Maps one Vault answer to the failure kind the caller acts on.
 *
 * The 403 ambiguity. Vault before PR #25953 (1.17) and OpenBao answer a dead
 * (expired, revoked, unknown) token with the same plain `permission denied` as
 * an ACL denial on a live token. Only newer Vault adds `invalid token`. So a
 * plain 403 on `auth/token/renew-self` or `auth/token/lookup-self` is
 * classified `permission-denied` here, because that is what the text says; the
 * caller tells the two apart with a second call the default policy always
 * grants: `sys/capabilities-self` for `auth/token/renew-self` (or lookup-self,
 * after a failed renew-self). If that call is also refused, the token itself is
 * dead (treat as invalid-token and log in again); if it answers, the token is
 * alive and its policy lacks the capability (report the policy fix, log in again
 * only as a fallback). The adapter does not make that second call itself: it
 * moves bytes and never decides.
 */
export function classifyVaultAnswer(answer: VaultAnswer): VaultFailureKind {
  if ('transport' in answer) {
    return answer.transport === 'deadline'
      ? VaultFailureKind.Timeout
      : VaultFailureKind.Unavailable;
  }
  const { path, status } = answer;
  const text = answer.errors.join('\n').toLowerCase();
  const isLogin = LOGIN_PATH.test(path);

  // Renew-self of the initial root token: no lease entry, 400 `invalid lease ID`.
  if (TOKEN_RENEW_PATHS.has(path) && text.includes('invalid lease id')) {
    return VaultFailureKind.RootToken;
  }
  for (const rule of TEXT_RULES) {
    if (rule.contains.some((needle) => text.includes(needle))) return rule.kind;
  }

  if (status === 403) {
    // Logins are unauthenticated: core refuses a locked-out role_id with 403 before routing.
    // The same plain 403 comes back when no auth method is mounted at `auth/<mount>` (in
    // this namespace): the path is then not a login path, and the client sends no token.
    // Both mean "stop logging in and tell a human"; the message should name both causes.
    if (isLogin) return VaultFailureKind.LockedOut;
    // Vault ≥ 1.17 (PR #25953) adds `invalid token` for a missing/expired/revoked token.
    if (text.includes('invalid token')) return VaultFailureKind.InvalidToken;
    // ACL denial on a live token, or (old Vault, OpenBao) a dead token: see the doc comment.
    return VaultFailureKind.PermissionDenied;
  }
  // Rate-limit and lease-count quotas.
  if (status === 429) return VaultFailureKind.RateLimited;
  // Vault Enterprise eventual consistency (`required index state not present`), and Agent's
  // `missing "X-Vault-Request" header`: the Go client retries 412.
  if (status === 412) return VaultFailureKind.Unavailable;
  // 5xx other than sealed: no active node, node not active, upstream rate limited, plain errors.
  if (status >= 500) return VaultFailureKind.Unavailable;
  // Any other 4xx: the request was wrong (unsupported path/operation, bad body, missing field).
  if (status >= 400) return VaultFailureKind.BadRequest;
  // 307 from a standby that cannot forward, or any other redirect the client does not
  // follow: the answer came from a node that cannot serve it.
  return VaultFailureKind.Unavailable;
}
