import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RequestPacer } from '../../../functions/core/request-pacer.js';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { createVaultClient, type VaultClient } from '../../../functions/vault/client.js';
import {
  VaultError,
  VaultHttpError,
  VaultNetworkError,
  VaultTimeoutError,
} from '../../../functions/vault/errors.js';
import {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
} from '../../../functions/vault/retry-timing.js';
import type { VaultClientOptions } from '../../../functions/vault/transport.js';
import {
  type Reply,
  type ScriptedVault,
  startScriptedVault,
  vaultErrors,
  vaultOk,
} from './scripted-vault.js';

const TOKEN = 'hvs.retry-test-token';
const AUTH = {
  client_token: TOKEN,
  accessor: 'a',
  policies: [],
  lease_duration: 60,
  renewable: true,
};
/** A whole second, so HTTP dates (second precision) round-trip exactly. */
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0);

let vault: ScriptedVault;
const clients: VaultClient[] = [];

beforeAll(async () => {
  vault = await startScriptedVault(() => vaultErrors(500, 'no script'));
});
afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  vault.requests.length = 0;
});
afterAll(async () => {
  await vault.close();
});

/** A client whose waits are recorded and skipped, with jitter pinned to half the cap. */
function recordingClient(overrides: Partial<VaultClientOptions> = {}) {
  const waits: number[] = [];
  const client = createVaultClient({
    retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000 },
    random: () => 0.5,
    now: () => NOW_MS,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  clients.push(client);
  return { client, waits };
}

function endpoint() {
  return { address: vault.address };
}

/** Answers the scripted replies in order, then repeats the last one. */
function inOrder(...replies: Reply[]) {
  vault.answer((_request, index) => replies[Math.min(index, replies.length - 1)] ?? 'destroy');
}

async function failureOf(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('retries what can succeed on retry', () => {
  it('retries a sealed Vault (503) with full-jitter backoff until it answers', async () => {
    // Prepare
    const { client, waits } = recordingClient();
    inOrder(
      vaultErrors(503, 'Vault is sealed'),
      vaultErrors(503, 'Vault is sealed'),
      vaultOk({ auth: AUTH }),
    );
    // Act
    const renewal = await client.renewSelf(endpoint(), TOKEN, 60);
    // Assess
    expect(renewal.ttlSeconds).toBe(60);
    expect(vault.requests).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
  });

  it.each([500, 502, 504])('retries a %i', async (status) => {
    const { client } = recordingClient();
    inOrder(vaultErrors(status, 'boom'), vaultOk({ auth: AUTH }));

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(vault.requests).toHaveLength(2);
  });

  it('retries 412 (index state not yet replicated)', async () => {
    const { client } = recordingClient();
    inOrder(vaultErrors(412, 'required index state not present'), vaultOk({ auth: AUTH }));

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(vault.requests).toHaveLength(2);
  });

  it('waits Retry-After seconds on 429', async () => {
    const { client, waits } = recordingClient();
    inOrder(
      {
        status: 429,
        headers: { 'retry-after': '2' },
        json: { errors: ['rate limit quota exceeded'] },
      },
      vaultOk({ auth: AUTH }),
    );

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(waits).toEqual([2_000]);
    expect(vault.requests).toHaveLength(2);
  });

  it('waits until a Retry-After HTTP date', async () => {
    const { client, waits } = recordingClient();
    const at = new Date(NOW_MS + 3_000).toUTCString();
    inOrder(
      { status: 503, headers: { 'retry-after': at }, json: { errors: ['Vault is sealed'] } },
      vaultOk({ auth: AUTH }),
    );

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(waits).toEqual([3_000]);
  });

  it('gives up at once, with the answer’s kind, when Retry-After is longer than it will wait', async () => {
    const { client, waits } = recordingClient({
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1_000, maxRetryAfterMs: 5_000 },
    });
    inOrder({
      status: 429,
      headers: { 'retry-after': '3600' },
      json: { errors: ['rate limit quota exceeded'] },
    });

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error.kind).toBe(VaultFailureKind.RateLimited);
    expect(waits).toEqual([]);
    expect(vault.requests).toHaveLength(1);
  });

  it('retries a dropped connection', async () => {
    const { client } = recordingClient();
    inOrder('destroy', vaultOk({ auth: AUTH }));

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(vault.requests).toHaveLength(2);
  });

  it('stops after maxAttempts and throws the last answer', async () => {
    const { client, waits } = recordingClient();
    inOrder(vaultErrors(503, 'Vault is sealed'));

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error).toBeInstanceOf(VaultHttpError);
    expect(error.kind).toBe(VaultFailureKind.Sealed);
    expect(error.attempts).toBe(3);
    expect(vault.requests).toHaveLength(3);
    expect(waits).toHaveLength(2);
  });
});

