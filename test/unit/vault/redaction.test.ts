import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVaultClient, type VaultClient } from '../../../functions/vault/client.js';
import { VaultError } from '../../../functions/vault/errors.js';
import { type Script, type ScriptedVault, startScriptedVault } from './scripted-vault.js';

/** Values planted in requests and answers; none may reach an error. */
const TOKEN = 'hvs.PLANTED-token-7f3a9c2e41';
const SECRET_ID = 'PLANTED-secret-id-5b8d0e6a72';
const PASSWORD = 'PLANTED-password-c41f9e83d0';
const PLANTED = [TOKEN, SECRET_ID, PASSWORD];

/**
 * An answer that plants every value in every place a careless client might copy
 * from: `errors[]` echoes whatever secret the request sent (Vault does not, but
 * whatever answers at the address might), `data.password` and `auth.client_token`
 * sit where Vault puts them, and the headers repeat them.
 */
function leakyAnswer(status: number): Script {
  return (request) => {
    const sent = [request.headers['x-vault-token'], secretIdIn(request.body)].filter(
      (value): value is string => typeof value === 'string',
    );
    return {
      status,
      headers: { 'x-echo-token': TOKEN, 'x-echo-secret-id': SECRET_ID },
      json: {
        errors: sent.map((value) => `permission denied for ${value}`),
        request_id: 'req-leaky',
        data: { password: PASSWORD, username: 'v-app' },
        auth: { client_token: TOKEN, accessor: 'acc' },
        lease_duration: 'not-a-number',
      },
    };
  };
}

function secretIdIn(body: string): unknown {
  try {
    return (JSON.parse(body) as { secret_id?: unknown }).secret_id;
  } catch {
    return undefined;
  }
}

let vault: ScriptedVault;
let client: VaultClient;

beforeAll(async () => {
  vault = await startScriptedVault(leakyAnswer(500));
  client = createVaultClient({
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
  });
});
afterAll(async () => {
  await client.close();
  await vault.close();
});

async function caught(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Every rendering of the error a log line, an SNS message or a debugger could show. */
function renderings(error: VaultError): string[] {
  const shown = [
    error.message,
    String(error),
    JSON.stringify(error),
    inspect(error, { depth: 10 }),
    error.stack ?? '',
  ];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current instanceof Error && !seen.has(current)) {
    seen.add(current);
    shown.push(current.message, String(current), inspect(current, { depth: 10 }));
    const last = (current as { lastFailure?: unknown }).lastFailure;
    if (last instanceof Error) shown.push(last.message, inspect(last, { depth: 10 }));
    current = current.cause;
  }
  return shown;
}

function expectNoPlantedValue(error: VaultError): void {
  for (const text of renderings(error)) {
    for (const secret of PLANTED) expect(text).not.toContain(secret);
  }
}

const endpoint = () => ({ address: vault.address, namespace: 'team-a' });

describe('errors never hold a token, a secret_id or response data', () => {
  it.each([403, 400, 500, 503])('renew-self answered %i', async (status) => {
    vault.answer(leakyAnswer(status));

    const error = await caught(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error.status).toBe(status);
    expect(error.vaultErrors.join(' ')).toContain('[redacted]');
    expectNoPlantedValue(error);
  });

  it('AppRole login refused', async () => {
    vault.answer(leakyAnswer(400));

    const error = await caught(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'role-1', secretId: SECRET_ID }),
    );

    expectNoPlantedValue(error);
  });

  it('a 200 whose shape is wrong, carrying data and a client token', async () => {
    vault.answer(leakyAnswer(200));

    const issue = await caught(client.issueLease(endpoint(), TOKEN, 'database/creds/app'));
    const login = await caught(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'role-1', secretId: SECRET_ID }),
    );
    const renew = await caught(client.renewLease(endpoint(), TOKEN, 'database/creds/app/x', 60));

    for (const error of [issue, login, renew]) expectNoPlantedValue(error);
  });

  it('a lease read that fails with data in the body', async () => {
    vault.answer(leakyAnswer(502));

    const error = await caught(client.issueLease(endpoint(), TOKEN, 'database/creds/app'));

    expectNoPlantedValue(error);
  });

  it('a refused connection', async () => {
    const error = await caught(client.renewSelf({ address: 'http://127.0.0.1:1' }, TOKEN, 60));

    expect(error.message).toContain('ECONNREFUSED');
    expectNoPlantedValue(error);
  });

  it('a deadline that passes while Vault says nothing', async () => {
    vault.answer(() => 'hang');

    const error = await caught(
      client.renewSelf(endpoint(), TOKEN, 60, { signal: AbortSignal.timeout(150) }),
    );

    expectNoPlantedValue(error);
  });

  it('a deadline that passes between retries, with the last answer attached', async () => {
    vault.answer(leakyAnswer(503));
    const slow = createVaultClient({
      retry: { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 1_000 },
      random: () => 1,
    });

    const error = await caught(
      slow.lookupSelf(endpoint(), TOKEN, { signal: AbortSignal.timeout(200) }),
    );
    await slow.close();

    expect(error.kind).toBe('timeout');
    expectNoPlantedValue(error);
  });

  it('serialises to the redacted fields only', async () => {
    vault.answer(leakyAnswer(403));

    const error = await caught(client.renewSelf(endpoint(), TOKEN, 60));

    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'VaultHttpError',
      message:
        'Vault POST auth/token/renew-self failed with 403: permission denied for [redacted] [permission-denied] (request req-leaky)',
      kind: 'permission-denied',
      method: 'POST',
      path: 'auth/token/renew-self',
      status: 403,
      vaultErrors: ['permission denied for [redacted]'],
      requestId: 'req-leaky',
      attempts: 1,
    });
  });
});
