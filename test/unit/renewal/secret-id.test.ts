import { describe, expect, it } from 'vitest';
import { judgeSecretId } from '../../../functions/renewal/secret-id-step.js';

const NOW = Date.UTC(2030, 0, 1);
const DAY = 86_400;
const at = (seconds: number) => new Date(NOW + seconds * 1000).toISOString();
const judged = (info: Parameters<typeof judgeSecretId>[0]) =>
  judgeSecretId(info, NOW, 7).problems.map((p) => `${p.severity} ${p.code}`);

describe('judgeSecretId: what the lookup says about the next login', () => {
  it.each([
    ['no expiry, unlimited uses', { expirationTime: null, usesLeft: 0, ttlSeconds: 0 }, []],
    ['expires in 30 days', { expirationTime: at(30 * DAY), usesLeft: 0, ttlSeconds: 0 }, []],
    [
      'expires in 6 days (under secretIdWarnDays 7)',
      { expirationTime: at(6 * DAY), usesLeft: 0, ttlSeconds: 0 },
      ['WARNING secret-id-expiring'],
    ],
    [
      'has 2 logins left',
      { expirationTime: null, usesLeft: 2, ttlSeconds: 0 },
      ['WARNING secret-id-expiring'],
    ],
    ['has 3 logins left', { expirationTime: null, usesLeft: 3, ttlSeconds: 0 }, []],
    [
      'has expired',
      { expirationTime: at(-60), usesLeft: 0, ttlSeconds: 0 },
      ['CRITICAL secret-id-expiring'],
    ],
    ['is unknown to Vault', undefined, ['CRITICAL secret-id-expiring']],
  ] as const)('%s', (_name, info, expected) => {
    expect(judged(info)).toEqual(expected);
  });

  it('reports the seconds left for the SoonestSecretIdExpirySeconds metric', () => {
    expect(
      judgeSecretId({ expirationTime: at(30 * DAY), usesLeft: 0, ttlSeconds: 0 }, NOW, 7)
        .expiresInSeconds,
    ).toBe(30 * DAY);
  });
});
