/**
 * `npm run vault:bootstrap` end to end on the local stack: the real script in a
 * child process (as an operator runs it) against OpenBao and moto, then the real
 * renew handler keeping the bootstrapped target alive.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateSecretCommand, DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { horizonSeconds } from '../../functions/core/lifetime.js';
import { DEFAULT_ROLE_SETTINGS, loadRoleSettings } from '../../scripts/bootstrap/role-settings.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  canLogin,
  configWith,
  createScenario,
  lookupSelf,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(REPO_ROOT, 'scripts/bootstrap/main.ts');

/** One-minute schedule in configWith(): horizon 180 s. */
const INTERVAL_SECONDS = 60;
const HORIZON_SECONDS = horizonSeconds(INTERVAL_SECONDS);
/**
 * Short TTLs so the whole life of a token fits in a test: a fresh token lives
 * 60 s, the renewer asks for 190 s (> horizon, so the first renewal is kept),
 * and the max of 200 s falls inside the 180 s horizon 20 s after login.
 */
const TOKEN_TTL = 60;
const TOKEN_MAX_TTL = 200;
const INCREMENT_SECONDS = 190;

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let scenario: Scenario;
let dir: string;
let roleSettings: string;

beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'vb');
  dir = mkdtempSync(join(tmpdir(), 'vault-bootstrap-'));
  roleSettings = join(dir, 'approle-role.yaml');
  // The shipped settings with short TTLs; every other choice as in infra/vault/approle-role.yaml.
  writeFileSync(
    roleSettings,
    stringifyYaml({
      token_type: 'service',
      token_ttl: TOKEN_TTL,
      token_max_ttl: TOKEN_MAX_TTL,
      token_period: 0,
      token_explicit_max_ttl: 0,
      token_num_uses: 0,
      // Proves the shipped policy alone lets the renewer work.
      token_no_default_policy: true,
      bind_secret_id: true,
      secret_id_ttl: 0,
      secret_id_num_uses: 0,
      secret_id_bound_cidrs: [],
    }),
  );
});

