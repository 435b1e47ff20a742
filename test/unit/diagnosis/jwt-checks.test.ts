import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../functions/config/types.js';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { TARGET_CLAIM } from '../../../functions/core/web-identity-port.js';
import { jwtChecks } from '../../../functions/diagnosis/jwt-checks.js';
import type { JwtObservations } from '../../../functions/diagnosis/observations.js';
import { context, failed, healthy, NOW_MS, ok, TARGET } from './observations-builder.js';

const { approle: _, ...rest } = TARGET;
const JWT_TARGET: TargetConfig = {
  ...rest,
  jwt: { audience: 'vault.example.com', mount: 'jwt', role: TARGET.name },
};
const ISSUER = 'https://abc.tokens.sts.global.api.aws';

function observed(overrides: Partial<JwtObservations> = {}, vaultTime = NOW_MS / 1000) {
  return healthy({
    health: ok({
      initialized: true,
      sealed: false,
      standby: false,
      version: '2.0.0',
      status: 200,
      serverTimeUtc: vaultTime,
    }),
    jwt: {
      role: ok({
        roleType: 'jwt',
        boundAudiences: ['vault.example.com'],
        boundSubject: 'arn:aws:iam::123456789012:role/renew',
        boundClaims: { [TARGET_CLAIM]: [TARGET.name] },
      }),
      issuer: ok(ISSUER),
      discovery: ok(ISSUER),
      ...overrides,
    },
  });
}

const statuses = (checks: ReturnType<typeof jwtChecks>) =>
  Object.fromEntries(checks.map((c) => [c.id, c.status]));

describe('the checks of a jwt target', () => {
  it('pass for a role bound as the renewer sends, a trusted issuer and an agreeing clock', () => {
    expect(statuses(jwtChecks(observed(), context({ target: JWT_TARGET })))).toEqual({
      'jwt.role': 'pass',
      'jwt.audience': 'pass',
      'jwt.claims': 'pass',
      'jwt.issuer': 'pass',
      'vault.clock': 'pass',
    });
  });

  it('name the claim a login would be refused for', () => {
    const role = ok({
      roleType: 'jwt',
      boundAudiences: ['elsewhere'],
      boundSubject: 'arn:aws:iam::123456789012:role/renew',
      boundClaims: { [TARGET_CLAIM]: ['other-target'] },
    });
    const checks = jwtChecks(observed({ role }), context({ target: JWT_TARGET }));
    expect(statuses(checks)).toMatchObject({ 'jwt.audience': 'fail', 'jwt.claims': 'fail' });
    expect(checks.find((c) => c.id === 'jwt.claims')?.actual).toContain(
      `the role wants ${TARGET_CLAIM} = other-target`,
    );
  });

  it('fail for a missing role or mount, an issuer that does not answer, and warn for a skewed clock', () => {
    const missing = jwtChecks(observed({ role: ok(null) }), context({ target: JWT_TARGET }));
    expect(statuses(missing)['jwt.role']).toBe('fail');
    const noMount = jwtChecks(
      observed({
        role: failed(
          VaultFailureKind.BadRequest,
          'GET auth/jwt/role/x answered 404: no handler for route "auth/jwt/role/x"',
        ),
      }),
      context({ target: JWT_TARGET }),
    );
    expect(noMount.find((c) => c.id === 'jwt.role')).toMatchObject({
      status: 'fail',
      actual: expect.stringMatching(/auth\/jwt is not mounted/),
    });
    const silent = jwtChecks(
      observed({ discovery: failed(VaultFailureKind.Unavailable, 'connect ECONNREFUSED') }),
      context({ target: JWT_TARGET }),
    );
    expect(statuses(silent)['jwt.issuer']).toBe('fail');
    const skewed = jwtChecks(observed({}, NOW_MS / 1000 + 300), context({ target: JWT_TARGET }));
    expect(skewed.find((c) => c.id === 'vault.clock')).toMatchObject({
      status: 'warn',
      actual: '+300 s',
    });
  });

  it('are none for an AppRole target', () => {
    expect(jwtChecks(healthy(), context())).toEqual([]);
  });
});
