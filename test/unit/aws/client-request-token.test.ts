import { describe, expect, it } from 'vitest';
import { deterministicRequestToken } from '../../../functions/aws/client-request-token.js';

const UUID_V8 = /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('deterministicRequestToken', () => {
  it('gives the same token for the same parts, so a retried write is ignored by Secrets Manager', () => {
    const first = deterministicRequestToken('vault/billing-api/token', 'accessor-123');
    const second = deterministicRequestToken('vault/billing-api/token', 'accessor-123');

    expect(second).toBe(first);
  });

  it('is a 36-character UUID (version 8, RFC variant), inside the 32-64 limit of ClientRequestToken', () => {
    const token = deterministicRequestToken('vault/billing-api/token', 'accessor-123');

    expect(token).toHaveLength(36);
    expect(token).toMatch(UUID_V8);
  });

  it('has not changed across releases (a changed derivation would create a second version on retry)', () => {
    // Pinned from an independent computation (Python hashlib) of the same construction.
    expect(deterministicRequestToken('vault/billing-api/token', 'accessor-123')).toBe(
      '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
    );
  });

  it.each([
    [
      ['secret-a', 'accessor-1'],
      ['secret-b', 'accessor-1'],
    ],
    [
      ['secret-a', 'accessor-1'],
      ['secret-a', 'accessor-2'],
    ],
    [
      ['secret-a', 'accessor-1'],
      ['accessor-1', 'secret-a'],
    ],
    [
      ['ab', 'c'],
      ['a', 'bc'],
    ],
    [['a\u00001:b'], ['a', 'b']],
    [['a'], ['a', '']],
    [[''], ['', '']],
  ])('differs when any part differs: %j vs %j', (left, right) => {
    expect(deterministicRequestToken(...left)).not.toBe(deterministicRequestToken(...right));
  });

  it('refuses to derive a token from nothing, which would be shared by every write', () => {
    expect(() => deterministicRequestToken()).toThrow(TypeError);
  });
});
