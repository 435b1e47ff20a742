import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type VaultFailure, VaultFailureKind } from '../../../functions/core/vault-port.js';
import { createVaultClient, type VaultClient } from '../../../functions/vault/client.js';
import {
  VaultError,
  VaultHttpError,
  VaultUnexpectedResponseError,
} from '../../../functions/vault/errors.js';
import { type ScriptedVault, startScriptedVault, vaultErrors, vaultOk } from './scripted-vault.js';

const TOKEN = 'hvs.mapping-token';

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

function endpoint(namespace?: string) {
  return namespace === undefined
    ? { address: vault.address }
    : { address: vault.address, namespace };
}

async function failureOf(promise: Promise<unknown>): Promise<VaultFailure & VaultError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof VaultError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

const AUTH = {
  client_token: TOKEN,
  accessor: 'acc-1',
  policies: ['default', 'app'],
  token_policies: ['default', 'app'],
  metadata: null,
  lease_duration: 3600,
  renewable: true,
  entity_id: '',
  token_type: 'service',
  orphan: true,
};

describe('renewSelf', () => {
  it('posts the increment to auth/token/renew-self with the Vault headers', async () => {
    // Prepare
    vault.answer(() => vaultOk({ auth: AUTH }));
    // Act
    await client.renewSelf(endpoint(), TOKEN, 7200);
    // Assess
    const [request] = vault.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/v1/auth/token/renew-self');
    expect(JSON.parse(request?.body ?? '')).toEqual({ increment: 7200 });
    expect(request?.headers['x-vault-token']).toBe(TOKEN);
    expect(request?.headers['x-vault-request']).toBe('true');
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['user-agent']).toBe('vault-renewer');
    expect(request?.headers).not.toHaveProperty('x-vault-namespace');
  });

  it('maps the auth envelope and reads warnings: null as no warnings', async () => {
    vault.answer(() => vaultOk({ auth: AUTH, warnings: null }));

    const renewal = await client.renewSelf(endpoint(), TOKEN, 7200);

    expect(renewal).toEqual({
      ttlSeconds: 3600,
      renewable: true,
      accessor: 'acc-1',
      policies: ['default', 'app'],
      tokenType: 'service',
      warnings: [],
    });
  });

  it('keeps the capped-TTL warning', async () => {
    const warning =
      'TTL of "2h" exceeded the effective max_ttl of "59m58s"; TTL value is capped accordingly';
    vault.answer(() => vaultOk({ auth: { ...AUTH, lease_duration: 3598 }, warnings: [warning] }));

    const renewal = await client.renewSelf(endpoint(), TOKEN, 7200);

    expect(renewal.ttlSeconds).toBe(3598);
    expect(renewal.warnings).toEqual([warning]);
  });

  it('sends X-Vault-Namespace when the endpoint has a namespace', async () => {
    vault.answer(() => vaultOk({ auth: AUTH }));

    await client.renewSelf(endpoint('team-a/prod'), TOKEN, 60);

    expect(vault.requests[0]?.headers['x-vault-namespace']).toBe('team-a/prod');
  });

  it('keeps a path prefix of the address (Vault behind a reverse proxy)', async () => {
    vault.answer(() => vaultOk({ auth: AUTH }));

    await client.renewSelf({ address: `${vault.address}/vault/` }, TOKEN, 60);

    expect(vault.requests[0]?.url).toBe('/vault/v1/auth/token/renew-self');
  });

  it('fails with kind unavailable and a clear message on a 200 without auth', async () => {
    vault.answer(() => vaultOk({ data: { something: 'else' } }));

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error).toBeInstanceOf(VaultUnexpectedResponseError);
    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.status).toBe(200);
    expect(error.message).toBe(
      'Vault POST auth/token/renew-self returned 200, but the body has no "auth" object (a wrapped response, or not Vault at this address?)',
    );
  });

  it('fails with kind unavailable on a 200 that is not JSON', async () => {
    vault.answer(() => ({ status: 200, text: '<html>portal</html>' }));

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.message).toContain('the body is not JSON');
  });

  it('maps a 403 into a VaultHttpError with the request id and Vault errors', async () => {
    vault.answer(() => ({
      status: 403,
      json: { errors: ['1 error occurred:\n\t* permission denied\n\n'], request_id: 'req-9' },
    }));

    const error = await failureOf(client.renewSelf(endpoint(), TOKEN, 60));

    expect(error).toBeInstanceOf(VaultHttpError);
    expect(error.kind).toBe(VaultFailureKind.PermissionDenied);
    expect(error.status).toBe(403);
    expect(error.path).toBe('auth/token/renew-self');
    expect(error.vaultErrors).toEqual(['1 error occurred:\n\t* permission denied\n\n']);
    expect(error.requestId).toBe('req-9');
    expect(error.message).toBe(
      'Vault POST auth/token/renew-self failed with 403: 1 error occurred: * permission denied [permission-denied] (request req-9)',
    );
  });

  it('rejects an increment that is not a whole number of seconds', async () => {
    await expect(client.renewSelf(endpoint(), TOKEN, 1.5)).rejects.toThrow(TypeError);
    expect(vault.requests).toHaveLength(0);
  });
});

