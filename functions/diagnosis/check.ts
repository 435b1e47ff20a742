/**
 * One line of the troubleshooting checklist: what was checked, what a healthy
 * target shows, what this one shows, and the fix when it falls short. Checks
 * hold names, paths, Vault's own error words, numbers and dates; never a
 * token, accessor, secret_id, lease id or credential.
 */

export const CheckStatus = {
  Pass: 'pass',
  /** Works now, but close to a limit, unknown, or needing attention. */
  Warn: 'warn',
  Fail: 'fail',
  /** Not checked (a previous check failed, or the check needs a rights or flag it lacks). */
  Skip: 'skip',
} as const;
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

/** Stable ids: consumers of the JSON match on them, so they never change meaning. */
export const CheckId = {
  VaultHealth: 'vault.health',
  TokenSecret: 'token.secret',
  TokenValid: 'token.valid',
  TokenNotRoot: 'token.not-root',
  TokenOrigin: 'token.origin',
  TokenType: 'token.type',
  TokenRenewable: 'token.renewable',
  TokenTtl: 'token.ttl',
  TokenMaxTtl: 'token.max-ttl',
  TokenNumUses: 'token.num-uses',
  CapabilityRenewSelf: 'capability.renew-self',
  CapabilityLookupSelf: 'capability.lookup-self',
  CapabilityLeasesRenew: 'capability.leases-renew',
  AppRoleSecret: 'approle.secret',
  AppRoleRole: 'approle.role',
  AppRoleSecretId: 'approle.secret-id',
  AppRoleLogin: 'approle.login',
  LeaseSecret: 'lease.secret',
  LeasePresent: 'lease.present',
  LeaseRenewable: 'lease.renewable',
  LeaseTtl: 'lease.ttl',
  LeaseParent: 'lease.parent',
  JwtRole: 'jwt.role',
  JwtAudience: 'jwt.audience',
  JwtClaims: 'jwt.claims',
  JwtIssuer: 'jwt.issuer',
  VaultClock: 'vault.clock',
} as const;
export type CheckId = (typeof CheckId)[keyof typeof CheckId];

/** Short human labels for tables and messages. */
export const CHECK_LABELS: Readonly<Record<CheckId, string>> = {
  [CheckId.VaultHealth]: 'Vault reachable, unsealed',
  [CheckId.TokenSecret]: 'token secret',
  [CheckId.TokenValid]: 'token valid',
  [CheckId.TokenNotRoot]: 'not a root token',
  [CheckId.TokenOrigin]: 'issued by the AppRole',
  [CheckId.TokenType]: 'token type',
  [CheckId.TokenRenewable]: 'token renewable',
  [CheckId.TokenTtl]: 'token TTL',
  [CheckId.TokenMaxTtl]: 'time to max TTL',
  [CheckId.TokenNumUses]: 'token use limit',
  [CheckId.CapabilityRenewSelf]: 'may renew itself',
  [CheckId.CapabilityLookupSelf]: 'may look itself up',
  [CheckId.CapabilityLeasesRenew]: 'may renew leases',
  [CheckId.AppRoleSecret]: 'AppRole secret',
  [CheckId.AppRoleRole]: 'AppRole role',
  [CheckId.AppRoleSecretId]: 'secret_id expiry/uses',
  [CheckId.AppRoleLogin]: 'AppRole login',
  [CheckId.LeaseSecret]: 'lease secret',
  [CheckId.LeasePresent]: 'lease present',
  [CheckId.LeaseRenewable]: 'lease renewable',
  [CheckId.LeaseTtl]: 'lease TTL',
  [CheckId.LeaseParent]: 'outlived by its token',
  [CheckId.JwtRole]: 'jwt role',
  [CheckId.JwtAudience]: 'jwt audience',
  [CheckId.JwtClaims]: 'jwt bound claims',
  [CheckId.JwtIssuer]: 'issuer discovery',
  [CheckId.VaultClock]: "Vault's clock",
};

/** Machine-readable facts of a check (seconds, RFC3339 times, labels); never a secret. */
export type CheckData = Readonly<Record<string, string | number | boolean | null>>;

export interface Check {
  readonly id: CheckId;
  /** The lease's configured name, for `lease.*` checks. */
  readonly lease?: string;
  readonly status: CheckStatus;
  readonly expected: string;
  readonly actual: string;
  /** The exact command or policy line, naming the target's real role, mount and paths. */
  readonly fix?: string;
  /**
   * For `warn`/`fail`: when what this check found stops the target working
   * (RFC3339). Absent when it is broken already or the moment is unknown.
   */
  readonly breaksAt?: string;
  readonly data?: CheckData;
}

/** Drops undefined optional fields so the JSON and `toEqual` comparisons stay clean. */
export function check(fields: {
  readonly id: CheckId;
  readonly status: CheckStatus;
  readonly expected: string;
  readonly actual: string;
  readonly lease?: string | undefined;
  readonly fix?: string | undefined;
  readonly breaksAt?: string | undefined;
  readonly data?: CheckData | undefined;
}): Check {
  return {
    id: fields.id,
    ...(fields.lease === undefined ? {} : { lease: fields.lease }),
    status: fields.status,
    expected: fields.expected,
    actual: fields.actual,
    ...(fields.fix === undefined || fields.status === CheckStatus.Pass ? {} : { fix: fields.fix }),
    ...(fields.breaksAt === undefined ||
    (fields.status !== CheckStatus.Warn && fields.status !== CheckStatus.Fail)
      ? {}
      : { breaksAt: fields.breaksAt }),
    ...(fields.data === undefined ? {} : { data: fields.data }),
  };
}

/** A check that was not run, and why. */
export function skipped(
  id: CheckId,
  expected: string,
  why: string,
  lease?: string,
  fix?: string,
): Check {
  return check({
    id,
    status: CheckStatus.Skip,
    expected,
    actual: `not checked: ${why}`,
    lease,
    fix,
  });
}