afterAll(() => {
  // The stack's state needs no cleanup: every name is unique to this run (uniqueName).
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the real script like `npm run vault:bootstrap -- ...`, with only the stack's environment. */
/** One target set up from `config` with the test role settings, enabling AppRole if needed. */
function bootstrapTarget(
  name: string,
  config: string,
  ...extra: readonly string[]
): Promise<CliResult> {
  return bootstrap([
    name,
    '--config',
    config,
    '--role-settings',
    roleSettings,
    '--enable-approle',
    ...extra,
  ]);
}

function bootstrap(args: readonly string[]): Promise<CliResult> {
  const env = scenario.fleet.env;
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        NODE_NO_WARNINGS: '1',
        VAULT_ADDR: env.VAULT_ADDR,
        VAULT_TOKEN: env.VAULT_TOKEN,
        AWS_REGION: env.AWS_REGION,
        AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

/** A target entry in the config file format, its secrets under the fleet's unique prefix. */
function targetEntry(name: string, leases: readonly Record<string, unknown>[] = []) {
  const { fleet } = scenario;
  return {
    name,
    tokenSecret: `${fleet.prefix}/${name}/token`,
    approle: { secret: `${fleet.prefix}/${name}/approle`, mount: fleet.approleMount, role: name },
    incrementSeconds: INCREMENT_SECONDS,
    ...(leases.length === 0 ? {} : { leases }),
  };
}

function writeConfig(
  file: string,
  targets: readonly Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): string {
  const path = join(dir, file);
  writeFileSync(path, stringifyYaml(configWith(scenario.fleet.env, targets, extra)));
  return path;
}

async function secretIdAccessors(role: string): Promise<string[]> {
  const { fleet } = scenario;
  try {
    const listed = (await fleet.vault(
      'GET',
      `auth/${fleet.approleMount}/role/${role}/secret-id?list=true`,
    )) as { data: { keys: string[] } };
    return listed.data.keys;
  } catch (error) {
    if (/answered 404/.test((error as Error).message)) return [];
    throw error;
  }
}

async function secretExists(name: string): Promise<boolean> {
  try {
    await scenario.fleet.secretValue(name);
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

describe('vault:bootstrap on the local stack', () => {
  it(
    'bootstraps a new target that the renew function renews, then logs in again with the stored AppRole credentials once the max TTL is inside the horizon',
    async () => {
      // Prepare: a target with a database lease, not yet known to Vault or Secrets Manager
      const { fleet } = scenario;
      const credsPath = await fleet.databaseRole('ledger-db', 300, 600);
      const entry = targetEntry('ledger', [
        { name: 'db', secret: `${fleet.prefix}/ledger/db`, reissuePath: credsPath },
      ]);
      const config = writeConfig('ledger.yaml', [entry]);

      // Act: bootstrap
      const run = await bootstrapTarget('ledger', config);

      // Assess: Vault and Secrets Manager set up, the config entry printed
      expect(run.stderr).not.toContain(fleet.env.VAULT_TOKEN);
      expect(run.code, run.stderr).toBe(0);
      const printed = parseYaml(run.stdout.replace(/^#.*\n/, '')) as Record<string, unknown>[];
      expect(printed).toEqual([
        {
          name: 'ledger',
          tokenSecret: entry.tokenSecret,
          approle: entry.approle,
          leases: [{ name: 'db', secret: `${fleet.prefix}/ledger/db`, reissuePath: credsPath }],
        },
      ]);
      const role = (await fleet.vault('GET', `auth/${fleet.approleMount}/role/ledger`)) as {
        data: Record<string, unknown>;
      };
      expect(role.data).toMatchObject({
        token_type: 'service',
        token_ttl: TOKEN_TTL,
        token_max_ttl: TOKEN_MAX_TTL,
        token_policies: ['vault-renewer-ledger'],
        secret_id_ttl: 0,
        secret_id_num_uses: 0,
      });
      const policy = (await fleet.vault('GET', 'sys/policies/acl/vault-renewer-ledger')) as {
        data: { policy: string };
      };
      expect(policy.data.policy).toContain('path "auth/token/renew-self"');
      expect(policy.data.policy).toContain(`path "${credsPath}" {\n  capabilities = ["read"]`);
      const approle = await fleet.secretJson(entry.approle.secret);
      expect(approle).toMatchObject({ role_id: expect.any(String), secret_id: expect.any(String) });
      const tokenDoc = await fleet.secretJson(entry.tokenSecret);
      const firstToken = String(tokenDoc.token);
      expect(tokenDoc).toMatchObject({ renewable: true, managed_by: 'vault-renewer' });
      const looked = await lookupSelf(fleet, firstToken);
      expect(looked.ok && looked.data).toMatchObject({
        path: `auth/${fleet.approleMount}/login`,
        policies: ['vault-renewer-ledger'],
        renewable: true,
        type: 'service',
      });
      expect(await fleet.secretJson(`${fleet.prefix}/ledger/db`)).toEqual({});
      // Nothing secret in what the operator sees (a terminal, a CI log).
      for (const secret of [firstToken, String(approle.secret_id), String(tokenDoc.accessor)]) {
        expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
      }

      // Act: the first scheduled run, right after the login
      const harness = scenario.harness(configWith(fleet.env, [entry]));
      const first = targetReport(await harness.invoke(SCHEDULED_EVENT), 'ledger');

      // Assess: renewed past the horizon (190 s of the 200 s max), lease issued with that token
      expect(first.problems.map((p) => `${p.severity} ${p.code}`)).toEqual(['INFO lease-reissued']);
      expect(first.token).toMatchObject({ outcome: 'renewed' });
      expect(first.token.ttlSeconds).toBeGreaterThan(HORIZON_SECONDS);
      expect(first.leases).toMatchObject([{ name: 'db', outcome: 'reissued', reason: 'absent' }]);
      expect(await fleet.secretJson(entry.tokenSecret)).toEqual(tokenDoc);
      expect(await fleet.versionCount(entry.tokenSecret)).toBe(1);
      const firstLease = await fleet.secretJson(`${fleet.prefix}/ledger/db`);
      const firstCreds = firstLease.data as { username: string; password: string };
      expect(await canLogin(fleet.env.DATABASE_URL, firstCreds.username, firstCreds.password)).toBe(
        true,
      );

      // Prepare: wait until less than the horizon is left to the token's max TTL
      const issuedAtMs = Date.parse(String(tokenDoc.issued_at));
      const maxTtlInsideHorizonAtMs = issuedAtMs + (TOKEN_MAX_TTL - HORIZON_SECONDS + 3) * 1000;
      await sleep(Math.max(0, maxTtlInsideHorizonAtMs - Date.now()));

      // Act: the next run
      const second = targetReport(await harness.invoke(SCHEDULED_EVENT), 'ledger');

      // Assess: logged in again with the stored AppRole credentials, leases moved to the new token
      expect(second.token).toMatchObject({
        outcome: 'relogged-in',
        reason: 'max-ttl-inside-horizon',
      });
      expect(second.leases).toMatchObject([
        { name: 'db', outcome: 'reissued', reason: 'token-replaced' },
      ]);
      const renewedDoc = await fleet.secretJson(entry.tokenSecret);
      expect(renewedDoc.token).not.toBe(firstToken);
      const relooked = await lookupSelf(fleet, String(renewedDoc.token));
      expect(relooked.ok && relooked.data).toMatchObject({
        path: `auth/${fleet.approleMount}/login`,
        ttl: expect.any(Number),
        meta: { role_name: 'ledger' },
      });
      // The old token is left to expire on its own: its consumers may still hold it.
      expect((await lookupSelf(fleet, firstToken)).ok).toBe(true);
      const secondCreds = (await fleet.secretJson(`${fleet.prefix}/ledger/db`)).data as {
        username: string;
        password: string;
      };
      expect(secondCreds.username).not.toBe(firstCreds.username);
      expect(
        await canLogin(fleet.env.DATABASE_URL, secondCreds.username, secondCreds.password),
      ).toBe(true);
      // The bootstrap's secret_id was used, not replaced.
      expect(await fleet.secretJson(entry.approle.secret)).toEqual(approle);
    },
    (TOKEN_MAX_TTL - HORIZON_SECONDS + 60) * 1000,
  );

  it('is idempotent: a second run keeps the secret_id and the token, and writes no secret version', async () => {
    // Prepare
    const { fleet } = scenario;
    const entry = targetEntry('twice');
    const config = writeConfig('twice.yaml', [entry]);
    const args = ['twice', '--config', config, '--role-settings', roleSettings, '--enable-approle'];
    const first = await bootstrap(args);
    expect(first.code, first.stderr).toBe(0);
    const tokenBefore = await fleet.secretJson(entry.tokenSecret);
    const approleBefore = await fleet.secretJson(entry.approle.secret);
    const accessorsBefore = await secretIdAccessors('twice');

    // Act
    const second = await bootstrap(args);

    // Assess
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(second.stderr).toMatch(/policy vault-renewer-twice: unchanged/);
    expect(second.stderr).toMatch(/secret_id: the stored one is valid/);
    expect(second.stderr).toMatch(/token: the stored one is healthy/);
    expect(await fleet.versionCount(entry.tokenSecret)).toBe(1);
    expect(await fleet.versionCount(entry.approle.secret)).toBe(1);
    expect(await fleet.secretJson(entry.tokenSecret)).toEqual(tokenBefore);
    expect(await fleet.secretJson(entry.approle.secret)).toEqual(approleBefore);
    expect(accessorsBefore).toHaveLength(1);
    expect(await secretIdAccessors('twice')).toEqual(accessorsBefore);
    const role = (await fleet.vault('GET', `auth/${fleet.approleMount}/role/twice`)) as {
      data: { token_policies: string[] };
    };
    expect(role.data.token_policies).toEqual(['vault-renewer-twice']);
  }, 30_000);

  it('tags every secret of the target when the config scopes access by a tag, existing ones too', async () => {
    // Prepare: the token secret exists before the bootstrap, untagged.
    const { fleet } = scenario;
    const entry = targetEntry('tagged', [
      { name: 'db', secret: `${fleet.prefix}/tagged/db`, reissuePath: 'database/creds/tagged' },
    ]);
    await fleet.aws.secretsManager.send(
      new CreateSecretCommand({ Name: entry.tokenSecret, SecretString: '{}' }),
    );
    const path = join(dir, 'tagged.yaml');
    writeFileSync(
      path,
      stringifyYaml({
        ...configWith(fleet.env, [entry]),
        secretAccess: { tag: { key: 'vault-renewer:managed', value: 'true' } },
      }),
    );

    // Act
    const result = await bootstrap([
      'tagged',
      '--config',
      path,
      '--role-settings',
      roleSettings,
      '--enable-approle',
    ]);

    // Assess
    expect(result.code, result.stderr).toBe(0);
    for (const id of [entry.tokenSecret, entry.approle.secret, `${fleet.prefix}/tagged/db`]) {
      const described = await fleet.aws.secretsManager.send(
        new DescribeSecretCommand({ SecretId: id }),
      );
      expect(described.Tags, id).toContainEqual({ Key: 'vault-renewer:managed', Value: 'true' });
      expect(result.stderr).toContain(`secret ${id}: tagged vault-renewer:managed=true`);
    }
  }, 30_000);

  it('tags each secret by its access with secretAccess.byTag: AppRole read-only, the others read-write', async () => {
    const { fleet } = scenario;
    const entry = targetEntry('by-tag', [
      { name: 'db', secret: `${fleet.prefix}/by-tag/db`, reissuePath: 'database/creds/by-tag' },
    ]);
    const path = join(dir, 'by-tag.yaml');
    writeFileSync(
      path,
      stringifyYaml({
        ...configWith(fleet.env, [entry]),
        secretAccess: { byTag: { key: 'vault-renewer:access' } },
      }),
    );

    const result = await bootstrapTarget('by-tag', path);

    expect(result.code, result.stderr).toBe(0);
    const tagOf = async (id: string) =>
      (await fleet.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: id }))).Tags?.find(
        (t) => t.Key === 'vault-renewer:access',
      )?.Value;
    expect(await tagOf(entry.approle.secret)).toBe('read-only');
    expect(await tagOf(entry.tokenSecret)).toBe('read-write');
    expect(await tagOf(`${fleet.prefix}/by-tag/db`)).toBe('read-write');
  }, 30_000);

  it('rotates the secret_id on request: the new one is stored, the old one destroyed', async () => {
    // Prepare
    const { fleet } = scenario;
    const entry = targetEntry('rotating');
    const config = writeConfig('rotating.yaml', [entry]);
    const args = ['rotating', '--config', config, '--role-settings', roleSettings];
    expect((await bootstrap([...args, '--enable-approle'])).code).toBe(0);
    const before = await fleet.secretJson(entry.approle.secret);
    const [oldAccessor] = await secretIdAccessors('rotating');

    // Act
    const rotated = await bootstrap([...args, '--rotate-secret-id']);

    // Assess
    expect(rotated.code, rotated.stderr).toBe(0);
    const after = await fleet.secretJson(entry.approle.secret);
    expect(after.role_id).toBe(before.role_id);
    expect(after.secret_id).not.toBe(before.secret_id);
    const accessors = await secretIdAccessors('rotating');
    expect(accessors).toEqual([after.secret_id_accessor]);
    expect(accessors).not.toContain(oldAccessor);
    expect(await fleet.versionCount(entry.approle.secret)).toBe(2);
    // The new credentials were proven by a login, whose token is stored.
    const tokenDoc = await fleet.secretJson(entry.tokenSecret);
    expect((await lookupSelf(fleet, String(tokenDoc.token))).ok).toBe(true);
  }, 30_000);

  it('sets up the rotator: exactly secret-id and secret-id-accessor/destroy on the rotated roles, kept alive like a target', async () => {
    // Prepare
    const { fleet } = scenario;
    const app = { ...targetEntry('rot-app'), rotation: { approle: { everyDays: 30 } } };
    const rotator = targetEntry('rot-rotator');
    const config = writeConfig('rotator.yaml', [app, rotator], {
      rotation: { rotator: 'rot-rotator' },
    });
    const common = ['--config', config, '--role-settings', roleSettings, '--enable-approle'];

    // Act
    const appRun = await bootstrap(['rot-app', ...common]);
    const rotatorRun = await bootstrap(['rot-rotator', ...common]);

    // Assess
    expect(appRun.code, appRun.stderr).toBe(0);
    expect(rotatorRun.code, rotatorRun.stderr).toBe(0);
    const policy = (
      (await fleet.vault('GET', 'sys/policies/acl/vault-renewer-rotator')) as {
        data: { policy: string };
      }
    ).data.policy;
    const paths = [...policy.matchAll(/^path "([^"]+)"/gm)].map((m) => m[1]);
    const base = `auth/${fleet.approleMount}/role/rot-app`;
    expect(paths).toEqual([`${base}/secret-id`, `${base}/secret-id-accessor/destroy`]);
    const token = String((await fleet.secretJson(rotator.tokenSecret)).token);
    const self = await lookupSelf(fleet, token);
    expect(self.ok && self.data.policies).toEqual(
      expect.arrayContaining(['vault-renewer-rot-rotator', 'vault-renewer-rotator']),
    );
    expect(self.ok && self.data.policies).not.toContain('root');
    // Issues and destroys secret_ids of the rotated role, and reads nothing.
    const issued = (await fleet.vault('POST', `${base}/secret-id`, {}, token)) as {
      data: { secret_id_accessor: string };
    };
    await fleet.vault(
      'POST',
      `${base}/secret-id-accessor/destroy`,
      { secret_id_accessor: issued.data.secret_id_accessor },
      token,
    );
    await expect(fleet.vault('GET', `${base}/role-id`, undefined, token)).rejects.toThrow(/403/);
    await expect(
      fleet.vault('POST', `auth/${fleet.approleMount}/role/rot-rotator/secret-id`, {}, token),
    ).rejects.toThrow(/403/);
  }, 30_000);

  it('replaces a root token found in the token secret, keeping the keys it does not own', async () => {
    // Prepare: someone stored the root token (failure 2 of the design)
    const { fleet } = scenario;
    const entry = targetEntry('was-root');
    await fleet.createSecret(
      entry.tokenSecret,
      JSON.stringify({ token: fleet.env.VAULT_TOKEN, owner: 'team-x' }),
    );
    const config = writeConfig('was-root.yaml', [entry]);

    // Act
    const run = await bootstrapTarget('was-root', config);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/stored token is a ROOT token/);
    expect(run.stderr).not.toContain(fleet.env.VAULT_TOKEN);
    const stored = await fleet.secretJson(entry.tokenSecret);
    expect(stored.token).not.toBe(fleet.env.VAULT_TOKEN);
    expect(stored.owner).toBe('team-x');
    const looked = await lookupSelf(fleet, String(stored.token));
    expect(looked.ok && looked.data.policies).toEqual(['vault-renewer-was-root']);
  }, 30_000);

  it('tells a live stored token that may not look itself up from a dead one, and replaces it', async () => {
    // Prepare: a live token whose policy lets it renew itself and ask its
    // capabilities, but not look itself up (no default policy): its lookup-self
    // is the same plain 403 a dead token gets
    const { fleet } = scenario;
    await fleet.vault('PUT', `sys/policies/acl/${fleet.prefix}-renew-only`, {
      policy: [
        'path "auth/token/renew-self" { capabilities = ["update"] }',
        'path "sys/capabilities-self" { capabilities = ["update"] }',
      ].join('\n'),
    });
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: [`${fleet.prefix}-renew-only`],
      no_default_policy: true,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const entry = targetEntry('blind-token');
    await fleet.createSecret(
      entry.tokenSecret,
      JSON.stringify({ token: created.auth.client_token }),
    );
    const config = writeConfig('blind-token.yaml', [entry]);

    // Act
    const run = await bootstrapTarget('blind-token', config);

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/stored token may not look itself up/);
    expect(run.stderr).not.toMatch(/invalid, expired or revoked/);
    expect(run.stderr).not.toContain(created.auth.client_token);
    const stored = await fleet.secretJson(entry.tokenSecret);
    expect(stored.token).not.toBe(created.auth.client_token);
  }, 30_000);

  it('refuses to store a root token even when the login answers with one, and writes nothing', async () => {
    // Prepare: a proxy in front of OpenBao answers the AppRole login with the root token
    const { fleet } = scenario;
    const entry = targetEntry('root-login');
    const config = writeConfig('root-login.yaml', [entry]);
    const root = await lookupSelf(fleet, fleet.env.VAULT_TOKEN);
    const proxy = await startFaultProxy(fleet.env.VAULT_ADDR);
    proxy.addFault({
      match: { method: 'POST', path: `/v1/auth/${fleet.approleMount}/login` },
      status: 200,
      body: {
        auth: {
          client_token: fleet.env.VAULT_TOKEN,
          accessor: root.ok ? root.data.accessor : '',
          lease_duration: 0,
          renewable: false,
          policies: ['root'],
          token_type: 'service',
        },
      },
    });

    try {
      // Act
      const run = await bootstrap([
        'root-login',
        '--config',
        config,
        '--role-settings',
        roleSettings,
        '--enable-approle',
        '--vault-addr',
        proxy.url,
      ]);

      // Assess
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/refusing to store the token: it is a ROOT token/);
      expect(`${run.stdout}${run.stderr}`).not.toContain(fleet.env.VAULT_TOKEN);
      expect(await secretExists(entry.tokenSecret)).toBe(false);
      expect(await secretExists(entry.approle.secret)).toBe(false);
      // The secret_id issued for the failed attempt is destroyed again.
      expect(await secretIdAccessors('root-login')).toEqual([]);
    } finally {
      await proxy.close();
    }
  }, 30_000);

  it('refuses to give a workload the root policy before changing anything', async () => {
    // Prepare
    const { fleet } = scenario;
    const config = writeConfig('root-policy.yaml', [targetEntry('root-policy')]);

    // Act
    const run = await bootstrap([
      'root-policy',
      '--config',
      config,
      '--role-settings',
      roleSettings,
      '--policy',
      'root',
    ]);

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/must never carry the root policy/);
    await expect(fleet.vault('GET', `auth/${fleet.approleMount}/role/root-policy`)).rejects.toThrow(
      /404/,
    );
  }, 30_000);
});

describe('the shipped AppRole role settings (infra/vault/approle-role.yaml)', () => {
  it('pass the bootstrap checks for the shipped 15-minute schedule without a warning', () => {
    const { settings, warnings } = loadRoleSettings(DEFAULT_ROLE_SETTINGS, 15 * 60);
    expect(warnings).toEqual([]);
    expect(settings).toMatchObject({
      token_type: 'service',
      token_period: 0,
      bind_secret_id: true,
    });
    // Far from the horizon, so a run logs in again about once a day, not every run.
    expect(settings.token_max_ttl).toBeGreaterThan(10 * horizonSeconds(15 * 60));
  });

  it('are refused when they would make every run log in again', () => {
    expect(() => loadRoleSettings(DEFAULT_ROLE_SETTINGS, 24 * 3600)).toThrow(
      /token_max_ttl: 86400 s is inside the renewer's horizon/,
    );
  });
});
