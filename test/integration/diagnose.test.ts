/**
 * The real diagnose handler against the local stack (OpenBao, moto,
 * PostgreSQL): a healthy fleet is all green; each failure mode of design.md
 * gets its verdict and a fix naming the target's real role, mount and paths;
 * a run without `login` changes nothing in Vault or Secrets Manager; and no
 * token, secret_id, accessor, lease id or password reaches the output, the
 * table, the logs, the SNS summary or an error.
 */

import { inspect } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDiagnoseHandler,
  type DiagnoseResult,
} from '../../functions/app/diagnose-handler.js';
import { createSecretStagingStore } from '../../functions/aws/secret-staging.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { parseConfig } from '../../functions/config/load.js';
import type { Check } from '../../functions/diagnosis/check.js';
import type { TargetDiagnosis } from '../../functions/diagnosis/report.js';
import { parseDiagnosisSummary } from '../../functions/diagnosis/summary-message.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { shippedWorkloadPolicy } from '../../infra/vault/workload-policy.js';
import { Fleet, type SeededTarget } from '../../tools/local-stack/fleet.js';
import { type OpenBao, startOpenBao } from '../../tools/local-stack/openbao.js';
import { localRotationFunctionArn } from '../../tools/local-stack/rotation-function.js';
import { type StackEnv, vaultEnv } from '../../tools/local-stack/stack.js';
import {
  canLogin,
  configWith,
  createScenario,
  dbLease,
  HOUR,
  healthyRole,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

// ---------------------------------------------------------------------------
// The real handler, wired like functions/diagnose.ts, its output captured

interface DiagnoseHarness {
  /** Every line the handler's logger printed. */
  readonly output: string[];
  invoke(event: unknown): Promise<DiagnoseResult>;
  close(): Promise<void>;
}

const harnesses: DiagnoseHarness[] = [];
afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});

async function capturing<T>(sink: string[], fn: () => Promise<T>): Promise<T> {
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const grab = ((chunk: string | Uint8Array) => {
    sink.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = grab;
  process.stderr.write = grab;
  try {
    return await fn();
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

function diagnoseHarness(
  env: StackEnv,
  config: Record<string, unknown>,
  topicArn: string,
): DiagnoseHarness {
  const base = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
  const secretsManager = new SecretsManagerClient({
    ...base,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  });
  const sns = new SNSClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_SNS });
  const vault = createVaultClient({ retry: { maxAttempts: 2, baseDelayMs: 50, maxDelayMs: 200 } });
  const store = createSecretsManagerStore({ client: secretsManager });
  const handler = createDiagnoseHandler({
    config: parseConfig(JSON.stringify(config), { format: 'json' }),
    vault,
    store: { readBatch: store.readBatch },
    describe: { describe: createSecretStagingStore(secretsManager).describe },
    notifier: createSnsNotifier({ client: sns, topicArn }),
    logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'DEBUG' }),
  });
  const output: string[] = [];
  const harness: DiagnoseHarness = {
    output,
    invoke: (event) => {
      const deadline = Date.now() + 60_000;
      return capturing(output, () =>
        handler(event, {
          awsRequestId: `diagnose-${Math.random().toString(16).slice(2)}`,
          getRemainingTimeInMillis: () => deadline - Date.now(),
        }),
      );
    },
    close: async () => {
      await vault.close();
      secretsManager.destroy();
      sns.destroy();
    },
  };
  harnesses.push(harness);
  return harness;
}

// ---------------------------------------------------------------------------
// Helpers

/** A policy that also lets the token read its role, its mount's tuning and its secret_id's metadata. */
function inspectablePolicy(fleet: Fleet, role: string, credsPaths: readonly string[] = []): string {
  const mount = fleet.approleMount;
  return [
    shippedWorkloadPolicy(credsPaths),
    `path "auth/${mount}/role/${role}" { capabilities = ["read"] }`,
    `path "sys/mounts/auth/${mount}/tune" { capabilities = ["read"] }`,
    `path "auth/${mount}/role/${role}/secret-id/lookup" { capabilities = ["update"] }`,
  ].join('\n');
}

