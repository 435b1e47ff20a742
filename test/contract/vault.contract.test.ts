/**
 * Contract: what the renewer relies on from Vault, pinned against a real server
 * (the local stack's OpenBao, or any Vault that VAULT_ADDR/VAULT_TOKEN point the
 * suite at) through OUR client. Setup uses raw API calls with the root token.
 *
 * Where OpenBao answers differently from HashiCorp Vault as described in
 * shared/reference/vault-facts.md, the test asserts OpenBao's exact answer and
 * a comment gives Vault's; test/unit/vault/classify.test.ts holds both.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type VaultEndpoint, VaultFailureKind } from '../../functions/core/vault-port.js';
import { createVaultClient, type VaultClient } from '../../functions/vault/client.js';
import { VaultError, VaultHttpError, VaultNetworkError } from '../../functions/vault/errors.js';
import { startOpenBao } from '../../tools/local-stack/openbao.js';
import { configureDatabaseEngine } from '../../tools/local-stack/stack.js';
import { type StackEnv, stackEnv, uniqueName } from '../support/stack-env.js';

/** Set when the suite runs against a Vault it did not start: it cannot seal or kill that one. */
const EXTERNAL_VAULT = Boolean(process.env.VAULT_ADDR);
const PRIVATE_PROCESS_NOTE =
  'VAULT_ADDR points at an external Vault: sealing and killing need a private OpenBao process';

/** OpenBao and Vault before 1.17: a dead token is refused with exactly this. */
const PLAIN_DENIED = 'permission denied';
/** An ACL denial on a live token (vault#22575; same text in OpenBao). */
const ACL_DENIED = '1 error occurred:\n\t* permission denied\n\n';

let stack: StackEnv;
let vault: VaultEndpoint;
let client: VaultClient;

beforeAll(() => {
  stack = stackEnv();
  vault = { address: stack.VAULT_ADDR };
  client = createVaultClient({ retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 } });
});
afterAll(async () => {
  await client.close();
});

// ---------------------------------------------------------------------------
// Setup helpers: raw Vault API calls, never through the client under test.

interface SetupOptions {
  readonly token?: string;
  readonly body?: unknown;
  readonly namespace?: string;
  /** Statuses that count as success; default 200 and 204. */
  readonly expect?: readonly number[];
}

