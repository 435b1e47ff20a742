import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createVaultAdmin, type VaultAdmin } from '../../../functions/vault/admin.js';
import { adminEndpoints } from '../../../functions/vault/admin-endpoints.js';
import { VaultHttpError, VaultUnexpectedResponseError } from '../../../functions/vault/errors.js';
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

describe('the typed admin endpoints (vault:bootstrap, later the rotator)', () => {
  it("reads a secret_id lookup: Vault's zero time is no expiry, 204 is an unknown secret_id", async () => {
    const endpoints = adminEndpoints(admin());
    vault.answer(() =>
      vaultOk({
        data: {
          secret_id_accessor: 'acc-1',
          expiration_time: '0001-01-01T00:00:00Z',
          secret_id_num_uses: 3,
        },
      }),
    );
    expect(await endpoints.lookupSecretId('approle', 'app', SECRET_ID)).toEqual({
      accessor: 'acc-1',
      expirationTime: null,
      usesLeft: 3,
    });
    vault.answer(() => ({ status: 204, text: '' }));
    expect(await endpoints.lookupSecretId('approle', 'app', SECRET_ID)).toBeUndefined();
    expect(vault.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/auth/approle/role/app/secret-id/lookup',
      'POST /v1/auth/approle/role/app/secret-id/lookup',
    ]);
  });

  it('fails a read whose answer has no "data" object, naming the call, never reading it as empty', async () => {
    const endpoints = adminEndpoints(admin());
    vault.answer(() => vaultOk({ warnings: ['a proxy answered'] }));
    await expect(endpoints.ownPolicies()).rejects.toThrow(
      /GET auth\/token\/lookup-self .*no "data" object/,
    );
    await expect(endpoints.roleId('approle', 'app')).rejects.toBeInstanceOf(
      VaultUnexpectedResponseError,
    );
  });

  it('issues a secret_id once, even when Vault answers 500 (it may have made one)', async () => {
    vault.answer(() => vaultErrors(500, 'internal error'));
    await expect(
      adminEndpoints(admin()).issueSecretId('approle', 'app', { target: 'app' }),
    ).rejects.toBeInstanceOf(VaultHttpError);
    expect(vault.requests).toHaveLength(1);
  });

  it('answers undefined for a role or policy that does not exist', async () => {
    const endpoints = adminEndpoints(admin());
    vault.answer(() => vaultErrors(404));
    expect(await endpoints.readAppRole('approle', 'ghost')).toBeUndefined();
    expect(await endpoints.readPolicy('ghost')).toBeUndefined();
  });
});