/** The database creds path the fleet creates for `target`'s lease `lease`. */
function credsPath(fleet: Fleet, target: string, lease = 'db'): string {
  return `${fleet.prefix}-db/creds/${target}-${lease}`;
}

function targetOf(result: DiagnoseResult, name: string): TargetDiagnosis {
  const found = result.targets.find((t) => t.target === name);
  if (found === undefined) throw new Error(`no diagnosis for ${name}`);
  return found;
}

function checkOf(target: TargetDiagnosis, id: string, lease?: string): Check {
  const found = target.checks.find((c) => c.id === id && c.lease === lease);
  if (found === undefined) throw new Error(`no check ${id} for ${target.target}`);
  return found;
}

/** `id` (or `id/lease`) → status, of the checks that did not pass. */
function troubles(target: TargetDiagnosis): Record<string, string> {
  return Object.fromEntries(
    target.checks
      .filter((c) => c.status === 'fail' || c.status === 'warn')
      .map((c) => [c.lease === undefined ? c.id : `${c.id}/${c.lease}`, c.status]),
  );
}

/** Seconds between two RFC3339 times. */
function secondsBetween(a: string, b: string): number {
  return Math.abs(Date.parse(a) - Date.parse(b)) / 1000;
}

// ---------------------------------------------------------------------------

let scenario: Scenario;
beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'dg');
});

function harnessFor(...targets: Record<string, unknown>[]): DiagnoseHarness {
  return diagnoseHarness(
    scenario.fleet.env,
    configWith(scenario.fleet.env, targets),
    scenario.alerts.topicArn,
  );
}

describe('diagnose on the local stack: a healthy fleet', () => {
  it('is all green, with the max TTL read from the role, and the login test only when asked', async () => {
    // Prepare
    const { fleet } = scenario;
    const seeded = await Promise.all(
      ['green-a', 'green-b'].map((name) =>
        fleet.target(
          name,
          { ...healthyRole, policy: inspectablePolicy(fleet, name, [credsPath(fleet, name)]) },
          { leases: [dbLease] },
        ),
      ),
    );
    const harness = harnessFor(...seeded.map((t) => fleet.targetConfig(t)));

    // Act
    const plain = await harness.invoke({});
    const withLogin = await harness.invoke({ login: true });

    // Assess
    expect(plain.summary).toEqual({ targets: 2, healthy: 2, atRisk: 0, broken: 0, unknown: 0 });
    for (const target of plain.targets) {
      expect(target.verdict).toBe('healthy');
      const notPassed = target.checks.filter((c) => c.status !== 'pass').map((c) => c.id);
      expect(notPassed).toEqual(['approle.login']);
      expect(checkOf(target, 'token.max-ttl').data).toMatchObject({
        source: 'role-token-max-ttl',
        assumed: false,
        maxTtlSeconds: 4 * HOUR,
      });
    }
    for (const target of withLogin.targets) {
      expect(target.checks.every((c) => c.status === 'pass')).toBe(true);
      expect(checkOf(target, 'approle.login').actual).toMatch(
        /^logged in: service token, renewable, TTL 1h, policies default, .*; test token revoked$/,
      );
    }
    expect(plain.schema).toBe('vault-renewer/diagnosis/v1');
    expect(plain.notification).toEqual({ requested: false });
    expect(plain.table.join('\n')).toContain('green-a: HEALTHY');
  });

  it('labels the max TTL an assumption when the workload token may not read its role', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('plain', healthyRole);
    const harness = harnessFor(fleet.targetConfig(target));

    const result = await harness.invoke({});

    const diagnosis = targetOf(result, 'plain');
    expect(diagnosis.verdict).toBe('healthy');
    const maxTtl = checkOf(diagnosis, 'token.max-ttl');
    expect(maxTtl.data).toMatchObject({ source: 'system-default', assumed: true });
    expect(maxTtl.actual).toContain(
      `768h system default, assumed: auth/${fleet.approleMount}/role/plain and sys/mounts/auth/${fleet.approleMount}/tune not readable`,
    );
    expect(checkOf(diagnosis, 'approle.role')).toMatchObject({
      status: 'skip',
      fix: expect.stringContaining(
        `path "auth/${fleet.approleMount}/role/plain" { capabilities = ["read"] }`,
      ),
    });
  });
});

