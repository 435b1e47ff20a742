import { describe, expect, it } from 'vitest';
import {
  deriveMaxTtl,
  type MaxTtlInputs,
  MaxTtlSource,
  SYSTEM_MAX_TTL_SECONDS,
  vaultDuration,
} from '../../../functions/diagnosis/max-ttl.js';
import { at, roleSettings, tokenInfo } from './observations-builder.js';

const HOUR = 3600;
const ISSUED = -HOUR; // tokenInfo() was issued an hour before NOW
const mountOf = (hours: number) => ({
  defaultLeaseTtlSeconds: hours * HOUR,
  maxLeaseTtlSeconds: hours * HOUR,
});

function inputs(overrides: Partial<MaxTtlInputs> = {}): MaxTtlInputs {
  return {
    token: tokenInfo(),
    role: roleSettings({ tokenMaxTtlSeconds: 24 * HOUR }),
    rolePath: 'auth/approle/role/billing-api',
    mount: mountOf(768),
    mountPath: 'sys/mounts/auth/approle/tune',
    ...overrides,
  };
}

describe('vaultDuration', () => {
  it.each([
    [768 * HOUR, '768h'],
    [90 * 60, '90m'],
    [150, '150s'],
    [0, '0s'],
  ])('writes %i seconds as %s', (seconds, text) => {
    expect(vaultDuration(seconds)).toBe(text);
  });
});

describe('deriveMaxTtl', () => {
  it.each<[string, Partial<MaxTtlInputs>, MaxTtlSource, number, boolean]>([
    [
      'the role token_max_ttl when it is the lowest cap',
      {},
      MaxTtlSource.RoleTokenMaxTtl,
      24 * HOUR,
      false,
    ],
    [
      'the explicit max TTL when it is lower than the role',
      { token: tokenInfo({ explicitMaxTtlSeconds: 2 * HOUR }) },
      MaxTtlSource.ExplicitMaxTtl,
      2 * HOUR,
      false,
    ],
    [
      'the mount max when it is lower than the role',
      { mount: mountOf(12) },
      MaxTtlSource.MountMaxLeaseTtl,
      12 * HOUR,
      false,
    ],
    [
      'the mount max when the role sets no token_max_ttl',
      { role: roleSettings({ tokenMaxTtlSeconds: 0 }) },
      MaxTtlSource.MountMaxLeaseTtl,
      768 * HOUR,
      false,
    ],
    [
      'the mount max of a token-store token (no role applies)',
      { role: 'not-applicable', mount: mountOf(48) },
      MaxTtlSource.MountMaxLeaseTtl,
      48 * HOUR,
      false,
    ],
    [
      'the 768h system default, assumed, when nothing is readable',
      { role: 'unreadable', mount: 'unreadable' },
      MaxTtlSource.SystemDefault,
      SYSTEM_MAX_TTL_SECONDS,
      true,
    ],
    [
      'an assumption when the role is unreadable, even with a readable mount',
      { role: 'unreadable', mount: mountOf(24) },
      MaxTtlSource.MountMaxLeaseTtl,
      24 * HOUR,
      true,
    ],
    [
      'an assumption when only the tuning is unreadable and the default wins',
      { role: roleSettings({ tokenMaxTtlSeconds: 0 }), mount: 'unreadable' },
      MaxTtlSource.SystemDefault,
      SYSTEM_MAX_TTL_SECONDS,
      true,
    ],
    [
      'no assumption when the readable role caps below the assumed default',
      { mount: 'unreadable' },
      MaxTtlSource.RoleTokenMaxTtl,
      24 * HOUR,
      false,
    ],
  ])('takes %s', (_case, overrides, source, maxTtlSeconds, assumed) => {
    const derivation = deriveMaxTtl(inputs(overrides));

    expect(derivation).toMatchObject({ source, maxTtlSeconds, assumed });
    // Vault anchors the max at the original issue time (vault-facts §3.1).
    expect(derivation.deadline).toBe(at(ISSUED + maxTtlSeconds));
  });

  it('names what it could not read when it assumes', () => {
    const derivation = deriveMaxTtl(inputs({ role: 'unreadable', mount: 'unreadable' }));

    expect(derivation.basis).toBe(
      "the 768h system default, assumed: auth/approle/role/billing-api and sys/mounts/auth/approle/tune not readable with the stored token, and the role's token_max_ttl may be shorter",
    );
  });

  it('says where an exact value comes from', () => {
    expect(deriveMaxTtl(inputs()).basis).toBe('token_max_ttl 24h of auth/approle/role/billing-api');
  });

  it('gives a periodic token no max TTL, whatever the role and mount say', () => {
    const derivation = deriveMaxTtl(
      inputs({
        token: tokenInfo({ periodSeconds: HOUR }),
        role: 'unreadable',
        mount: 'unreadable',
      }),
    );

    expect(derivation).toEqual({
      source: MaxTtlSource.Periodic,
      assumed: false,
      basis:
        'periodic token (period 1h): no max TTL, it lives as long as it is renewed within each period',
    });
  });

  it('caps a periodic token at its explicit max TTL', () => {
    const derivation = deriveMaxTtl(
      inputs({ token: tokenInfo({ periodSeconds: HOUR, explicitMaxTtlSeconds: 10 * HOUR }) }),
    );

    expect(derivation).toMatchObject({
      source: MaxTtlSource.ExplicitMaxTtl,
      maxTtlSeconds: 10 * HOUR,
      deadline: at(ISSUED + 10 * HOUR),
      assumed: false,
    });
  });

  it('reports no max for a token that never expires (root)', () => {
    const derivation = deriveMaxTtl(
      inputs({ token: tokenInfo({ ttlSeconds: 0, expireTime: null, policies: ['root'] }) }),
    );

    expect(derivation.source).toBe(MaxTtlSource.NeverExpires);
    expect(derivation.deadline).toBeUndefined();
  });

  it('anchors at creation_time when lookup-self gives no issue_time', () => {
    const token = tokenInfo();
    const { issueTime: _issueTime, ...withoutIssueTime } = token;

    expect(deriveMaxTtl(inputs({ token: withoutIssueTime })).deadline).toBe(at(ISSUED + 24 * HOUR));
  });
});
