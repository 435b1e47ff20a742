import { describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { type Check, CheckId, CheckStatus } from '../../../functions/diagnosis/check.js';
import type { TargetObservations } from '../../../functions/diagnosis/observations.js';
import { checkTarget } from '../../../functions/diagnosis/target-checks.js';
import { Verdict, verdictOf } from '../../../functions/diagnosis/verdict.js';
import {
  at,
  context,
  DENIED,
  failed,
  healthy,
  lease,
  leaseInfo,
  NOW_MS,
  ok,
  role,
  roleSettings,
  secretId,
  TARGET,
  tokenInfo,
} from './observations-builder.js';

const HOUR = 3600;
const ISSUED = -HOUR;

function run(observations: TargetObservations, loginRequested = false) {
  const checks = checkTarget(observations, context({ loginRequested }));
  return { checks, ...verdictOf(checks, NOW_MS) };
}

function find(checks: readonly Check[], id: string, leaseName?: string): Check {
  const found = checks.find((c) => c.id === id && c.lease === leaseName);
  if (found === undefined) throw new Error(`no check ${id}`);
  return found;
}

function statuses(checks: readonly Check[]): Record<string, string> {
  return Object.fromEntries(
    checks.map((c) => [c.lease === undefined ? c.id : `${c.id}/${c.lease}`, c.status]),
  );
}

describe('checkTarget on a healthy target', () => {
  it('passes every check but the login test, which it skips unless asked', () => {
    const { checks, verdict } = run(healthy());

    expect(verdict).toBe(Verdict.Healthy);
    expect(checks.filter((c) => c.status !== CheckStatus.Pass).map((c) => c.id)).toEqual([
      CheckId.AppRoleLogin,
    ]);
    expect(find(checks, CheckId.AppRoleLogin).actual).toContain('"login": true');
  });

  it('lists the checklist in a stable order, one set of lease checks per lease', () => {
    expect(run(healthy()).checks.map((c) => (c.lease ? `${c.id}/${c.lease}` : c.id))).toEqual([
      'vault.health',
      'token.secret',
      'token.valid',
      'token.not-root',
      'token.origin',
      'token.type',
      'token.renewable',
      'token.ttl',
      'token.max-ttl',
      'token.num-uses',
      'capability.renew-self',
      'capability.lookup-self',
      'capability.leases-renew',
      'approle.secret',
      'approle.role',
      'approle.secret-id',
      'approle.login',
      'lease.secret/db',
      'lease.present/db',
      'lease.renewable/db',
      'lease.ttl/db',
      'lease.parent/db',
    ]);
  });

  it('tells the time to max TTL and where it comes from', () => {
    const maxTtl = find(run(healthy()).checks, CheckId.TokenMaxTtl);

    expect(maxTtl.actual).toBe(
      `23h left, until ${at(ISSUED + 24 * HOUR)}; max TTL 24h from token_max_ttl 24h of auth/approle/role/billing-api`,
    );
    expect(maxTtl.data).toMatchObject({ source: 'role-token-max-ttl', assumed: false });
  });

  it('labels the max TTL an assumption when the role and tuning are not readable', () => {
    const { checks, verdict } = run(
      healthy({
        tokenRole: role(failed(DENIED)),
        approleRole: role(failed(DENIED)),
        tuning: { mount: 'approle', tuning: failed(DENIED) },
      }),
    );

    expect(verdict).toBe(Verdict.Healthy);
    const maxTtl = find(checks, CheckId.TokenMaxTtl);
    expect(maxTtl.status).toBe(CheckStatus.Pass);
    expect(maxTtl.actual).toContain('768h system default, assumed');
    expect(maxTtl.data).toMatchObject({ source: 'system-default', assumed: true });
    expect(find(checks, CheckId.AppRoleRole)).toMatchObject({
      status: CheckStatus.Skip,
      fix: expect.stringContaining(
        'path "auth/approle/role/billing-api" { capabilities = ["read"] }',
      ),
    });
  });
});

describe('checkTarget on each failure mode of design.md', () => {
  it.each<{
    name: string;
    observations: TargetObservations;
    verdict: Verdict;
    breaksAt?: string;
    failing: Record<string, string>;
    fix: [string, string];
  }>([
    {
      name: '1/6: expired or revoked token',
      observations: healthy({
        lookup: failed(
          VaultFailureKind.PermissionDenied,
          '403 permission-denied: permission denied',
        ),
        liveness: 'dead',
        capabilities: failed(VaultFailureKind.PermissionDenied),
        tokenRole: undefined,
        tuning: undefined,
        approleRole: role({ status: 'not-run', reason: 'the token is not valid' }),
        secretId: { status: 'not-run', reason: 'the token is not valid' },
        leases: [lease({ lookup: { status: 'not-run', reason: 'the token is not valid' } })],
      }),
      verdict: Verdict.Broken,
      failing: { 'token.valid': 'fail' },
      fix: [CheckId.TokenValid, '{"action": "relogin", "targets": ["billing-api"]}'],
    },
    {
      name: '2: root token',
      observations: healthy({
        lookup: ok(
          tokenInfo({
            policies: ['root'],
            ttlSeconds: 0,
            expireTime: null,
            path: 'auth/token/root',
            meta: null,
          }),
        ),
      }),
      verdict: Verdict.Broken,
      failing: { 'token.not-root': 'fail' },
      fix: [CheckId.TokenNotRoot, 'npm run vault:bootstrap -- billing-api'],
    },
    {
      name: '3: non-renewable token',
      observations: healthy({ lookup: ok(tokenInfo({ renewable: false })) }),
      verdict: Verdict.AtRisk,
      breaksAt: at(HOUR),
      failing: { 'token.renewable': 'fail' },
      fix: [CheckId.TokenRenewable, 'vault write auth/approle/role/billing-api token_type=service'],
    },
    {
      name: '3: batch token',
      observations: healthy({ lookup: ok(tokenInfo({ type: 'batch', renewable: false })) }),
      verdict: Verdict.AtRisk,
      breaksAt: at(HOUR),
      failing: { 'token.type': 'fail' },
      fix: [CheckId.TokenType, 'vault write auth/approle/role/billing-api token_type=service'],
    },
    {
      name: '4: policy lacks renew-self',
      observations: healthy({
        capabilities: ok({
          'auth/token/renew-self': ['deny'],
          'auth/token/lookup-self': ['read'],
          'sys/leases/renew': ['update'],
        }),
      }),
      verdict: Verdict.AtRisk,
      breaksAt: at(HOUR),
      failing: { 'capability.renew-self': 'fail' },
      fix: [
        CheckId.CapabilityRenewSelf,
        'Add to one of its policies (default,billing-api): path "auth/token/renew-self" { capabilities = ["update"] }',
      ],
    },
    {
      name: '4: policy lacks sys/leases/renew',
      observations: healthy({
        capabilities: ok({
          'auth/token/renew-self': ['update'],
          'auth/token/lookup-self': ['read'],
          'sys/leases/renew': ['deny'],
        }),
      }),
      verdict: Verdict.AtRisk,
      breaksAt: at(HOUR),
      failing: { 'capability.leases-renew': 'fail' },
      fix: [CheckId.CapabilityLeasesRenew, 'path "sys/leases/renew" { capabilities = ["update"] }'],
    },
    {
      name: '5: near max TTL',
      observations: healthy({
        lookup: ok(tokenInfo({ ttlSeconds: 600, expireTime: at(600) })),
        tokenRole: role(ok(roleSettings({ tokenMaxTtlSeconds: HOUR + 600 }))),
        approleRole: role(ok(roleSettings({ tokenMaxTtlSeconds: HOUR + 600 }))),
        leases: [lease({ lookup: ok(leaseInfo({ expireTime: at(HOUR) })) })],
      }),
      verdict: Verdict.AtRisk,
      breaksAt: at(600),
      failing: {
        'token.ttl': 'warn',
        'token.max-ttl': 'warn',
        'lease.parent/db': 'warn',
      },
      fix: [CheckId.TokenMaxTtl, 'vault write auth/approle/role/billing-api token_max_ttl=24h'],
    },
    {
      name: '7: lease gone',
      observations: healthy({
        leases: [
          lease({
            lookup: failed(VaultFailureKind.LeaseNotFound, '400 lease-not-found: invalid lease'),
          }),
        ],
      }),
      verdict: Verdict.Broken,
      failing: { 'lease.present/db': 'fail' },
      fix: [CheckId.LeasePresent, 'database/creds/billing-api'],
    },
    {
      name: '7: lease not renewable',
      observations: healthy({ leases: [lease({ lookup: ok(leaseInfo({ renewable: false })) })] }),
      verdict: Verdict.AtRisk,
      breaksAt: at(HOUR),
      failing: { 'lease.renewable/db': 'warn' },
      fix: [CheckId.LeaseRenewable, 'the renewer re-issues it from database/creds/billing-api'],
    },
    {
      name: '8: secret_id used up or wrong',
      observations: healthy({ secretId: ok(null) }),
      verdict: Verdict.AtRisk,
      breaksAt: at(ISSUED + 24 * HOUR),
      failing: { 'approle.secret-id': 'fail' },
      fix: [CheckId.AppRoleSecretId, 'vault write -f auth/approle/role/billing-api/secret-id'],
    },
    {
      name: '8: secret_id expired and the token dead',
      observations: healthy({
        lookup: failed(VaultFailureKind.InvalidToken),
        liveness: 'dead',
        secretId: ok(secretId({ expirationTime: at(-60) })),
      }),
      verdict: Verdict.Broken,
      failing: { 'token.valid': 'fail', 'approle.secret-id': 'fail' },
      fix: [CheckId.AppRoleSecretId, 'vault write -f auth/approle/role/billing-api/secret-id'],
    },
    {
      name: '9: Vault sealed',
      observations: healthy({
        health: ok({
          initialized: true,
          sealed: true,
          standby: false,
          version: '1.17.2',
          status: 200,
        }),
      }),
      verdict: Verdict.Broken,
      failing: { 'vault.health': 'fail' },
      fix: [CheckId.VaultHealth, 'vault operator unseal'],
    },
    {
      name: '9: Vault down',
      observations: healthy({
        health: failed(
          VaultFailureKind.Unavailable,
          'unavailable: connect ECONNREFUSED (sys/health)',
        ),
      }),
      verdict: Verdict.Broken,
      failing: { 'vault.health': 'fail' },
      fix: [CheckId.VaultHealth, 'https://vault.example.com:8200/v1/sys/health'],
    },
  ])('$name', ({ observations, verdict, breaksAt, failing, fix }) => {
    const result = run(observations);

    expect(result.verdict).toBe(verdict);
    expect(result.breaksAt).toBe(breaksAt);
    const troubled = Object.fromEntries(
      Object.entries(statuses(result.checks)).filter(([, s]) => s === 'fail' || s === 'warn'),
    );
    expect(troubled).toEqual(failing);
    const [id, text] = fix;
    expect(result.checks.find((c) => c.id === id)?.fix).toContain(text);
  });

  it('skips every Vault check while Vault is sealed, but still reads the secrets', () => {
    const { checks } = run(
      healthy({
        health: ok({ initialized: true, sealed: true, standby: false, version: '', status: 200 }),
      }),
    );

    expect(find(checks, CheckId.TokenSecret).status).toBe(CheckStatus.Pass);
    expect(find(checks, CheckId.AppRoleSecret).status).toBe(CheckStatus.Pass);
    for (const id of [CheckId.TokenValid, CheckId.TokenTtl, CheckId.CapabilityRenewSelf]) {
      expect(find(checks, id)).toMatchObject({
        status: CheckStatus.Skip,
        actual: 'not checked: Vault is not usable (see vault.health)',
      });
    }
  });
});

describe('token checks', () => {
  it('tells a live token whose policy denies lookup-self from a dead one', () => {
    const { checks, verdict } = run(
      healthy({
        lookup: failed(DENIED, '403 permission-denied: 1 error occurred: * permission denied'),
        liveness: 'alive',
        capabilities: ok({
          'auth/token/renew-self': ['update'],
          'auth/token/lookup-self': ['deny'],
          'sys/leases/renew': ['update'],
        }),
        tokenRole: undefined,
        tuning: undefined,
      }),
    );

    expect(find(checks, CheckId.TokenValid)).toMatchObject({
      status: CheckStatus.Pass,
      actual: expect.stringContaining('lookup-self is denied'),
    });
    expect(find(checks, CheckId.CapabilityLookupSelf)).toMatchObject({
      status: CheckStatus.Fail,
      fix: expect.stringContaining('path "auth/token/lookup-self" { capabilities = ["read"] }'),
    });
    expect(verdict).toBe(Verdict.Broken);
  });

  it('warns about a token issued elsewhere than the target AppRole', () => {
    const { checks } = run(
      healthy({ lookup: ok(tokenInfo({ path: 'auth/token/create', meta: null })) }),
    );

    expect(find(checks, CheckId.TokenOrigin)).toMatchObject({
      status: CheckStatus.Warn,
      actual: 'issued by auth/token/create',
    });
  });

  it('warns about a use-limited token and makes no further call claims', () => {
    const { checks } = run(healthy({ lookup: ok(tokenInfo({ numUses: 3 })) }));

    expect(find(checks, CheckId.TokenNumUses)).toMatchObject({
      status: CheckStatus.Warn,
      fix: expect.stringContaining('token_num_uses=0'),
    });
  });

  it('passes a periodic token with no max TTL', () => {
    const { checks, verdict } = run(
      healthy({ lookup: ok(tokenInfo({ periodSeconds: 4 * HOUR })) }),
    );

    expect(verdict).toBe(Verdict.Healthy);
    expect(find(checks, CheckId.TokenMaxTtl).actual).toMatch(/^no max TTL: periodic token/);
  });

  it('says the token secret holds no token yet, and how the renewer fills it', () => {
    const { checks, verdict } = run(healthy({ tokenSecret: ok({ hasToken: false }) }));

    expect(verdict).toBe(Verdict.Broken);
    expect(find(checks, CheckId.TokenSecret)).toMatchObject({
      status: CheckStatus.Fail,
      actual: 'holds no token yet',
    });
  });

  it('names the unreadable token secret in the fix', () => {
    const { checks } = run(
      healthy({
        tokenSecret: { status: 'unreadable', answer: 'ResourceNotFoundException: not found' },
      }),
    );

    expect(find(checks, CheckId.TokenSecret)).toMatchObject({
      status: CheckStatus.Fail,
      actual: 'unreadable: ResourceNotFoundException: not found',
      fix: expect.stringContaining(`--secret-id ${TARGET.tokenSecretId}`),
    });
  });
});