describe('diagnose reports rotation', () => {
  it('says whether each secret rotates, when, and whether that matches the config', async () => {
    // Prepare: the token secret rotates every 30 days as configured; the AppRole secret
    // rotates although the config does not ask for it.
    const { fleet } = scenario;
    const target = await fleet.target('rotating', healthyRole);
    const functionArn = await localRotationFunctionArn(fleet.env);
    for (const secret of [target.approleSecret, target.tokenSecret]) {
      await fleet.aws.secretsManager.send(
        new RotateSecretCommand({
          SecretId: secret,
          RotationLambdaARN: functionArn,
          RotationRules: { AutomaticallyAfterDays: 30 },
          RotateImmediately: false,
        }),
      );
    }
    const harness = harnessFor(
      fleet.targetConfig(target, { rotation: { token: { everyDays: 30 } } }),
    );

    // Act
    const result = await harness.invoke({});

    // Assess
    const { rotation } = targetOf(result, 'rotating');
    expect(rotation?.token).toMatchObject({
      secret: target.tokenSecret,
      enabled: true,
      nextRotation: expect.any(String),
      configured: { AutomaticallyAfterDays: 30 },
      matchesConfig: true,
    });
    expect(rotation?.approle).toMatchObject({ enabled: true, matchesConfig: false });
    expect(result.table.join('\n')).toContain('rotation approle: enabled, last ');
    expect(result.table.join('\n')).toContain(
      'differs from the config: run npm run rotation:apply',
    );
  });
});

