/**
 * The read-only calls the diagnose function adds to the Vault client: the
 * AppRole role, the auth mount's tuning, a secret_id's metadata, and the
 * revoke-self of a login test's own token. Real HTTP against a scripted
 * server; only Vault's answers are faked.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import { createVaultClient, type VaultClient } from '../../../functions/vault/client.js';
import { VaultError } from '../../../functions/vault/errors.js';
import { type ScriptedVault, startScriptedVault, vaultErrors, vaultOk } from './scripted-vault.js';

const TOKEN = 'hvs.inspection-token';
const SECRET_ID = '5c9f0b7e-planted-secret-id';
const DENIED = vaultErrors(403, '1 error occurred:\n\t* permission denied\n\n');

let vault: ScriptedVault;
let client: VaultClient;

beforeAll(async () => {
  vault = await startScriptedVault(() => vaultErrors(500, 'no script'));
  client = createVaultClient({ retry: { maxAttempts: 1 } });
});
afterEach(() => {
  vault.requests.length = 0;
});
afterAll(async () => {
  await client.close();
  await vault.close();
});

const endpoint = () => ({ address: vault.address });

async function failureOf(promise: Promise<unknown>): Promise<VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('readAppRoleRole', () => {
  it('takes the mount in the normal form the config gives it, and refuses another without a request', async () => {
    // The schema is the one place a mount is normalised (no slashes around it).
    await expect(
      client.readAppRoleRole(endpoint(), TOKEN, 'approle/', 'billing-api'),
    ).rejects.toThrow(/empty segment/);
    expect(vault.requests).toEqual([]);
  });

  it('reads auth/<mount>/role/<role> with the token and maps the settings', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          bind_secret_id: true,
          secret_id_num_uses: 2,
          secret_id_ttl: 7200,
          token_explicit_max_ttl: 0,
          token_max_ttl: 14400,
          token_no_default_policy: false,
          token_num_uses: 0,
          token_period: 0,
          token_policies: ['app'],
          token_ttl: 3600,
          token_type: 'default',
        },
      }),
    );

    const settings = await client.readAppRoleRole(endpoint(), TOKEN, 'approle', 'billing-api');

    const [request] = vault.requests;
    expect(request?.method).toBe('GET');
    expect(request?.url).toBe('/v1/auth/approle/role/billing-api');
    expect(request?.headers['x-vault-token']).toBe(TOKEN);
    expect(settings).toEqual({
      tokenTtlSeconds: 3600,
      tokenMaxTtlSeconds: 14400,
      tokenPeriodSeconds: 0,
      tokenExplicitMaxTtlSeconds: 0,
      tokenType: 'default',
      tokenNumUses: 0,
      tokenNoDefaultPolicy: false,
      tokenPolicies: ['app'],
      bindSecretId: true,
      secretIdTtlSeconds: 7200,
      secretIdNumUses: 2,
    });
  });

  it('reads the pre-1.2 names period and policies', async () => {
    vault.answer(() => vaultOk({ data: { period: 600, policies: ['old'], token_ttl: 60 } }));

    const settings = await client.readAppRoleRole(endpoint(), TOKEN, 'approle', 'legacy');

    expect(settings).toMatchObject({ tokenPeriodSeconds: 600, tokenPolicies: ['old'] });
  });

  it('answers undefined when the role does not exist (404 with no errors)', async () => {
    vault.answer(() => ({ status: 404, json: { errors: [] } }));

    expect(await client.readAppRoleRole(endpoint(), TOKEN, 'approle', 'gone')).toBeUndefined();
  });

  it('fails with kind bad-request on a 404 that says why (no such path)', async () => {
    vault.answer(() => vaultErrors(404, 'no handler for route "auth/nomount/role/x"'));

    const error = await failureOf(client.readAppRoleRole(endpoint(), TOKEN, 'nomount', 'x'));

    expect(error.kind).toBe(VaultFailureKind.BadRequest);
  });

  it('fails with kind permission-denied when the token may not read the role', async () => {
    vault.answer(() => DENIED);

    const error = await failureOf(client.readAppRoleRole(endpoint(), TOKEN, 'approle', 'r'));

    expect(error.kind).toBe(VaultFailureKind.PermissionDenied);
  });

  it('refuses a role name that would address another path', async () => {
    await expect(client.readAppRoleRole(endpoint(), TOKEN, 'approle', 'a/../b')).rejects.toThrow(
      /one non-empty path segment/,
    );
    expect(vault.requests).toHaveLength(0);
  });
});

describe('readAuthMountTuning', () => {
  it('reads sys/mounts/auth/<mount>/tune (no sudo needed) from data or the top level', async () => {
    vault.answer(() => ({
      status: 200,
      json: { default_lease_ttl: 3600, max_lease_ttl: 86400, data: null },
    }));

    const tuning = await client.readAuthMountTuning(endpoint(), TOKEN, 'approle');

    expect(vault.requests[0]?.url).toBe('/v1/sys/mounts/auth/approle/tune');
    expect(tuning).toEqual({ defaultLeaseTtlSeconds: 3600, maxLeaseTtlSeconds: 86400 });

    vault.answer(() => vaultOk({ data: { default_lease_ttl: 60, max_lease_ttl: 120 } }));
    expect(await client.readAuthMountTuning(endpoint(), TOKEN, 'approle')).toEqual({
      defaultLeaseTtlSeconds: 60,
      maxLeaseTtlSeconds: 120,
    });
  });

  it('fails as unexpected when the answer has no max_lease_ttl', async () => {
    vault.answer(() => vaultOk({ data: { description: '' } }));

    const error = await failureOf(client.readAuthMountTuning(endpoint(), TOKEN, 'approle'));

    expect(error.message).toContain('"data.max_lease_ttl" is not a number');
  });
});

describe('lookupSecretId', () => {
  it('posts the secret_id and keeps expiry and uses, never the accessor', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          cidr_list: [],
          creation_time: '2026-11-26T18:58:23Z',
          expiration_time: '2026-11-26T20:58:23Z',
          last_updated_time: '2026-11-26T18:58:26Z',
          metadata: {},
          secret_id_accessor: '346afac3-accessor',
          secret_id_num_uses: 1,
          secret_id_ttl: 7200,
          token_bound_cidrs: [],
        },
      }),
    );

    const info = await client.lookupSecretId(endpoint(), TOKEN, 'approle', 'r', SECRET_ID);

    const [request] = vault.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/auth/approle/role/r/secret-id/lookup');
    expect(JSON.parse(request?.body ?? '')).toEqual({ secret_id: SECRET_ID });
    expect(info).toEqual({
      expirationTime: '2026-11-26T20:58:23Z',
      usesLeft: 1,
      ttlSeconds: 7200,
    });
  });

  it('reads the zero time as "never expires"', async () => {
    vault.answer(() =>
      vaultOk({ data: { expiration_time: '0001-01-01T00:00:00Z', secret_id_num_uses: 0 } }),
    );

    const info = await client.lookupSecretId(endpoint(), TOKEN, 'approle', 'r', SECRET_ID);

    expect(info?.expirationTime).toBeNull();
  });

  it('answers undefined for a secret_id Vault does not know (204)', async () => {
    vault.answer(() => ({ status: 204 }));

    expect(
      await client.lookupSecretId(endpoint(), TOKEN, 'approle', 'r', SECRET_ID),
    ).toBeUndefined();
  });

  it('scrubs the secret_id and the token from an error that echoes them', async () => {
    vault.answer(() => vaultErrors(400, `bad secret_id ${SECRET_ID} for token ${TOKEN}`));

    const error = await failureOf(
      client.lookupSecretId(endpoint(), TOKEN, 'approle', 'r', SECRET_ID),
    );

    const shown = `${error.message} ${JSON.stringify(error)}`;
    expect(shown).not.toContain(SECRET_ID);
    expect(shown).not.toContain(TOKEN);
    expect(shown).toContain('[redacted]');
  });
});

describe('revokeSelf', () => {
  it('posts auth/token/revoke-self with the token and accepts 204', async () => {
    vault.answer(() => ({ status: 204 }));

    await client.revokeSelf(endpoint(), TOKEN);

    expect(vault.requests[0]).toMatchObject({
      method: 'POST',
      url: '/v1/auth/token/revoke-self',
    });
    expect(vault.requests[0]?.headers['x-vault-token']).toBe(TOKEN);
  });
});
