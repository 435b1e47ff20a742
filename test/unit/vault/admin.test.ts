import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVaultAdmin, type VaultAdmin } from '../../../functions/vault/admin.js';
import { VaultHttpError } from '../../../functions/vault/errors.js';
import { type ScriptedVault, startScriptedVault, vaultErrors, vaultOk } from './scripted-vault.js';

const ADMIN_TOKEN = 'hvs.admin-planted-token';
const SECRET_ID = 'planted-secret-id-0000';

let vault: ScriptedVault;
const admins: VaultAdmin[] = [];

beforeAll(async () => {
  vault = await startScriptedVault(() => vaultErrors(500, 'no script'));
});
afterEach(async () => {
  await Promise.all(admins.splice(0).map((admin) => admin.close()));
  vault.requests.length = 0;
});
afterAll(async () => {
  await vault.close();
});

function admin(): VaultAdmin {
  const created = createVaultAdmin({ address: vault.address }, ADMIN_TOKEN, {
    retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 },
  });
  admins.push(created);
  return created;
}

describe('the admin verbs of the shared Vault client (used by vault:bootstrap)', () => {
  it('sends LIST as GET ?list=true with the admin token', async () => {
    vault.answer(() => vaultOk({ data: { keys: ['a'] } }));
    const answer = await admin().call('LIST', 'auth/approle/role/app/secret-id');
    expect(answer?.data).toEqual({ keys: ['a'] });
    expect(vault.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /v1/auth/approle/role/app/secret-id?list=true',
    ]);
    expect(vault.requests[0]?.headers['x-vault-token']).toBe(ADMIN_TOKEN);
  });

  it('answers undefined for 204 and, when asked, for a 404 that found nothing', async () => {
    vault.answer(() => ({ status: 204, text: '' }));
    expect(await admin().call('PUT', 'sys/policies/acl/x', { policy: '' })).toBeUndefined();
    vault.answer(() => vaultErrors(404));
    expect(
      await admin().call('GET', 'sys/policies/acl/x', undefined, { missingOk: true }),
    ).toBeUndefined();
  });

  it('fails with the typed error on a 404 with words (a wrong path), even when missing is fine', async () => {
    vault.answer(() => vaultErrors(404, 'no handler for route "nope"'));
    await expect(
      admin().call('GET', 'nope/x', undefined, { missingOk: true }),
    ).rejects.toBeInstanceOf(VaultHttpError);
  });

  it('never sends a call that creates something twice, and keeps what it sent out of errors', async () => {
    vault.answer(() => vaultErrors(500, `internal error near ${SECRET_ID} and ${ADMIN_TOKEN}`));
    const attempt = admin().call(
      'POST',
      'auth/approle/role/app/secret-id/lookup',
      { secret_id: SECRET_ID },
      { spends: true, secrets: [SECRET_ID] },
    );
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VaultHttpError);
    expect(vault.requests).toHaveLength(1);
    expect(JSON.stringify(error)).not.toContain(SECRET_ID);
    expect(String((error as Error).message)).not.toContain(SECRET_ID);
    expect(String((error as Error).message)).not.toContain(ADMIN_TOKEN);
  });

  it('retries an idempotent write on 503, as the renewer does', async () => {
    vault.answer((_request, index) =>
      index === 0 ? vaultErrors(503, 'Vault is sealed') : vaultOk({}),
    );
    await admin().call('PUT', 'sys/policies/acl/x', { policy: 'path "a" {}' });
    expect(vault.requests).toHaveLength(2);
  });
});