describe('diagnose on the local stack: each failure mode of design.md', () => {
  it('1: an expired token is broken, and the fix logs the target in again', async () => {
    const { fleet } = scenario;
    const target = await fleet.target(
      'expired',
      { tokenTtl: 2, tokenMaxTtl: 2 },
      { leases: [dbLease] },
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'expired');

    expect(diagnosis.verdict).toBe('broken');
    expect(troubles(diagnosis)).toEqual({ 'token.valid': 'fail' });
    const fix = checkOf(diagnosis, 'token.valid').fix;
    expect(fix).toContain('{"action": "relogin", "targets": ["expired"]}');
    expect(fix).toContain(`vault read auth/${fleet.approleMount}/role/expired`);
  });

  it('2: a stored root token is broken, and the fix replaces it', async () => {
    const { fleet } = scenario;
    const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
      auth: { client_token: string };
    };
    const target = await fleet.target('rooted', healthyRole, {
      storedToken: root.auth.client_token,
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'rooted');

    expect(diagnosis.verdict).toBe('broken');
    expect(troubles(diagnosis)).toEqual({ 'token.not-root': 'fail' });
    expect(checkOf(diagnosis, 'token.not-root').fix).toContain('npm run vault:bootstrap -- rooted');
  });

  it('3: a non-renewable token is at risk until it expires', async () => {
    const { fleet } = scenario;
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const target = await fleet.target('fixed', healthyRole, {
      storedToken: created.auth.client_token,
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'fixed');

    expect(diagnosis.verdict).toBe('at-risk');
    expect(troubles(diagnosis)).toEqual({ 'token.renewable': 'fail', 'token.origin': 'warn' });
    const expireTime = String(checkOf(diagnosis, 'token.ttl').data?.expireTime);
    expect(diagnosis.breaksAt).toBe(expireTime);
    expect(secondsBetween(expireTime, new Date().toISOString())).toBeGreaterThan(HOUR - 60);
    expect(checkOf(diagnosis, 'token.renewable').fix).toContain(
      `vault write auth/${fleet.approleMount}/role/fixed token_type=service`,
    );
  });

  it('3: a batch token is at risk until it expires', async () => {
    const { fleet } = scenario;
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      type: 'batch',
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const target = await fleet.target('batchy', healthyRole, {
      storedToken: created.auth.client_token,
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'batchy');

    expect(diagnosis.verdict).toBe('at-risk');
    expect(troubles(diagnosis)).toMatchObject({ 'token.type': 'fail' });
    expect(checkOf(diagnosis, 'token.type').fix).toBe(
      `vault write auth/${fleet.approleMount}/role/batchy token_type=service`,
    );
  });

  it('4: a policy without renew-self is at risk, and the fix adds the stanza to its policy', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('denied', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: [
        'path "auth/token/lookup-self" { capabilities = ["read"] }',
        'path "sys/capabilities-self" { capabilities = ["update"] }',
      ].join('\n'),
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'denied');

    expect(diagnosis.verdict).toBe('at-risk');
    expect(troubles(diagnosis)).toEqual({ 'capability.renew-self': 'fail' });
    expect(checkOf(diagnosis, 'capability.renew-self')).toMatchObject({
      actual: 'deny',
      fix: `Add to one of its policies (${fleet.prefix}-denied): path "auth/token/renew-self" { capabilities = ["update"] }`,
    });
    // It dies when its TTL runs out: nobody may renew it.
    expect(diagnosis.breaksAt).toBe(checkOf(diagnosis, 'token.ttl').data?.expireTime);
  });

  it('5: a token near its max TTL is at risk until the max, read from its role', async () => {
    const { fleet } = scenario;
    const target = await fleet.target(
      'capped',
      {
        tokenTtl: 60,
        tokenMaxTtl: 150,
        policy: inspectablePolicy(fleet, 'capped', [credsPath(fleet, 'capped')]),
      },
      { leases: [dbLease] },
    );
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'capped');

    expect(diagnosis.verdict).toBe('at-risk');
    expect(troubles(diagnosis)).toEqual({
      'token.ttl': 'warn',
      'token.max-ttl': 'warn',
      'approle.role': 'warn',
      'lease.parent/db': 'warn',
    });
    const maxTtl = checkOf(diagnosis, 'token.max-ttl');
    expect(maxTtl.data).toMatchObject({ source: 'role-token-max-ttl', maxTtlSeconds: 150 });
    expect(diagnosis.breaksAt).toBe(maxTtl.data?.deadline);
    expect(maxTtl.fix).toContain(
      `vault write auth/${fleet.approleMount}/role/capped token_max_ttl=24h`,
    );
    expect(checkOf(diagnosis, 'lease.parent', 'db').actual).toMatch(
      /^dies with its token at .*, before its own expiry /,
    );
  });

  it('6: a revoked token is broken, and its leases went with it', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('revoked', healthyRole, { leases: [dbLease] });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const lease = target.leases[0];
    await expect
      .poll(() => canLogin(fleet.env.DATABASE_URL, lease?.username ?? '', lease?.password ?? ''), {
        timeout: 10_000,
      })
      .toBe(false);
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'revoked');

    expect(diagnosis.verdict).toBe('broken');
    expect(troubles(diagnosis)).toEqual({ 'token.valid': 'fail' });
    expect(checkOf(diagnosis, 'lease.present', 'db')).toMatchObject({
      status: 'skip',
      actual: 'not checked: the stored token is invalid; a lease it created was revoked with it',
      fix: expect.stringContaining(`re-issues it from ${credsPath(fleet, 'revoked')}`),
    });
  });

  it('7: a lease that is gone is broken, the other lease of the target is fine', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('leaky', healthyRole, {
      leases: [dbLease, { ...dbLease, name: 'db2' }],
    });
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: target.leases[0]?.leaseId });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({}), 'leaky');

    expect(diagnosis.verdict).toBe('broken');
    expect(troubles(diagnosis)).toEqual({ 'lease.present/db': 'fail' });
    expect(checkOf(diagnosis, 'lease.present', 'db')).toMatchObject({
      actual: expect.stringContaining('invalid lease'),
      fix: expect.stringContaining(
        `re-issues it from ${credsPath(fleet, 'leaky')} on its next run (to do it now, invoke the renew function with {"targets": ["leaky"]}); consumers must then re-read ${target.leases[0]?.secret}`,
      ),
    });
    expect(checkOf(diagnosis, 'lease.present', 'db2').status).toBe('pass');
  });

  it('8: a used-up secret_id is found by its lookup, and a login test confirms it', async () => {
    const { fleet } = scenario;
    // The seeding login spent the only use.
    const target = await fleet.target('spent', {
      ...healthyRole,
      secretIdNumUses: 1,
      policy: inspectablePolicy(fleet, 'spent'),
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const diagnosis = targetOf(await harness.invoke({ login: true }), 'spent');

    // The stored token still works: the target breaks when it must be replaced.
    expect(diagnosis.verdict).toBe('at-risk');
    expect(troubles(diagnosis)).toEqual({ 'approle.secret-id': 'fail', 'approle.login': 'fail' });
    expect(diagnosis.breaksAt).toBe(checkOf(diagnosis, 'token.max-ttl').data?.deadline);
    expect(checkOf(diagnosis, 'approle.secret-id').actual).toBe(
      'Vault does not know this secret_id: it is wrong, expired or used up',
    );
    const login = checkOf(diagnosis, 'approle.login');
    expect(login.actual).toContain('invalid role or secret ID');
    expect(login.fix).toContain(`vault write -f auth/${fleet.approleMount}/role/spent/secret-id`);
    expect(login.fix).toContain(target.approleSecret);
  });

  it('8: a wrong secret_id fails the login test; without "login" it is not tried', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('wrongid', healthyRole, {
      storedSecretId: '00000000-0000-4000-8000-000000000000',
    });
    const harness = harnessFor(fleet.targetConfig(target));

    const without = targetOf(await harness.invoke({}), 'wrongid');
    const withLogin = targetOf(await harness.invoke({ login: true }), 'wrongid');

    // The token may look its own secret_id up (the workload policy grants it), so
    // diagnose already sees that Vault does not know it, without spending a login.
    expect(without.verdict).toBe('at-risk');
    expect(Object.keys(troubles(without))).toEqual(['approle.secret-id']);
    expect(checkOf(without, 'approle.login').status).toBe('skip');
    expect(withLogin.verdict).toBe('at-risk');
    expect(troubles(withLogin)).toEqual({ 'approle.secret-id': 'fail', 'approle.login': 'fail' });
    expect(checkOf(withLogin, 'approle.login').fix).toContain(
      `vault read auth/${fleet.approleMount}/role/wrongid`,
    );
  });

  describe('9: Vault sealed (a private OpenBao)', () => {
    let bao: OpenBao;
    beforeAll(async () => {
      bao = await startOpenBao();
    });
    afterAll(async () => {
      await bao?.stop();
    });

    it('is broken, says to unseal, and skips every other Vault check', async () => {
      const env: StackEnv = { ...stackEnv(), ...vaultEnv(bao) };
      const fleet = new Fleet(env, uniqueName('dgs'));
      const target = await fleet.target('sealed', healthyRole);
      const alerts = await fleet.subscriber();
      const harness = diagnoseHarness(
        env,
        configWith(env, [fleet.targetConfig(target)]),
        alerts.topicArn,
      );
      await bao.seal();

      const result = await harness.invoke({ login: true });

      const diagnosis = targetOf(result, 'sealed');
      expect(diagnosis.verdict).toBe('broken');
      expect(troubles(diagnosis)).toEqual({ 'vault.health': 'fail' });
      expect(checkOf(diagnosis, 'vault.health')).toMatchObject({
        actual: expect.stringContaining('SEALED'),
        fix: expect.stringContaining('vault operator unseal'),
      });
      for (const id of ['token.valid', 'capability.renew-self', 'approle.login']) {
        expect(checkOf(diagnosis, id).status).toBe('skip');
      }
      expect(checkOf(diagnosis, 'token.secret').status).toBe('pass');
      await bao.unseal();
    });
  });
});