async function setup(
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: SetupOptions = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'x-vault-token': options.token ?? stack.VAULT_TOKEN };
  if (options.namespace !== undefined) headers['x-vault-namespace'] = options.namespace;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${stack.VAULT_ADDR}/v1/${path}`, {
    method,
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
  if (!(options.expect ?? [200, 204]).includes(response.statusCode)) {
    throw new Error(
      `setup ${method} ${path} answered ${response.statusCode}: ${JSON.stringify(body.errors)}`,
    );
  }
  return { status: response.statusCode, body };
}

interface CreatedToken {
  readonly token: string;
  readonly accessor: string;
}

async function createToken(
  body: Record<string, unknown>,
  namespace?: string,
): Promise<CreatedToken> {
  const { body: answer } = await setup('POST', 'auth/token/create', {
    body,
    ...(namespace === undefined ? {} : { namespace }),
  });
  const auth = answer.auth as { client_token: string; accessor: string };
  return { token: auth.client_token, accessor: auth.accessor };
}

async function writePolicy(name: string, policy: string): Promise<void> {
  await setup('PUT', `sys/policies/acl/${name}`, { body: { policy } });
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

/** Vault's `humanDuration` (sdk/framework/lease.go): Go's duration string, `m0s`/`h0m` trimmed. */
function humanDuration(totalSeconds: number): string {
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const seconds = totalSeconds % 60;
  let text =
    hours > 0
      ? `${hours}h${minutes}m${seconds}s`
      : minutes > 0
        ? `${minutes}m${seconds}s`
        : `${seconds}s`;
  if (text.endsWith('m0s')) text = text.slice(0, -2);
  if (text.endsWith('h0m')) text = text.slice(0, -2);
  return text;
}

function cappedWarning(requested: string, grantedSeconds: number): string {
  return `TTL of "${requested}" exceeded the effective max_ttl of "${humanDuration(grantedSeconds)}"; TTL value is capped accordingly`;
}

// ---------------------------------------------------------------------------

describe('tokens: renew-self and lookup-self', { timeout: 30_000 }, () => {
  it('counts the increment from now, so a smaller increment shortens the TTL (vault#1079)', async () => {
    // Prepare
    const { token, accessor } = await createToken({ ttl: '1h', policies: ['default'] });
    // Act
    const renewal = await client.renewSelf(vault, token, 600);
    const info = await client.lookupSelf(vault, token);
    // Assess
    expect(renewal).toMatchObject({
      ttlSeconds: 600,
      renewable: true,
      accessor,
      tokenType: 'service',
    });
    expect(renewal.warnings).toEqual([]);
    expect(info.ttlSeconds).toBeGreaterThan(595);
    expect(info.ttlSeconds).toBeLessThanOrEqual(600);
  });

  it('caps the TTL at the explicit max TTL and says so in a warning', async () => {
    const { token } = await createToken({
      ttl: '1m',
      explicit_max_ttl: '90s',
      policies: ['default'],
    });

    const renewal = await client.renewSelf(vault, token, 3600);

    expect(renewal.ttlSeconds).toBeGreaterThan(80);
    expect(renewal.ttlSeconds).toBeLessThanOrEqual(90);
    expect(renewal.warnings).toEqual([cappedWarning('1h', renewal.ttlSeconds)]);
  });

  it('reads a service token with lookup-self (GET, default policy)', async () => {
    const { token, accessor } = await createToken({
      ttl: '1h',
      policies: ['default'],
      meta: { owner: 'contract' },
    });

    const info = await client.lookupSelf(vault, token);

    expect(info).toMatchObject({
      accessor,
      policies: ['default'],
      renewable: true,
      type: 'service',
      path: 'auth/token/create',
      meta: { owner: 'contract' },
      numUses: 0,
      creationTtlSeconds: 3600,
      explicitMaxTtlSeconds: 0,
    });
    expect(info.expireTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(info.issueTime).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('refuses to renew a token created non-renewable: 400 `lease is not renewable`', async () => {
    const { token } = await createToken({ ttl: '1h', renewable: false, policies: ['default'] });

    const error = await failureOf(client.renewSelf(vault, token, 600));

    expect(error).toBeInstanceOf(VaultHttpError);
    expect(error).toMatchObject({
      kind: VaultFailureKind.NotRenewable,
      status: 400,
      vaultErrors: ['lease is not renewable'],
    });
  });

  it('refuses to renew a batch token: 400 `batch tokens cannot be renewed`', async () => {
    const { token } = await createToken({ ttl: '1h', type: 'batch', policies: ['default'] });

    const error = await failureOf(client.renewSelf(vault, token, 600));
    const info = await client.lookupSelf(vault, token);

    expect(error).toMatchObject({
      kind: VaultFailureKind.BatchToken,
      status: 400,
      vaultErrors: ['batch tokens cannot be renewed'],
    });
    expect(info.type).toBe('batch');
  });

  it('refuses to renew the root token', async (ctx) => {
    const info = await client.lookupSelf(vault, stack.VAULT_TOKEN);
    ctx.skip(!info.policies.includes('root'), 'VAULT_TOKEN is not a root token');

    const error = await failureOf(client.renewSelf(vault, stack.VAULT_TOKEN, 600));

    expect(info).toMatchObject({ ttlSeconds: 0, expireTime: null });
    if (info.path === 'auth/token/root') {
      // Vault's initial root token (operator init / generate-root) has no lease entry.
      expect(error).toMatchObject({
        kind: VaultFailureKind.RootToken,
        status: 400,
        vaultErrors: ['invalid lease ID'],
      });
    } else {
      // OpenBao's dev-mode root token is made through auth/token/create, so it has a
      // never-expiring lease entry: lookup-self shows `renewable: false` and an issue_time,
      // and renew-self says `lease is not renewable`, like any non-renewable token. The
      // caller tells root apart by lookup-self (policies ["root"], expire_time null).
      // Vault's initial root answers 400 `invalid lease ID` (vault-facts §2, §3.5).
      expect(info.path).toBe('auth/token/create');
      expect(info.renewable).toBe(false);
      expect(error).toMatchObject({
        kind: VaultFailureKind.NotRenewable,
        status: 400,
        vaultErrors: ['lease is not renewable'],
      });
    }
  });

  it('denies renew-self to a live token whose policy lacks it: the ACL multierror, never `invalid token`', async () => {
    const policy = uniqueName('lookup-only');
    await writePolicy(policy, 'path "auth/token/lookup-self" { capabilities = ["read"] }');
    const { token } = await createToken({ ttl: '1h', policies: [policy], no_default_policy: true });

    const error = await failureOf(client.renewSelf(vault, token, 600));
    // The disambiguation the caller makes: lookup-self still answers for a live token.
    const info = await client.lookupSelf(vault, token);

    expect(error).toMatchObject({
      kind: VaultFailureKind.PermissionDenied,
      status: 403,
      vaultErrors: [ACL_DENIED],
    });
    expect(error.vaultErrors.join()).not.toContain('invalid token');
    expect(info.policies).toEqual([policy]);
  });

  it('reports capabilities-self: update on renew-self for the default policy, deny elsewhere', async () => {
    const { token } = await createToken({ ttl: '1h', policies: ['default'] });
    const nowhere = `${uniqueName('nowhere')}/creds/x`;

    const capabilities = await client.capabilitiesSelf(vault, token, [
      'auth/token/renew-self',
      'sys/leases/renew',
      nowhere,
    ]);

    expect(capabilities).toEqual({
      'auth/token/renew-self': ['update'],
      'sys/leases/renew': ['update'],
      [nowhere]: ['deny'],
    });
  });
});

describe('tokens that are gone', { timeout: 30_000 }, () => {
  /**
   * OpenBao (like Vault before PR #25953, 1.17) refuses a dead token with a plain
   * `permission denied`: no `invalid token`, and not the ACL multierror either.
   * Vault ≥ 1.17 answers 403 with both `permission denied` and `invalid token`,
   * which classify() maps to invalid-token. Here the kind is permission-denied,
   * and the caller's second call (lookup-self, granted by the default policy) is
   * refused too: that is how the renewer knows the token is dead, not under-privileged.
   */
  async function expectDead(token: string): Promise<void> {
    const renew = await failureOf(client.renewSelf(vault, token, 600));
    const lookup = await failureOf(client.lookupSelf(vault, token));

    for (const error of [renew, lookup]) {
      expect(error).toMatchObject({
        kind: VaultFailureKind.PermissionDenied,
        status: 403,
        vaultErrors: [PLAIN_DENIED],
      });
    }
  }

  it('refuses a revoked token with a plain `permission denied`, on renew and lookup alike', async () => {
    const { token } = await createToken({ ttl: '1h', policies: ['default'] });
    await setup('POST', 'auth/token/revoke-self', { token });

    await expectDead(token);
  });

  it('refuses a token that never existed the same way', async () => {
    await expectDead(`s.${'x'.repeat(24)}`);
  });

  it('refuses a token that expired on the real clock the same way', async () => {
    const { token } = await createToken({ ttl: '2s', policies: ['default'] });
    await sleep(3_500);

    await expectDead(token);
  });
});

describe('AppRole', { timeout: 60_000 }, () => {
  interface AppRole {
    readonly mount: string;
    readonly roleId: string;
    newSecretId(): Promise<string>;
  }

  async function appRole(role: Record<string, unknown>): Promise<AppRole> {
    const mount = uniqueName('approle');
    await setup('POST', `sys/auth/${mount}`, { body: { type: 'approle' } });
    await setup('POST', `auth/${mount}/role/app`, { body: role });
    const { body } = await setup('GET', `auth/${mount}/role/app/role-id`);
    const roleId = (body.data as { role_id: string }).role_id;
    return {
      mount,
      roleId,
      async newSecretId() {
        const { body: created } = await setup('POST', `auth/${mount}/role/app/secret-id`, {
          body: {},
        });
        return (created.data as { secret_id: string }).secret_id;
      },
    };
  }

  it('logs in, and the token renews up to token_max_ttl with the capped warning', async () => {
    // Prepare
    const role = await appRole({
      token_ttl: '1h',
      token_max_ttl: '2h',
      token_policies: ['default'],
    });
    const secretId = await role.newSecretId();
    // Act
    const login = await client.appRoleLogin(vault, role.mount, { roleId: role.roleId, secretId });
    const info = await client.lookupSelf(vault, login.token);
    const renewal = await client.renewSelf(vault, login.token, 3 * 3600);
    // Assess
    expect(login).toMatchObject({
      ttlSeconds: 3600,
      renewable: true,
      tokenType: 'service',
      policies: ['default'],
      warnings: [],
    });
    expect(info).toMatchObject({
      path: `auth/${role.mount}/login`,
      meta: { role_name: 'app' },
      orphan: true,
      accessor: login.accessor,
    });
    expect(renewal.ttlSeconds).toBeGreaterThan(7190);
    expect(renewal.ttlSeconds).toBeLessThanOrEqual(7200);
    expect(renewal.warnings).toEqual([cappedWarning('3h', renewal.ttlSeconds)]);
  });

  it('refuses a used-up secret_id (num_uses=1) with `invalid role or secret ID`', async () => {
    const role = await appRole({ token_ttl: '1h', secret_id_num_uses: 1 });
    const secretId = await role.newSecretId();
    const credentials = { roleId: role.roleId, secretId };

    await client.appRoleLogin(vault, role.mount, credentials);
    const error = await failureOf(client.appRoleLogin(vault, role.mount, credentials));

    expect(error).toMatchObject({
      kind: VaultFailureKind.InvalidCredentials,
      status: 400,
      vaultErrors: ['invalid role or secret ID'],
      path: `auth/${role.mount}/login`,
    });
  });

  it('locks the role_id out after 5 failed logins: 403 `permission denied`', async () => {
    const role = await appRole({ token_ttl: '1h' });
    const wrong = { roleId: role.roleId, secretId: '00000000-0000-0000-0000-000000000000' };

    const kinds: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      kinds.push((await failureOf(client.appRoleLogin(vault, role.mount, wrong))).kind);
    }
    const locked = await failureOf(
      client.appRoleLogin(vault, role.mount, {
        roleId: role.roleId,
        secretId: await role.newSecretId(),
      }),
    );

    expect(kinds).toEqual(Array(5).fill(VaultFailureKind.InvalidCredentials));
    // Even a good secret_id is refused while locked out.
    expect(locked).toMatchObject({
      kind: VaultFailureKind.LockedOut,
      status: 403,
      vaultErrors: [PLAIN_DENIED],
    });
  });
});

describe('leases (database secrets engine)', { timeout: 60_000 }, () => {
  let credsPath: string;
  let credsPolicy: string;

  beforeAll(async () => {
    if (stack.DATABASE_URL === '') return;
    const url = new URL(stack.DATABASE_URL);
    const engine = await configureDatabaseEngine({
      vaultAddr: stack.VAULT_ADDR,
      token: stack.VAULT_TOKEN,
      mount: uniqueName('db'),
      postgres: {
        port: Number(url.port || 5432),
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        database: url.pathname.slice(1),
      },
      roleName: 'app',
      defaultTtl: 60,
      maxTtl: 120,
    });
    credsPath = engine.credsPath;
    credsPolicy = uniqueName('creds');
    await writePolicy(credsPolicy, `path "${credsPath}" { capabilities = ["read"] }`);
  });

  it('issues, renews (capped at the role max_ttl), looks up and revokes a lease', async (ctx) => {
    ctx.skip(stack.DATABASE_URL === '', 'no DATABASE_URL');
    // Prepare
    const { token } = await createToken({ ttl: '1h', policies: ['default', credsPolicy] });
    // Act
    const lease = await client.issueLease(vault, token, credsPath);
    const renewal = await client.renewLease(vault, token, lease.leaseId, 3600);
    const info = await client.lookupLease(vault, token, lease.leaseId);
    await setup('POST', 'sys/leases/revoke', { body: { lease_id: lease.leaseId } });
    const afterRevoke = await failureOf(client.renewLease(vault, token, lease.leaseId, 60));
    const lookupAfterRevoke = await failureOf(client.lookupLease(vault, token, lease.leaseId));
    // Assess
    expect(lease.leaseId.startsWith(`${credsPath}/`)).toBe(true);
    expect(lease).toMatchObject({ ttlSeconds: 60, renewable: true, warnings: [] });
    expect(Object.keys(lease.data).sort()).toEqual(['password', 'username']);
    expect(renewal.leaseId).toBe(lease.leaseId);
    expect(renewal.renewable).toBe(true);
    expect(renewal.ttlSeconds).toBeGreaterThan(110);
    expect(renewal.ttlSeconds).toBeLessThanOrEqual(120);
    expect(renewal.warnings).toEqual([cappedWarning('1h', renewal.ttlSeconds)]);
    expect(info.renewable).toBe(true);
    expect(info.ttlSeconds).toBeLessThanOrEqual(renewal.ttlSeconds);
    expect(info.expireTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(afterRevoke).toMatchObject({
      kind: VaultFailureKind.LeaseNotFound,
      status: 400,
      vaultErrors: ['lease not found'],
    });
    expect(lookupAfterRevoke).toMatchObject({
      kind: VaultFailureKind.LeaseNotFound,
      status: 400,
      vaultErrors: ['invalid lease'],
    });
  });

  it('revokes the leases of a token when the token is revoked', async (ctx) => {
    ctx.skip(stack.DATABASE_URL === '', 'no DATABASE_URL');
    const { token } = await createToken({ ttl: '1h', policies: ['default', credsPolicy] });
    const lease = await client.issueLease(vault, token, credsPath);

    await setup('POST', 'auth/token/revoke', { body: { token } });
    // Renewed by another token that may renew any lease (here the root token).
    const error = await failureOf(client.renewLease(vault, stack.VAULT_TOKEN, lease.leaseId, 60));

    // Revoking the token revokes its leases in the background: a renewal that
    // comes before the lease entry is gone gets `lease expired` (vault-facts
    // §2, the race before revocation), after it `lease not found`. Both are
    // dead leases to the renewer (it re-issues); OpenBao answered each on
    // this machine.
    expect([
      { kind: VaultFailureKind.LeaseNotFound, status: 400, vaultErrors: ['lease not found'] },
      { kind: VaultFailureKind.LeaseExpired, status: 400, vaultErrors: ['lease expired'] },
    ]).toContainEqual({
      kind: error.kind,
      status: error.status,
      vaultErrors: [...error.vaultErrors],
    });
  });

  it('refuses to renew a lease with the dead token that created it', async (ctx) => {
    ctx.skip(stack.DATABASE_URL === '', 'no DATABASE_URL');
    const { token } = await createToken({ ttl: '1h', policies: ['default', credsPolicy] });
    const lease = await client.issueLease(vault, token, credsPath);
    await setup('POST', 'auth/token/revoke-self', { token });

    const error = await failureOf(client.renewLease(vault, token, lease.leaseId, 60));

    // The token check comes first (vault#25712): plain 403 in OpenBao, `invalid token` in Vault ≥ 1.17.
    expect(error).toMatchObject({ status: 403, vaultErrors: [PLAIN_DENIED] });
  });
});

describe('namespaces', { timeout: 30_000 }, () => {
  it('sends X-Vault-Namespace: a login at a mount inside a namespace works only with it', async (ctx) => {
    const namespace = uniqueName('ns');
    const created = await setup('POST', `sys/namespaces/${namespace}`, {
      expect: [200, 204, 404, 400],
    });
    ctx.skip(created.status >= 400, 'this Vault has no namespaces (Vault CE)');
    const mount = uniqueName('approle');
    await setup('POST', `sys/auth/${mount}`, { namespace, body: { type: 'approle' } });
    await setup('POST', `auth/${mount}/role/app`, { namespace, body: { token_ttl: '1h' } });
    const roleId = (
      (await setup('GET', `auth/${mount}/role/app/role-id`, { namespace })).body.data as {
        role_id: string;
      }
    ).role_id;
    const secretId = (
      (await setup('POST', `auth/${mount}/role/app/secret-id`, { namespace, body: {} })).body
        .data as { secret_id: string }
    ).secret_id;
    const inNamespace = { address: stack.VAULT_ADDR, namespace };

    const outside = await failureOf(client.appRoleLogin(vault, mount, { roleId, secretId }));
    const login = await client.appRoleLogin(inNamespace, mount, { roleId, secretId });
    const renewal = await client.renewSelf(inNamespace, login.token, 600);
    const missing = await failureOf(
      client.renewSelf(
        { address: stack.VAULT_ADDR, namespace: uniqueName('none') },
        login.token,
        600,
      ),
    );

    // Without the header the mount does not exist in the root namespace. A login path that
    // no auth method serves is an authenticated path, refused without a token exactly like
    // a locked-out role_id: 403 `permission denied`. classify() cannot tell the two apart.
    expect(outside).toMatchObject({
      kind: VaultFailureKind.LockedOut,
      status: 403,
      vaultErrors: [PLAIN_DENIED],
    });
    // Namespaced tokens carry the namespace id as a `.<nsID>` suffix.
    expect(login.token).toMatch(/\.[A-Za-z0-9]+$/);
    expect(renewal.ttlSeconds).toBe(600);
    expect(missing).toMatchObject({
      kind: VaultFailureKind.BadRequest,
      status: 404,
      vaultErrors: ['namespace not found'],
    });
  });
});

describe('sys/health', { timeout: 30_000 }, () => {
  it('reports an initialised, unsealed, active Vault', async () => {
    const health = await client.health(vault);

    expect(health).toMatchObject({ initialized: true, sealed: false, standby: false, status: 200 });
    expect(health.version).not.toBe('');
  });
});

describe('a private OpenBao that is sealed, unsealed and killed', { timeout: 120_000 }, () => {
  it('answers 503 `Vault is sealed` while sealed, reports it in health, and refuses connections when killed', async (ctx) => {
    ctx.skip(EXTERNAL_VAULT, PRIVATE_PROCESS_NOTE);
    // Prepare
    const bao = await startOpenBao();
    const privateVault = { address: bao.addr };
    const sealedClient = createVaultClient({
      retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
    });
    try {
      const { token } = await tokenOn(bao.addr, bao.rootToken);
      // Act
      await bao.seal();
      const sealedRenew = await failureOf(sealedClient.renewSelf(privateVault, token, 600));
      const sealedLogin = await failureOf(
        sealedClient.appRoleLogin(privateVault, 'approle', { roleId: 'r', secretId: 's' }),
      );
      const sealedHealth = await sealedClient.health(privateVault);
      await bao.unseal();
      const renewed = await sealedClient.renewSelf(privateVault, token, 600);
      const healthy = await sealedClient.health(privateVault);
      await bao.stop();
      const killed = await failureOf(sealedClient.health(privateVault));
      // Assess
      for (const error of [sealedRenew, sealedLogin]) {
        expect(error).toMatchObject({
          kind: VaultFailureKind.Sealed,
          status: 503,
          vaultErrors: ['Vault is sealed'],
          attempts: 2,
        });
      }
      expect(sealedHealth).toMatchObject({ initialized: true, sealed: true, status: 200 });
      expect(renewed.ttlSeconds).toBe(600);
      expect(healthy).toMatchObject({ sealed: false, status: 200 });
      expect(killed).toBeInstanceOf(VaultNetworkError);
      expect(killed.kind).toBe(VaultFailureKind.Unavailable);
      expect(killed.message).toContain('ECONNREFUSED');
    } finally {
      await sealedClient.close();
      await bao.stop();
    }
  });
});

async function tokenOn(addr: string, rootToken: string): Promise<CreatedToken> {
  const response = await request(`${addr}/v1/auth/token/create`, {
    method: 'POST',
    headers: { 'x-vault-token': rootToken, 'content-type': 'application/json' },
    body: JSON.stringify({ ttl: '1h', policies: ['default'] }),
  });
  const body = (await response.body.json()) as { auth: { client_token: string; accessor: string } };
  return { token: body.auth.client_token, accessor: body.auth.accessor };
}
