import { describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { type Check, CheckId, CheckStatus } from '../../../functions/diagnosis/check.js';
import type {
  LoginObservation,
  TargetObservations,
} from '../../../functions/diagnosis/observations.js';
import { checkTarget } from '../../../functions/diagnosis/target-checks.js';
import { Verdict, verdictOf } from '../../../functions/diagnosis/verdict.js';
import {
  at,
  context,
  failed,
  healthy,
  NOW_MS,
  ok,
  role,
  roleSettings,
  secretId,
  tokenInfo,
} from './observations-builder.js';

const HOUR = 3600;
const TOKEN_DIES_AT = at(-HOUR + 24 * HOUR);

function checkOf(observations: TargetObservations, id: string, loginRequested = false): Check {
  const checks = checkTarget(observations, context({ loginRequested }));
  const found = checks.find((c) => c.id === id);
  if (found === undefined) throw new Error(`no check ${id}`);
  return found;
}

function loginOf(overrides: Partial<LoginObservation> = {}): LoginObservation {
  return {
    login: ok({
      tokenType: 'service',
      renewable: true,
      ttlSeconds: HOUR,
      policies: ['default', 'billing-api'],
      warnings: [],
    }),
    verify: ok(true as const),
    revoke: ok(true as const),
    ...overrides,
  };
}

describe('secret_id check', () => {
  it.each<[string, Parameters<typeof secretId>[0], CheckStatus, string | undefined]>([
    ['never expires, unlimited uses', {}, CheckStatus.Pass, undefined],
    [
      'expires in 30 days, after the token dies',
      { expirationTime: at(30 * 86_400) },
      CheckStatus.Pass,
      undefined,
    ],
    [
      'expires before the token dies',
      { expirationTime: at(2 * HOUR) },
      CheckStatus.Warn,
      at(2 * HOUR),
    ],
    ['expired already', { expirationTime: at(-60) }, CheckStatus.Fail, TOKEN_DIES_AT],
    ['one login left', { usesLeft: 1 }, CheckStatus.Warn, undefined],
    ['five logins left', { usesLeft: 5 }, CheckStatus.Pass, undefined],
  ])('%s', (_case, info, status, breaksAt) => {
    const result = checkOf(healthy({ secretId: ok(secretId(info)) }), CheckId.AppRoleSecretId);

    expect(result.status).toBe(status);
    expect(result.breaksAt).toBe(breaksAt);
  });

  it('warns about a secret_id expiring within a week even when the token dies later', () => {
    const result = checkOf(
      healthy({
        lookup: ok(tokenInfo({ periodSeconds: HOUR })),
        secretId: ok(secretId({ expirationTime: at(3 * 86_400) })),
      }),
      CheckId.AppRoleSecretId,
    );

    expect(result).toMatchObject({ status: CheckStatus.Warn, breaksAt: at(3 * 86_400) });
    expect(result.fix).toContain('vault write -f auth/approle/role/billing-api/secret-id');
  });

  it('skips, and says which right it needs, when the lookup is not allowed', () => {
    const result = checkOf(
      healthy({ secretId: failed(VaultFailureKind.PermissionDenied) }),
      CheckId.AppRoleSecretId,
    );

    expect(result).toMatchObject({
      status: CheckStatus.Skip,
      fix: expect.stringContaining(
        'path "auth/approle/role/billing-api/secret-id/lookup" { capabilities = ["update"] }',
      ),
    });
  });
});

describe('AppRole role check', () => {
  it.each<[string, Parameters<typeof roleSettings>[0], CheckStatus, string]>([
    ['a role issuing batch tokens', { tokenType: 'batch' }, CheckStatus.Fail, 'token_type=service'],
    ['a token_ttl under two runs', { tokenTtlSeconds: 600 }, CheckStatus.Warn, 'token_ttl=1h'],
    [
      'a token_max_ttl under two runs',
      { tokenMaxTtlSeconds: 1200 },
      CheckStatus.Warn,
      'token_max_ttl=24h',
    ],
    ['a token use limit', { tokenNumUses: 10 }, CheckStatus.Warn, 'token_num_uses=0'],
  ])('flags %s', (_case, settings, status, fix) => {
    const observed = role(ok(roleSettings(settings)));
    const result = checkOf(healthy({ approleRole: observed }), CheckId.AppRoleRole);

    expect(result.status).toBe(status);
    expect(result.fix).toContain(`vault write auth/approle/role/billing-api ${fix}`);
  });

  it('fails, naming the path, when the role does not exist', () => {
    const result = checkOf(healthy({ approleRole: role(ok(null)) }), CheckId.AppRoleRole);

    expect(result).toMatchObject({
      status: CheckStatus.Fail,
      actual: 'auth/approle/role/billing-api does not exist',
      fix: expect.stringContaining('vault list auth/approle/role'),
    });
  });
});

describe('AppRole login check', () => {
  it('passes a login that gives a renewable service token, revoked afterwards', () => {
    const result = checkOf(healthy({ login: loginOf() }), CheckId.AppRoleLogin, true);

    expect(result).toMatchObject({
      status: CheckStatus.Pass,
      actual:
        'logged in: service token, renewable, TTL 1h, policies default, billing-api; test token revoked',
    });
  });

  it.each<[string, Partial<LoginObservation>, CheckStatus, string]>([
    [
      'refused credentials',
      {
        login: failed(
          VaultFailureKind.InvalidCredentials,
          '400 invalid-credentials: invalid role or secret ID',
        ),
      },
      CheckStatus.Fail,
      'vault write -f auth/approle/role/billing-api/secret-id',
    ],
    [
      'a locked-out role_id',
      { login: failed(VaultFailureKind.LockedOut, '403 locked-out: permission denied') },
      CheckStatus.Fail,
      'sys/locked-users',
    ],
    [
      'a new token that cannot look itself up',
      { verify: failed(VaultFailureKind.PermissionDenied) },
      CheckStatus.Fail,
      'path "auth/token/lookup-self" { capabilities = ["read"] }',
    ],
    [
      'a role handing out batch tokens',
      {
        login: ok({
          tokenType: 'batch',
          renewable: false,
          ttlSeconds: HOUR,
          policies: [],
          warnings: [],
        }),
        revoke: { status: 'not-run', reason: 'batch tokens cannot be revoked' },
      },
      CheckStatus.Fail,
      'token_type=service',
    ],
    [
      'new tokens shorter than two runs',
      {
        login: ok({
          tokenType: 'service',
          renewable: true,
          ttlSeconds: 120,
          policies: [],
          warnings: [],
        }),
      },
      CheckStatus.Warn,
      'token_ttl=1h',
    ],
  ])('reports %s', (_case, overrides, status, fix) => {
    const result = checkOf(healthy({ login: loginOf(overrides) }), CheckId.AppRoleLogin, true);

    expect(result.status).toBe(status);
    expect(result.fix).toContain(fix);
  });

  it('puts a live target at risk until its token dies, a dead one is broken now', () => {
    const refused = loginOf({ login: failed(VaultFailureKind.InvalidCredentials) });

    const alive = checkTarget(healthy({ login: refused }), context({ loginRequested: true }));
    expect(verdictOf(alive, NOW_MS)).toMatchObject({
      verdict: Verdict.AtRisk,
      breaksAt: TOKEN_DIES_AT,
    });
    const dead = checkTarget(
      healthy({ login: refused, lookup: failed(VaultFailureKind.InvalidToken), liveness: 'dead' }),
      context({ loginRequested: true }),
    );
    expect(verdictOf(dead, NOW_MS).verdict).toBe(Verdict.Broken);
  });

  it('says a test token it could not revoke is left to expire, without putting the target at risk', () => {
    const result = checkOf(
      healthy({
        login: loginOf({ revoke: failed(VaultFailureKind.PermissionDenied, '403 denied') }),
      }),
      CheckId.AppRoleLogin,
      true,
    );

    expect(result.status).toBe(CheckStatus.Pass);
    expect(result.actual).toContain('test token NOT revoked (403 denied); it expires in 1h');
  });
});