describe('diagnose changes nothing without "login"', () => {
  it('leaves Secrets Manager versions, token TTLs, renewal times, leases and secret_id uses as they were', async () => {
    // Prepare
    const { fleet } = scenario;
    const targets = await Promise.all([
      fleet.target(
        'still-a',
        {
          ...healthyRole,
          secretIdNumUses: 5,
          policy: inspectablePolicy(fleet, 'still-a', [credsPath(fleet, 'still-a')]),
        },
        { leases: [dbLease] },
      ),
      fleet.target('still-b', healthyRole, { leases: [dbLease, { ...dbLease, name: 'db2' }] }),
    ]);
    // A gone lease, so diagnose has something to be tempted to repair.
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: targets[1]?.leases[1]?.leaseId });
    const harness = harnessFor(...targets.map((t) => fleet.targetConfig(t)));
    const snapshot = async () => ({
      secrets: await Promise.all(
        targets.flatMap((t) =>
          [t.tokenSecret, t.approleSecret, ...t.leases.map((l) => l.secret)].map(async (s) => ({
            s,
            versions: await fleet.versionCount(s),
            value: await fleet.secretValue(s),
          })),
        ),
      ),
      tokens: await Promise.all(
        targets.map(async (t) => {
          const looked = (await fleet.vault('POST', 'auth/token/lookup-accessor', {
            accessor: t.accessor,
          })) as { data: Record<string, unknown> };
          const { ttl: _ttl, ...stable } = looked.data;
          return stable;
        }),
      ),
      leases: await Promise.all(
        targets.flatMap((t) =>
          t.leases.map(async (l) => {
            try {
              const looked = (await fleet.vault('POST', 'sys/leases/lookup', {
                lease_id: l.leaseId,
              })) as { data: Record<string, unknown> };
              const { ttl: _ttl, ...stable } = looked.data;
              return stable;
            } catch (error) {
              return { gone: (error as Error).message.includes('invalid lease') };
            }
          }),
        ),
      ),
      secretIdUses: (
        (await fleet.vault('POST', `auth/${fleet.approleMount}/role/still-a/secret-id/lookup`, {
          secret_id: targets[0]?.secretId,
        })) as { data: { secret_id_num_uses: number } }
      ).data.secret_id_num_uses,
    });
    const before = await snapshot();
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    // Act
    const result = await harness.invoke({ notify: false });

    // Assess
    expect(targetOf(result, 'still-a').verdict).toBe('healthy');
    expect(targetOf(result, 'still-b').verdict).toBe('broken');
    const after = await snapshot();
    expect(after).toEqual(before);
    expect(before.secrets.every((s) => s.versions === 1)).toBe(true);
    for (const token of after.tokens) expect(token.last_renewal_time).toBeUndefined();
    expect(after.leases).toContainEqual({ gone: true });
    expect(after.leases.filter((l) => 'last_renewal' in l && l.last_renewal !== null)).toEqual([]);
    expect(after.secretIdUses).toBe(4);
  });

  it('with "login": true spends one secret_id use and revokes its test token', async () => {
    const { fleet } = scenario;
    const target = await fleet.target('tested', { ...healthyRole, secretIdNumUses: 5 });
    const harness = harnessFor(fleet.targetConfig(target));
    const usesLeft = async () =>
      (
        (await fleet.vault('POST', `auth/${fleet.approleMount}/role/tested/secret-id/lookup`, {
          secret_id: target.secretId,
        })) as { data: { secret_id_num_uses: number } }
      ).data.secret_id_num_uses;
    /** Live tokens this target's role issued (the accessor list is shared by every test). */
    const liveRoleTokens = async () => {
      const listed = (await fleet.vault('GET', 'auth/token/accessors?list=true')) as {
        data: { keys: string[] };
      };
      const mine = await Promise.all(
        listed.data.keys.map(async (accessor) => {
          try {
            const looked = (await fleet.vault('POST', 'auth/token/lookup-accessor', {
              accessor,
            })) as { data: { path: string; meta: Record<string, string> | null } };
            return (
              looked.data.path === `auth/${fleet.approleMount}/login` &&
              looked.data.meta?.role_name === 'tested'
            );
          } catch {
            return false; // revoked meanwhile by another test
          }
        }),
      );
      return mine.filter(Boolean).length;
    };
    expect(await usesLeft()).toBe(4);
    expect(await liveRoleTokens()).toBe(1);

    const result = await harness.invoke({ login: true });

    expect(checkOf(targetOf(result, 'tested'), 'approle.login').actual).toContain(
      'test token revoked',
    );
    expect(await usesLeft()).toBe(3);
    expect(await liveRoleTokens()).toBe(1);
  });
});

