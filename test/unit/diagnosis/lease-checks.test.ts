import { describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { CheckId, CheckStatus } from '../../../functions/diagnosis/check.js';
import type { LeaseObservations } from '../../../functions/diagnosis/observations.js';
import { checkTarget } from '../../../functions/diagnosis/target-checks.js';
import {
  at,
  context,
  failed,
  healthy,
  lease,
  leaseInfo,
  ok,
  tokenInfo,
} from './observations-builder.js';

const HOUR = 3600;

function leaseChecks(observed: LeaseObservations, overrides = {}) {
  return Object.fromEntries(
    checkTarget(healthy({ leases: [observed], ...overrides }), context())
      .filter((c) => c.lease === 'db')
      .map((c) => [c.id, c]),
  );
}

describe('lease checks', () => {
  it('passes a present, renewable lease that expires before its token', () => {
    const checks = leaseChecks(lease());

    expect(Object.values(checks).map((c) => c.status)).toEqual(Array(5).fill(CheckStatus.Pass));
    expect(checks[CheckId.LeasePresent]?.data).toEqual({
      ttlSeconds: HOUR,
      expireTime: at(HOUR),
      renewable: true,
    });
  });

  it('warns when the lease outlives its token, which revokes it when it dies', () => {
    const checks = leaseChecks(
      lease({ lookup: ok(leaseInfo({ ttlSeconds: 48 * HOUR, expireTime: at(48 * HOUR) })) }),
    );

    expect(checks[CheckId.LeaseParent]).toMatchObject({
      status: CheckStatus.Warn,
      breaksAt: at(23 * HOUR),
      actual: `dies with its token at ${at(23 * HOUR)}, before its own expiry ${at(48 * HOUR)}`,
    });
  });

  it('compares with the expire time of a token that cannot be renewed', () => {
    const checks = leaseChecks(lease(), {
      lookup: ok(tokenInfo({ renewable: false, expireTime: at(1800) })),
    });

    expect(checks[CheckId.LeaseParent]).toMatchObject({
      status: CheckStatus.Warn,
      breaksAt: at(1800),
    });
  });

  it('warns, without naming either accessor, when another token issued the lease', () => {
    const checks = leaseChecks(
      lease({ secret: ok({ hasLease: true, tokenAccessor: 'accessor-of-an-older-token' }) }),
    );

    const parent = checks[CheckId.LeaseParent];
    expect(parent).toMatchObject({
      status: CheckStatus.Warn,
      actual: expect.stringContaining('issued by another token than the stored one'),
      fix: expect.stringContaining('re-issues it under the stored token'),
    });
    expect(JSON.stringify(parent)).not.toContain('accessor-of');
  });

  it('warns about a TTL inside the horizon, dated only when it cannot be renewed', () => {
    const short = leaseChecks(
      lease({ lookup: ok(leaseInfo({ ttlSeconds: 600, expireTime: at(600) })) }),
    );
    expect(short[CheckId.LeaseTtl]).toMatchObject({ status: CheckStatus.Warn });
    expect(short[CheckId.LeaseTtl]?.breaksAt).toBeUndefined();

    const doomed = leaseChecks(
      lease({ lookup: ok(leaseInfo({ ttlSeconds: 600, expireTime: at(600), renewable: false })) }),
    );
    expect(doomed[CheckId.LeaseTtl]).toMatchObject({ status: CheckStatus.Warn, breaksAt: at(600) });
  });

  it.each<[string, LeaseObservations, string, CheckStatus, string]>([
    [
      'an empty lease secret',
      lease({ secret: ok({ hasLease: false }) }),
      CheckId.LeaseSecret,
      CheckStatus.Fail,
      'The renewer issues a lease from database/creds/billing-api and stores it in vault/billing-api/db',
    ],
    [
      'an unreadable lease secret',
      lease({ secret: { status: 'unreadable', answer: 'AccessDeniedException: no' } }),
      CheckId.LeaseSecret,
      CheckStatus.Fail,
      'aws secretsmanager describe-secret --secret-id vault/billing-api/db',
    ],
    [
      'a malformed lease secret',
      lease({ secret: { status: 'malformed', problem: 'lease secret is not valid JSON' } }),
      CheckId.LeaseSecret,
      CheckStatus.Fail,
      'Store a JSON object in vault/billing-api/db',
    ],
    [
      'a lookup the policy denies',
      lease({ lookup: failed(VaultFailureKind.PermissionDenied) }),
      CheckId.LeasePresent,
      CheckStatus.Warn,
      'path "sys/leases/lookup" { capabilities = ["update"] }',
    ],
  ])('reports %s', (_case, observed, id, status, fix) => {
    const check = leaseChecks(observed)[id];

    expect(check?.status).toBe(status);
    expect(check?.fix).toContain(fix);
  });

  it('does not look leases up with a dead token, and says they went with it', () => {
    const checks = leaseChecks(lease({ lookup: { status: 'not-run', reason: 'x' } }), {
      lookup: failed(VaultFailureKind.InvalidToken),
      liveness: 'dead',
    });

    expect(checks[CheckId.LeasePresent]).toMatchObject({
      status: CheckStatus.Skip,
      actual: 'not checked: the stored token is invalid; a lease it created was revoked with it',
    });
  });
});