describe('never retries what cannot succeed', () => {
  it.each([
    [400, 'lease is not renewable', VaultFailureKind.NotRenewable],
    [400, 'batch tokens cannot be renewed', VaultFailureKind.BatchToken],
    [403, 'permission denied', VaultFailureKind.PermissionDenied],
    [404, 'unsupported path', VaultFailureKind.BadRequest],
  ])('does not retry %i %s', async (status, text, kind) => {
    const { client, waits } = recordingClient();
    inOrder(vaultErrors(status, text));

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error.kind).toBe(kind);
    expect(vault.requests).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it.each([
    [400, 'invalid role or secret ID'],
    [403, 'permission denied'],
    [429, 'rate limit quota exceeded'],
    [412, 'required index state not present'],
  ])(
    'never retries an AppRole login refused with %i (it counts toward lockout)',
    async (status, text) => {
      const { client } = recordingClient();
      inOrder(vaultErrors(status, text));

      await failureOf(client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }));

      expect(vault.requests).toHaveLength(1);
    },
  );

  it.each([
    [500, 'internal error'],
    [502, 'bad gateway'],
  ])(
    'never retries an AppRole login answered %i: Vault may have spent the secret_id use',
    async (status, text) => {
      const { client } = recordingClient();
      inOrder(vaultErrors(status, text), vaultOk({ auth: AUTH }));

      await failureOf(client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }));

      expect(vault.requests).toHaveLength(1);
    },
  );

  it('never retries an AppRole login whose connection dropped after Vault received it', async () => {
    const { client } = recordingClient();
    inOrder('destroy', vaultOk({ auth: AUTH }));

    const error = await failureOf(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }),
    );

    expect(error).toBeInstanceOf(VaultNetworkError);
    expect(vault.requests).toHaveLength(1);
  });

  it('never re-reads a dynamic-secrets path whose connection dropped (it would create a second user)', async () => {
    const { client } = recordingClient();
    inOrder('destroy', vaultOk({ lease_id: 'database/creds/app/x', lease_duration: 60, data: {} }));

    await failureOf(client.issueLease(endpoint(), TOKEN, 'database/creds/app'));

    expect(vault.requests).toHaveLength(1);
  });

  it('retries a renewal whose connection dropped (renewing twice is harmless)', async () => {
    const { client } = recordingClient();
    inOrder('destroy', vaultOk({ auth: AUTH }));

    await client.renewSelf(endpoint(), TOKEN, 60);

    expect(vault.requests).toHaveLength(2);
  });

  it('retries an AppRole login on a sealed Vault', async () => {
    const { client } = recordingClient();
    inOrder(vaultErrors(503, 'Vault is sealed'), vaultOk({ auth: AUTH }));

    await client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' });

    expect(vault.requests).toHaveLength(2);
  });
});

describe('deadlines', () => {
  it('gives up at the deadline with VaultTimeoutError while Vault stays sealed', async () => {
    // Real sleeps: the signal must cut the backoff short.
    const client = createVaultClient({
      retry: { maxAttempts: 50, baseDelayMs: 100, maxDelayMs: 100 },
      random: () => 1,
    });
    clients.push(client);
    inOrder(vaultErrors(503, 'Vault is sealed'));
    const started = Date.now();

    const error = await failureOf(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.timeout(350) }),
    );

    expect(error).toBeInstanceOf(VaultTimeoutError);
    expect(error.kind).toBe(VaultFailureKind.Timeout);
    expect((error as VaultTimeoutError).lastFailure?.kind).toBe(VaultFailureKind.Sealed);
    expect(error.message).toContain(
      'last attempt: Vault POST auth/token/renew-self failed with 503',
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(vault.requests.length).toBeGreaterThanOrEqual(2);
    expect(vault.requests.length).toBeLessThanOrEqual(5);
  });

  it('does not wait a Retry-After that outlasts the deadline', async () => {
    const client = createVaultClient({ retry: { maxAttempts: 3 } });
    clients.push(client);
    inOrder({
      status: 429,
      headers: { 'retry-after': '20' },
      json: { errors: ['rate limit quota exceeded'] },
    });
    const started = Date.now();

    const error = await failureOf(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.timeout(200) }),
    );

    expect(error.kind).toBe(VaultFailureKind.Timeout);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(vault.requests).toHaveLength(1);
  });

  it('times out a Vault that never answers, without retrying past the signal', async () => {
    const { client } = recordingClient();
    inOrder('hang');

    const error = await failureOf(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.timeout(200) }),
    );

    expect(error).toBeInstanceOf(VaultTimeoutError);
    expect(error.kind).toBe(VaultFailureKind.Timeout);
    expect(error.message).toBe(
      'Vault POST auth/token/renew-self failed: deadline passed before Vault answered',
    );
    expect(vault.requests).toHaveLength(1);
  });

  it('sends nothing when the deadline has already passed', async () => {
    const { client } = recordingClient();
    inOrder(vaultOk({ auth: AUTH }));

    const error = await failureOf(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.abort() }),
    );

    expect(error.kind).toBe(VaultFailureKind.Timeout);
    expect(vault.requests).toHaveLength(0);
  });

  it('puts a default deadline on calls made without a signal', async () => {
    const { client } = recordingClient({ defaultTimeoutMs: 200 });
    inOrder('hang');

    const error = await failureOf(client.lookupSelf(endpoint(), TOKEN));

    expect(error.kind).toBe(VaultFailureKind.Timeout);
  });

  it('classifies a refused connection that runs out of attempts as unavailable', async () => {
    const { client } = recordingClient();

    const error = await failureOf(client.health({ address: 'http://127.0.0.1:1' }));

    expect(error).toBeInstanceOf(VaultNetworkError);
    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.attempts).toBe(3);
  });
});