// ---------------------------------------------------------------------------
// Redaction

interface Plant {
  readonly label: string;
  readonly value: string;
}

interface Evidence {
  readonly where: string;
  readonly text: string;
}

/** A leak may be cut short: the tail of a long value is searched too. */
const TAIL_CHARS = 12;

function leaksIn(evidence: readonly Evidence[], plants: readonly Plant[]): string[] {
  return evidence.flatMap(({ where, text }) =>
    plants
      .filter(({ value }) => text.includes(value) || text.includes(value.slice(-TAIL_CHARS)))
      .map(({ label }) => `${label} in ${where}`),
  );
}

function errorEvidence(error: unknown, where: string): Evidence[] {
  const evidence: Evidence[] = [
    { where: `${where} (inspect)`, text: inspect(error, { depth: 10 }) },
  ];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    evidence.push({ where: `${where} (String ${depth})`, text: String(current) });
    if (current instanceof Error) {
      evidence.push({ where: `${where} (stack ${depth})`, text: current.stack ?? '' });
    }
    current = (current as { cause?: unknown }).cause;
  }
  return evidence;
}

describe('diagnose redaction: secrets never reach its output, table, logs, SNS summary or errors', () => {
  const plants: Plant[] = [];
  const evidence: Evidence[] = [];
  let result: DiagnoseResult;
  let harness: DiagnoseHarness;
  let targets: Record<string, SeededTarget> = {};
  const plantedSecretId = `PLANTED-SECRET-ID-${Math.random().toString(16).slice(2, 14)}`;

  beforeAll(async () => {
    // Prepare: secrets right where a careless check, error or message would quote them
    const env = stackEnv();
    const redactScenario = await createScenario(env, 'dgr');
    const { fleet, alerts } = redactScenario;
    const seeded = await Promise.all([
      fleet.target(
        'well',
        { ...healthyRole, policy: inspectablePolicy(fleet, 'well', [credsPath(fleet, 'well')]) },
        { leases: [dbLease] },
      ),
      fleet.target(
        'badid',
        { ...healthyRole, policy: inspectablePolicy(fleet, 'badid') },
        { storedSecretId: plantedSecretId },
      ),
      fleet.target('dead', healthyRole, { leases: [dbLease] }),
      fleet.target('malformed', healthyRole),
      fleet.target('badlease', healthyRole, { leases: [dbLease] }),
    ]);
    targets = Object.fromEntries(seeded.map((t) => [t.name, t]));
    const t = (name: string) => targets[name] as SeededTarget;
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: t('dead').accessor });
    const put = (secret: string, value: string) =>
      fleet.aws.secretsManager.send(
        new PutSecretValueCommand({ SecretId: secret, SecretString: value }),
      );
    await put(
      t('malformed').tokenSecret,
      `token=${t('malformed').token}\nsecret_id=${t('malformed').secretId}`,
    );
    const badLease = t('badlease').leases[0];
    await put(
      badLease?.secret ?? '',
      JSON.stringify({
        lease_id: 42,
        lease: badLease?.leaseId,
        data: { username: badLease?.username, password: badLease?.password },
      }),
    );
    harness = diagnoseHarness(
      env,
      configWith(
        env,
        seeded.map((target) => fleet.targetConfig(target)),
      ),
      alerts.topicArn,
    );

    // Act: a full run with the login test and the SNS summary, then refused events
    result = await harness.invoke({ login: true, notify: true });
    const [summary] = await alerts.receive(1, 10_000);
    evidence.push(
      { where: 'returned JSON', text: JSON.stringify(result) },
      { where: 'table text', text: result.table.join('\n') },
      { where: 'SNS subject', text: summary?.subject ?? '' },
      { where: 'SNS body', text: summary?.body ?? '' },
      { where: 'SNS attributes', text: JSON.stringify(summary?.attributes ?? {}) },
    );
    const refused: Record<string, unknown> = {
      'secrets as values': { login: t('well').token, notify: t('well').secretId },
      'a secret_id as a target': { targets: [t('well').secretId] },
      'a token as a key': { [t('well').token]: true },
      'a password as targets': { targets: t('well').leases[0]?.password },
    };
    for (const [name, event] of Object.entries(refused)) {
      try {
        await harness.invoke(event);
        evidence.push({ where: `event ${name}`, text: 'NOT REFUSED' });
      } catch (error) {
        evidence.push(...errorEvidence(error, `error of ${name}`));
      }
    }
    evidence.push(...harness.output.map((text, i) => ({ where: `log line ${i}`, text })));

    for (const target of seeded) {
      plants.push(
        { label: `token of ${target.name}`, value: target.token },
        { label: `accessor of ${target.name}`, value: target.accessor },
        { label: `secret_id of ${target.name}`, value: target.secretId },
        ...target.leases.flatMap((l) => [
          { label: `lease id of ${target.name}/${l.name}`, value: l.leaseId },
          { label: `password of ${target.name}/${l.name}`, value: l.password },
        ]),
      );
    }
    plants.push({ label: 'planted wrong secret_id', value: plantedSecretId });
  }, 90_000);

  it('really ran where the secrets are (the scan below can fail)', () => {
    expect(result.summary.targets).toBe(5);
    expect(targetOf(result, 'badid').checks.find((c) => c.id === 'approle.login')?.status).toBe(
      'fail',
    );
    expect(targetOf(result, 'dead').verdict).toBe('broken');
    expect(checkOf(targetOf(result, 'malformed'), 'token.secret').status).toBe('fail');
    expect(checkOf(targetOf(result, 'badlease'), 'lease.secret', 'db').status).toBe('fail');
    expect(checkOf(targetOf(result, 'well'), 'approle.login').status).toBe('pass');
    expect(result.notification).toEqual({ requested: true, published: true });
    expect(
      parseDiagnosisSummary(evidence.find((e) => e.where === 'SNS body')?.text ?? ''),
    ).toMatchObject({
      schema: 'vault-renewer/diagnosis-summary/v1',
      summary: { targets: 5 },
    });
    expect(evidence.filter((e) => e.where.startsWith('error of')).length).toBeGreaterThanOrEqual(4);
    expect(evidence.some((e) => e.text === 'NOT REFUSED')).toBe(false);
    expect(harness.output.length).toBeGreaterThan(5);
    // The scanner finds a plant whole or cut short.
    for (const plant of plants) {
      expect(plant.value.length).toBeGreaterThanOrEqual(20);
      expect(
        leaksIn([{ where: 'probe', text: `x${plant.value.slice(-TAIL_CHARS)}` }], [plant]),
      ).toHaveLength(1);
    }
  });

  it('no planted value appears anywhere diagnose writes', () => {
    expect(leaksIn(evidence, plants)).toEqual([]);
  });
});
