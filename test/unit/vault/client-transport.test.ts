import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { createVaultClient } from '../../../functions/vault/client.js';
import { describeNetworkCause, VaultNetworkError } from '../../../functions/vault/errors.js';
import {
  type ScriptedVault,
  selfSignedCertificate,
  startScriptedVault,
  type TlsMaterial,
  vaultOk,
} from './scripted-vault.js';

const TOKEN = 'hvs.transport-test-token';
const AUTH = {
  client_token: TOKEN,
  accessor: 'a',
  policies: [],
  lease_duration: 60,
  renewable: true,
};
const HEALTH = { initialized: true, sealed: false, standby: false, version: '2.2.0' };

async function networkFailureOf(promise: Promise<unknown>): Promise<VaultNetworkError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultNetworkError) return error;
    throw error;
  }
  throw new Error('expected a network failure');
}

/** A loopback port that was just free and is now closed: connecting to it is refused. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('connection reuse', () => {
  let vault: ScriptedVault;
  beforeAll(async () => {
    vault = await startScriptedVault((request) =>
      request.url.startsWith('/v1/sys/health')
        ? { status: 200, json: HEALTH }
        : vaultOk({ auth: AUTH }),
    );
  });
  afterAll(async () => {
    await vault.close();
  });

  it('makes several calls over one keep-alive TCP connection', async () => {
    // Prepare
    const client = createVaultClient();
    const target = { address: vault.address };
    // Act
    await client.health(target);
    await client.renewSelf(target, TOKEN, 60);
    await client.renewSelf(target, TOKEN, 60);
    await client.health(target);
    await client.close();
    // Assess
    expect(vault.requests).toHaveLength(4);
    expect(vault.connections()).toBe(1);
  });
});

describe('reading answers', () => {
  let vault: ScriptedVault;
  // '€' is three bytes in UTF-8: 300,000 of them arrive in many chunks, and
  // chunk boundaries split characters.
  const version = '€'.repeat(300_000);
  beforeAll(async () => {
    vault = await startScriptedVault(() => ({ status: 200, json: { ...HEALTH, version } }));
  });
  afterAll(async () => {
    await vault.close();
  });

  it('reads an answer that arrives in many chunks, characters intact', async () => {
    const client = createVaultClient();

    const health = await client.health({ address: vault.address });
    await client.close();

    expect(health.version).toBe(version);
  });
});

describe('one signal over many calls', () => {
  let vault: ScriptedVault;
  beforeAll(async () => {
    vault = await startScriptedVault((request) =>
      request.url.startsWith('/v1/sys/health') ? { status: 200, json: HEALTH } : 'hang',
    );
  });
  afterAll(async () => {
    await vault.close();
  });

  it('aborts every call in flight under it, and no call under another signal', async () => {
    const client = createVaultClient({ retry: { maxAttempts: 1 } });
    const target = { address: vault.address };
    const run = new AbortController();

    const other = new AbortController();
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: unknown) => (error as VaultNetworkError).kind,
      );
    const hanging = [1, 2, 3].map((n) =>
      outcome(client.renewSelf(target, TOKEN, n, { signal: run.signal })),
    );
    const bystander = outcome(client.renewSelf(target, TOKEN, 4, { signal: other.signal }));
    while (vault.requests.length < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    run.abort();
    const outcomes = await Promise.all(hanging);
    const bystanderThen = await Promise.race([
      bystander,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 100)),
    ]);
    other.abort();
    const afterwards = await client.health(target, { signal: AbortSignal.timeout(5_000) });
    await client.close();

    expect(outcomes).toEqual(Array(3).fill(VaultFailureKind.Timeout));
    expect(bystanderThen).toBe('still waiting');
    expect(await bystander).toBe(VaultFailureKind.Timeout);
    expect(afterwards.status).toBe(200);
  });
});

describe('calls that end in any order under one signal', () => {
  let vault: ScriptedVault;
  beforeAll(async () => {
    // Even increments are answered, odd ones hang: calls end out of order.
    vault = await startScriptedVault((request) => {
      const { increment } = JSON.parse(request.body || '{}') as { increment?: number };
      return increment !== undefined && increment % 2 === 0
        ? { status: 200, json: { auth: { lease_duration: increment, renewable: true } } }
        : 'hang';
    });
  });
  afterAll(async () => {
    await vault.close();
  });

  it('aborts exactly the calls still in flight', async () => {
    const client = createVaultClient({ retry: { maxAttempts: 1 } });
    const target = { address: vault.address };
    const run = new AbortController();
    const outcome = (promise: Promise<unknown>) =>
      promise.then(
        () => 'answered',
        (error: unknown) => (error as VaultNetworkError).kind,
      );

    const calls = [1, 2, 3, 4, 5, 6, 7].map((n) =>
      outcome(client.renewSelf(target, TOKEN, n, { signal: run.signal })),
    );
    const answered = await Promise.all([calls[1], calls[3], calls[5]]);
    run.abort();
    const outcomes = await Promise.all(calls);
    await client.close();

    expect(answered).toEqual(['answered', 'answered', 'answered']);
    expect(outcomes).toEqual([
      VaultFailureKind.Timeout,
      'answered',
      VaultFailureKind.Timeout,
      'answered',
      VaultFailureKind.Timeout,
      'answered',
      VaultFailureKind.Timeout,
    ]);
  });
});

describe('TLS with a custom CA', () => {
  let tls: TlsMaterial;
  let vault: ScriptedVault;
  beforeAll(async () => {
    tls = selfSignedCertificate();
    vault = await startScriptedVault(() => ({ status: 200, json: HEALTH }), { tls });
  });
  afterAll(async () => {
    await vault.close();
  });

  it('trusts the configured CA and reuses the TLS connection', async () => {
    const client = createVaultClient({ caCertPem: tls.certPem });

    const first = await client.health({ address: vault.address });
    const second = await client.health({ address: vault.address });
    await client.close();

    expect(vault.address.startsWith('https://')).toBe(true);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(vault.connections()).toBe(1);
  });

  it('refuses the certificate without the CA, says why, and does not retry', async () => {
    const client = createVaultClient({ retry: { maxAttempts: 3 } });
    const before = vault.connections();

    const error = await networkFailureOf(client.health({ address: vault.address }));
    await client.close();

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.message).toContain('DEPTH_ZERO_SELF_SIGNED_CERT');
    expect(error.attempts).toBe(1);
    expect(vault.connections()).toBe(before);
  });
});

describe('network errors', () => {
  it('lifts the refused connection’s code into the message', async () => {
    const port = await closedPort();
    const client = createVaultClient({ retry: { maxAttempts: 1 } });

    const error = await networkFailureOf(
      client.renewSelf({ address: `http://127.0.0.1:${port}` }, TOKEN, 60),
    );
    await client.close();

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.message).toBe(
      `Vault POST auth/token/renew-self failed: network error: connect ECONNREFUSED 127.0.0.1:${port}`,
    );
    expect(error.cause).toBeInstanceOf(Error);
    expect((error.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('finds the reason undici hides in error.cause (fetch failed)', () => {
    const hidden = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:8200'), {
      code: 'ECONNREFUSED',
    });

    expect(describeNetworkCause(new TypeError('fetch failed', { cause: hidden }))).toBe(
      'connect ECONNREFUSED 10.0.0.5:8200 <- fetch failed',
    );
  });

  it('finds the code in an AggregateError with an empty message (Happy Eyeballs)', () => {
    const v6 = Object.assign(new Error('connect ECONNREFUSED ::1:8200'), { code: 'ECONNREFUSED' });
    const v4 = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8200'), {
      code: 'ECONNREFUSED',
    });
    const aggregate = Object.assign(new AggregateError([v6, v4], ''), { code: 'ECONNREFUSED' });

    expect(describeNetworkCause(aggregate)).toBe(
      'connect ECONNREFUSED 127.0.0.1:8200 <- connect ECONNREFUSED ::1:8200',
    );
  });

  it('appends a code the messages do not mention', () => {
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

    expect(describeNetworkCause(reset)).toBe('other side closed (UND_ERR_SOCKET)');
  });
});