describe('lookupSelf', () => {
  it('reads with GET, which the default policy grants', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          accessor: 'acc-2',
          policies: ['default'],
          ttl: 100,
          renewable: true,
          type: 'service',
          expire_time: '2030-01-01T00:00:00.000Z',
          issue_time: '2029-12-31T00:00:00.000Z',
          creation_time: 1_893_369_600,
          creation_ttl: 86_400,
          explicit_max_ttl: 0,
          num_uses: 0,
          orphan: true,
          path: 'auth/approle/login',
          meta: { role_name: 'app' },
          id: TOKEN,
        },
      }),
    );

    const info = await client.lookupSelf(endpoint(), TOKEN);

    expect(vault.requests[0]?.method).toBe('GET');
    expect(vault.requests[0]?.url).toBe('/v1/auth/token/lookup-self');
    expect(info).toEqual({
      accessor: 'acc-2',
      policies: ['default'],
      ttlSeconds: 100,
      renewable: true,
      type: 'service',
      expireTime: '2030-01-01T00:00:00.000Z',
      issueTime: '2029-12-31T00:00:00.000Z',
      creationTime: 1_893_369_600,
      creationTtlSeconds: 86_400,
      explicitMaxTtlSeconds: 0,
      numUses: 0,
      orphan: true,
      path: 'auth/approle/login',
      meta: { role_name: 'app' },
    });
  });

  it('maps the initial root token: no renewable, expire_time null, meta null', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          accessor: 'acc-root',
          policies: ['root'],
          ttl: 0,
          type: 'service',
          expire_time: null,
          creation_time: 1_700_000_000,
          creation_ttl: 0,
          explicit_max_ttl: 0,
          num_uses: 0,
          orphan: true,
          path: 'auth/token/root',
          meta: null,
        },
      }),
    );

    const info = await client.lookupSelf(endpoint(), TOKEN);

    expect(info).not.toHaveProperty('renewable');
    expect(info).not.toHaveProperty('issueTime');
    expect(info.expireTime).toBeNull();
    expect(info.meta).toBeNull();
    expect(info.ttlSeconds).toBe(0);
  });

  it('reports a periodic token’s period', async () => {
    vault.answer(() =>
      vaultOk({ data: { ttl: 50, period: 60, type: 'service', expire_time: null } }),
    );

    const info = await client.lookupSelf(endpoint(), TOKEN);

    expect(info.periodSeconds).toBe(60);
  });
});