describe('retry timing', () => {
  it.each([
    [1, 0.999, 99],
    [2, 0.999, 199],
    [4, 0.999, 799],
    [5, 0.999, 1_000 - 1],
    [9, 0.5, 500],
    [3, 0, 0],
  ])('backs off with full jitter: attempt %i, random %d → %i ms', (attempt, random, expected) => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 100, maxDelayMs: 1_000 };

    expect(backoffDelayMs(attempt, policy, () => random)).toBe(expected);
  });

  it.each([
    ['120', 120_000],
    [' 0 ', 0],
    [new Date(NOW_MS + 5_000).toUTCString(), 5_000],
    [new Date(NOW_MS - 5_000).toUTCString(), 0],
    ['soon', undefined],
    [undefined, undefined],
  ])('reads Retry-After %j as %j ms', (value, expected) => {
    expect(parseRetryAfterMs(value, NOW_MS)).toBe(expected);
  });

  it('refuses a retry policy with nonsense values, naming each', () => {
    expect(() => createVaultClient({ retry: { maxAttempts: 0, baseDelayMs: -1 } })).toThrow(
      'retry.maxAttempts must be an integer >= 1; retry.baseDelayMs must be a number >= 0',
    );
  });
});

describe('paces itself by the cluster request budget', () => {
  it('tells the pacer of a 429 with its Retry-After, and asks it for a slot before every attempt', async () => {
    // Prepare: a pacer that records what the client tells it
    const seen: string[] = [];
    const pacer: RequestPacer = {
      acquire: (cluster) => {
        seen.push(`acquire ${cluster}`);
        return undefined;
      },
      throttled: (cluster, retryAfterMs) => {
        seen.push(`throttled ${cluster} ${retryAfterMs}`);
      },
      figures: () => ({ throttled: 0, delayed: 0 }),
    };
    const { client } = recordingClient({ pacer });
    inOrder(
      {
        status: 429,
        headers: { 'retry-after': '2' },
        json: { errors: ['rate limit quota exceeded'] },
      },
      vaultOk({ auth: AUTH }),
    );

    // Act
    await client.renewSelf(endpoint(), TOKEN, 60);

    // Assess
    expect(seen).toEqual([
      `acquire ${vault.address}`,
      `throttled ${vault.address} 2000`,
      `acquire ${vault.address}`,
    ]);
  });

  it('tells the pacer of a 429 it does not retry (a login), with no Retry-After', async () => {
    const throttled: (number | undefined)[] = [];
    const pacer: RequestPacer = {
      acquire: () => undefined,
      throttled: (_cluster, retryAfterMs) => {
        throttled.push(retryAfterMs);
      },
      figures: () => ({ throttled: 0, delayed: 0 }),
    };
    const { client } = recordingClient({ pacer });
    inOrder(vaultErrors(429, 'rate limit quota exceeded'));

    const failure = await failureOf(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }),
    );

    expect(failure.kind).toBe(VaultFailureKind.RateLimited);
    expect(throttled).toEqual([undefined]);
    expect(vault.requests).toHaveLength(1);
  });

  it('ends a call waiting for its slot at the deadline as a timeout, without sending it', async () => {
    const pacer: RequestPacer = {
      acquire: (_cluster, signal) =>
        new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      throttled: () => {},
      figures: () => ({ throttled: 0, delayed: 0 }),
    };
    const { client } = recordingClient({ pacer });

    const failure = await failureOf(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.timeout(50) }),
    );

    expect(failure).toBeInstanceOf(VaultTimeoutError);
    expect(vault.requests).toHaveLength(0);
  });
});