describe('appRoleLogin', () => {
  it('posts role_id and secret_id to auth/<mount>/login, without a token', async () => {
    vault.answer(() => vaultOk({ auth: { ...AUTH, client_token: 'hvs.new' } }));

    const login = await client.appRoleLogin(endpoint(), 'approle-prod', {
      roleId: 'role-1',
      secretId: 'secret-1',
    });

    const [request] = vault.requests;
    expect(request?.url).toBe('/v1/auth/approle-prod/login');
    expect(JSON.parse(request?.body ?? '')).toEqual({ role_id: 'role-1', secret_id: 'secret-1' });
    expect(request?.headers).not.toHaveProperty('x-vault-token');
    expect(login).toEqual({
      token: 'hvs.new',
      accessor: 'acc-1',
      ttlSeconds: 3600,
      renewable: true,
      policies: ['default', 'app'],
      tokenType: 'service',
      warnings: [],
    });
  });

  it('fails with kind unavailable when the auth object has no client_token', async () => {
    vault.answer(() => vaultOk({ auth: { ...AUTH, client_token: '' } }));

    const error = await failureOf(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }),
    );

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.message).toContain('no client_token');
  });

  it('classifies a used-up secret_id as invalid-credentials', async () => {
    vault.answer(() => vaultErrors(400, 'invalid role or secret ID'));

    const error = await failureOf(
      client.appRoleLogin(endpoint(), 'approle', { roleId: 'r', secretId: 's' }),
    );

    expect(error.kind).toBe(VaultFailureKind.InvalidCredentials);
    expect(error.path).toBe('auth/approle/login');
  });
});

describe('renewLease and lookupLease', () => {
  it('posts lease_id and increment to sys/leases/renew and reads the top-level fields', async () => {
    vault.answer(() =>
      vaultOk({
        lease_id: 'database/creds/app/abc',
        lease_duration: 1800,
        renewable: true,
        warnings: null,
      }),
    );

    const renewal = await client.renewLease(endpoint(), TOKEN, 'database/creds/app/abc', 3600);

    const [request] = vault.requests;
    expect(request?.url).toBe('/v1/sys/leases/renew');
    expect(JSON.parse(request?.body ?? '')).toEqual({
      lease_id: 'database/creds/app/abc',
      increment: 3600,
    });
    expect(renewal).toEqual({
      leaseId: 'database/creds/app/abc',
      ttlSeconds: 1800,
      renewable: true,
      warnings: [],
    });
  });

  it('classifies a gone lease as lease-not-found', async () => {
    vault.answer(() => vaultErrors(400, 'lease not found'));

    const error = await failureOf(client.renewLease(endpoint(), TOKEN, 'x/y/z', 60));

    expect(error.kind).toBe(VaultFailureKind.LeaseNotFound);
  });

  it('looks a lease up under data', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          id: 'database/creds/app/abc',
          ttl: 1200,
          renewable: true,
          expire_time: '2030-01-01T00:20:00Z',
          issue_time: '2030-01-01T00:00:00Z',
          last_renewal: null,
        },
      }),
    );

    const info = await client.lookupLease(endpoint(), TOKEN, 'database/creds/app/abc');

    expect(vault.requests[0]?.method).toBe('POST');
    expect(vault.requests[0]?.url).toBe('/v1/sys/leases/lookup');
    expect(JSON.parse(vault.requests[0]?.body ?? '')).toEqual({
      lease_id: 'database/creds/app/abc',
    });
    expect(info).toEqual({ ttlSeconds: 1200, renewable: true, expireTime: '2030-01-01T00:20:00Z' });
  });
});

describe('issueLease', () => {
  it('reads the path with GET and returns the lease fields and data', async () => {
    vault.answer(() =>
      vaultOk({
        lease_id: 'database/creds/app/new',
        lease_duration: 3600,
        renewable: true,
        data: { username: 'v-app-1', password: 'pw' },
      }),
    );

    const lease = await client.issueLease(endpoint(), TOKEN, 'database/creds/app');

    expect(vault.requests[0]?.method).toBe('GET');
    expect(vault.requests[0]?.url).toBe('/v1/database/creds/app');
    expect(lease).toEqual({
      leaseId: 'database/creds/app/new',
      ttlSeconds: 3600,
      renewable: true,
      data: { username: 'v-app-1', password: 'pw' },
      warnings: [],
    });
  });

  it('percent-encodes each path segment', async () => {
    vault.answer(() => vaultOk({ data: {} }));

    await client.issueLease(endpoint(), TOKEN, '/db prod/creds/app?x=1#y/');

    expect(vault.requests[0]?.url).toBe('/v1/db%20prod/creds/app%3Fx%3D1%23y');
  });

  it.each([['database/../sys/raw'], ['./database/creds/app'], ['database//creds'], ['']])(
    'refuses the unsafe path %j before sending anything',
    async (path) => {
      const error = await failureOf(client.issueLease(endpoint(), TOKEN, path));

      expect(error.kind).toBe(VaultFailureKind.BadRequest);
      expect(vault.requests).toHaveLength(0);
    },
  );

  it('refuses a login mount that climbs out of auth/', async () => {
    const error = await failureOf(
      client.appRoleLogin(endpoint(), '../sys', { roleId: 'r', secretId: 's' }),
    );

    expect(error.kind).toBe(VaultFailureKind.BadRequest);
    expect(vault.requests).toHaveLength(0);
  });

  it('fails with kind unavailable when the answer has no data', async () => {
    vault.answer(() => vaultOk({ data: null }));

    const error = await failureOf(client.issueLease(endpoint(), TOKEN, 'database/creds/app'));

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
  });
});

describe('capabilitiesSelf', () => {
  it('posts the paths and reads each path under data', async () => {
    vault.answer(() =>
      vaultOk({
        data: {
          'auth/token/renew-self': ['update'],
          'sys/leases/renew': ['deny'],
        },
      }),
    );

    const capabilities = await client.capabilitiesSelf(endpoint(), TOKEN, [
      'auth/token/renew-self',
      'sys/leases/renew',
    ]);

    expect(JSON.parse(vault.requests[0]?.body ?? '')).toEqual({
      paths: ['auth/token/renew-self', 'sys/leases/renew'],
    });
    expect(capabilities).toEqual({
      'auth/token/renew-self': ['update'],
      'sys/leases/renew': ['deny'],
    });
  });

  it('falls back to the legacy top-level keys', async () => {
    vault.answer(() => ({
      status: 200,
      json: { capabilities: ['read'], 'auth/token/lookup-self': ['read'] },
    }));

    const capabilities = await client.capabilitiesSelf(endpoint(), TOKEN, [
      'auth/token/lookup-self',
    ]);

    expect(capabilities).toEqual({ 'auth/token/lookup-self': ['read'] });
  });
});

describe('health', () => {
  const HEALTH = {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
    version: '2.2.0',
    cluster_name: 'c',
  };

  it('asks with status overrides and no token', async () => {
    vault.answer(() => ({ status: 200, json: HEALTH }));

    const health = await client.health(endpoint());

    expect(vault.requests[0]?.url).toBe(
      '/v1/sys/health?standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200',
    );
    expect(vault.requests[0]?.headers).not.toHaveProperty('x-vault-token');
    expect(health).toEqual({
      initialized: true,
      sealed: false,
      standby: false,
      version: '2.2.0',
      status: 200,
    });
  });

  it('reports a sealed Vault that ignores the overrides instead of throwing', async () => {
    vault.answer(() => ({ status: 503, json: { ...HEALTH, sealed: true } }));

    const health = await client.health(endpoint());

    expect(health.sealed).toBe(true);
    expect(health.status).toBe(503);
  });

  it('reports a standby that answers 429', async () => {
    vault.answer(() => ({ status: 429, json: { ...HEALTH, standby: true } }));

    const health = await client.health(endpoint());

    expect(health).toMatchObject({ standby: true, status: 429 });
  });

  it('fails with kind unavailable on a 502 without a health body', async () => {
    vault.answer(() => ({ status: 502, text: 'Bad Gateway' }));

    const error = await failureOf(client.health(endpoint()));

    expect(error.kind).toBe(VaultFailureKind.Unavailable);
    expect(error.path).toBe('sys/health');
  });
});

describe('addresses', () => {
  it.each([
    ['not a URL', 'vault:8200:x'],
    ['ftp', 'ftp://127.0.0.1:8200'],
    ['credentials', 'https://user:hunter2@vault.example.com'],
    ['a query', 'https://vault.example.com/?token=abc'],
  ])('refuses an address with %s, without repeating it', async (_why, address) => {
    const error = await failureOf(client.health({ address }));

    expect(error.kind).toBe(VaultFailureKind.BadRequest);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).not.toContain('token=abc');
  });
});
