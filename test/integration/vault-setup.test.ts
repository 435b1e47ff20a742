/**
 * `npm run vault:setup` end to end on the local stack: the real command in a
 * child process, as an operator runs it, against OpenBao and moto. A plan
 * changes nothing; an apply sets every target up; a second run is
 * unchanged; a target removed from the config is retired only on request
 * and only in what the set-up created; an interrupted apply goes on.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as stringifyYaml } from 'yaml';
import { TARGET_CLAIM } from '../../scripts/bootstrap/jwt-setup.js';
import { localRotationFunctionArn } from '../../tools/local-stack/rotation-function.js';
import { localIssuerUrl } from '../../tools/local-stack/stack.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import { configWith, createScenario, lookupSelf, type Scenario } from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const SCRIPT = join(REPO_ROOT, 'scripts/bootstrap/setup-main.ts');

interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

let scenario: Scenario;
let dir: string;
/** Each test's own fleet name: no other set-up on the shared stack is its to retire. */
let fleetName = '';

function roleSettings(file: string, tokenTtl: number): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    stringifyYaml({
      token_type: 'service',
      token_ttl: tokenTtl,
      token_max_ttl: 4 * 3600,
      token_period: 0,
      token_explicit_max_ttl: 0,
      token_num_uses: 0,
      token_no_default_policy: true,
      bind_secret_id: true,
      secret_id_ttl: 0,
      secret_id_num_uses: 0,
      secret_id_bound_cidrs: [],
    }),
  );
  return path;
}

beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'vs');
  dir = mkdtempSync(join(tmpdir(), 'vault-setup-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the real command as the suite's fleet (or `options.fleet`);
 * `options.interruptWhen` sends SIGINT once stderr matches it.
 */
function setup(
  args: readonly string[],
  options: { readonly fleet?: string; readonly interruptWhen?: RegExp } = {},
): Promise<CliResult> {
  const { interruptWhen } = options;
  const env = scenario.fleet.env;
  return new Promise((done, fail) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', SCRIPT, '--fleet', options.fleet ?? fleetName, ...args],
      {
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: dir,
          NODE_NO_WARNINGS: '1',
          VAULT_TOKEN: env.VAULT_TOKEN,
          AWS_REGION: env.AWS_REGION,
          AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID,
          AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY,
          AWS_ENDPOINT_URL_SECRETS_MANAGER: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      if (!interrupted && interruptWhen?.test(stderr) === true) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

function targetEntry(name: string, leases: readonly Record<string, unknown>[] = []) {
  const { fleet } = scenario;
  return {
    name,
    tokenSecret: `${fleet.prefix}/${name}/token`,
    approle: { secret: `${fleet.prefix}/${name}/approle`, mount: fleet.approleMount, role: name },
    ...(leases.length === 0 ? {} : { leases }),
  };
}

function writeConfig(file: string, targets: readonly Record<string, unknown>[]): string {
  const path = join(dir, file);
  writeFileSync(path, stringifyYaml(configWith(scenario.fleet.env, targets)));
  return path;
}

async function readPolicy(name: string): Promise<string | undefined> {
  try {
    const answer = (await scenario.fleet.vault('GET', `sys/policies/acl/${name}`)) as {
      data: { policy: string };
    };
    return answer.data.policy;
  } catch (error) {
    if (/404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function readRole(name: string): Promise<Record<string, unknown> | undefined> {
  const { fleet } = scenario;
  try {
    const answer = (await fleet.vault('GET', `auth/${fleet.approleMount}/role/${name}`)) as {
      data: Record<string, unknown>;
    };
    return answer.data;
  } catch (error) {
    if (/404/.test((error as Error).message)) return undefined;
    throw error;
  }
}

async function describeSecret(name: string) {
  return scenario.fleet.aws.secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
}

/** The target names of stdout's lines with `status`. */
function withStatus(stdout: string, status: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.split('  ')[1] === status)
    .map((line) => line.split('  ')[0] ?? '')
    .sort();
}

describe('vault:setup on the local stack', () => {
  it('plans without changing anything, applies, and then finds every target unchanged', async () => {
    // Prepare: three targets, one with a database lease, none known to Vault or AWS yet
    const { fleet } = scenario;
    fleetName = `${fleet.prefix}-plan`;
    const names = ['sa', 'sb', 'sc'].map((n) => `${fleet.prefix}-${n}`);
    const [first = '', second = '', third = ''] = names;
    const credsPath = await fleet.databaseRole('setup-db', 300, 600);
    const config = writeConfig('fleet.yaml', [
      {
        ...targetEntry(first, [
          { name: 'db', secret: `${fleet.prefix}/${first}/db`, reissuePath: credsPath },
        ]),
        rotation: { token: { everyDays: 7 } },
      },
      targetEntry(second),
      targetEntry(third),
    ]);
    const settings = roleSettings('role.yaml', 3600);
    const functionArn = await localRotationFunctionArn(fleet.env);
    const common = [
      '--config',
      config,
      '--role-settings',
      settings,
      '--enable-approle',
      '--function-arn',
      functionArn,
    ];
    await fleet.vault('POST', `sys/auth/${fleet.approleMount}`, { type: 'approle' });

    // Act 1: plan
    const plan = await setup(common);

    // Assess 1: every target would be created, nothing was
    expect(plan.code, plan.stderr).toBe(0);
    expect(withStatus(plan.stdout, 'create')).toEqual(names);
    expect(plan.stdout).toMatch(/3 targets: 3 create \(plan only/);
    expect(plan.stdout).toContain(`secret create ${fleet.prefix}/${first}/db`);
    expect(plan.stdout).toContain(`rotation apply ${fleet.prefix}/${first}/token`);
    expect(await readPolicy(`vault-renewer-${first}`)).toBeUndefined();
    expect(await readRole(first)).toBeUndefined();

    // Act 2: apply, every step on stderr
    const applied = await setup([...common, '--apply', '--verbose']);

    // Assess 2: both sides set up, marked as the set-up's, with a working token
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toMatch(/3 targets: 3 create\n/);
    expect(applied.stderr).toMatch(/applying: 3\/3/);
    for (const name of names) {
      const policy = await readPolicy(`vault-renewer-${name}`);
      expect(policy).toContain(`# fleet: ${fleetName}\n# target: ${name}\n`);
      expect(policy).toContain(`# role: auth/${fleet.approleMount}/role/${name} (created)`);
      const token = (await fleet.secretJson(`${fleet.prefix}/${name}/token`)).token as string;
      const looked = await lookupSelf(fleet, token);
      expect(looked.ok && looked.data.policies).toContain(`vault-renewer-${name}`);
      const tags = (await describeSecret(`${fleet.prefix}/${name}/token`)).Tags;
      expect(tags).toContainEqual({ Key: 'vault-renewer-fleet', Value: fleetName });
      expect(tags).toContainEqual({ Key: 'vault-renewer-target', Value: name });
      // Planted values: no token or secret_id reaches the output.
      const approle = await fleet.secretJson(`${fleet.prefix}/${name}/approle`);
      for (const secret of [token, approle.secret_id as string]) {
        expect(`${applied.stdout}${applied.stderr}`).not.toContain(secret);
      }
    }
    expect(await fleet.secretValue(`${fleet.prefix}/${first}/db`)).toBe('{}');
    expect(await describeSecret(`${fleet.prefix}/${first}/token`)).toMatchObject({
      RotationEnabled: true,
      RotationLambdaARN: functionArn,
      RotationRules: { AutomaticallyAfterDays: 7 },
    });
    const versions = await Promise.all(
      names.map((n) => fleet.versionCount(`${fleet.prefix}/${n}/token`)),
    );

    // Act 3: apply again
    const again = await setup([...common, '--apply']);

    // Assess 3: unchanged, and no secret got a new version
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toBe('3 targets: 3 unchanged\n');
    expect(
      await Promise.all(names.map((n) => fleet.versionCount(`${fleet.prefix}/${n}/token`))),
    ).toEqual(versions);

    // Act 4: a longer token_ttl in the role settings
    const changed = await setup([
      '--config',
      config,
      '--role-settings',
      roleSettings('longer.yaml', 7200),
    ]);

    // Assess 4: each role is an update that names the setting
    expect(changed.code, changed.stderr).toBe(0);
    expect(withStatus(changed.stdout, 'update')).toEqual(names);
    expect(changed.stdout).toContain(
      `role update auth/${fleet.approleMount}/role/${second} (token_ttl 3600 -> 7200)`,
    );
  }, 120_000);

  it('retires a removed target only with --retire, and only in what the set-up created', async () => {
    // Prepare: three targets set up; one of them on a role that existed before, with
    // another team's policy; a foreign secret beside them; a target of another fleet.
    const { fleet } = scenario;
    fleetName = `${fleet.prefix}-retire`;
    const [kept = '', gone = '', adopted = ''] = ['rk', 'rg', 'ra'].map(
      (n) => `${fleet.prefix}-${n}`,
    );
    await fleet.vault('POST', `auth/${fleet.approleMount}/role/${adopted}`, {
      token_policies: ['another-team'],
      token_ttl: 3600,
    });
    const foreign = `${fleet.prefix}/${gone}/notes`;
    await fleet.createSecret(foreign, '{"kept": true}');
    const settings = roleSettings('retire-role.yaml', 3600);
    const credsPath = await fleet.databaseRole('retire-db', 3600, 7200);
    const leaseSecret = `${fleet.prefix}/${gone}/db`;
    const all = writeConfig('retire-all.yaml', [
      targetEntry(kept),
      targetEntry(gone, [{ name: 'db', secret: leaseSecret, reissuePath: credsPath }]),
      targetEntry(adopted),
    ]);
    const set = await setup(['--config', all, '--role-settings', settings, '--apply']);
    expect(set.code, set.stderr).toBe(0);
    // The lease the renewer would have issued with the target's token.
    const token = (await fleet.secretJson(`${fleet.prefix}/${gone}/token`)).token as string;
    const lease = await fleet.issueLease(token, credsPath);
    await fleet.putSecret(
      leaseSecret,
      JSON.stringify({ lease_id: lease.lease_id, managed_by: 'vault-renewer' }),
    );
    const otherFleet = `${fleet.prefix}-other`;
    const other = await setup(
      [
        '--config',
        writeConfig('other.yaml', [targetEntry(otherFleet)]),
        '--role-settings',
        settings,
        '--apply',
      ],
      { fleet: otherFleet },
    );
    expect(other.code, other.stderr).toBe(0);
    const goneToken = (await fleet.secretJson(`${fleet.prefix}/${gone}/token`)).token as string;
    const adoptedToken = (await fleet.secretJson(`${fleet.prefix}/${adopted}/token`))
      .token as string;
    const onlyKept = writeConfig('retire-kept.yaml', [targetEntry(kept)]);
    const common = ['--config', onlyKept, '--role-settings', settings];

    // Act 1: plan, and apply without --retire
    const plan = await setup(common);
    const left = await setup([...common, '--apply']);

    // Assess 1: both are retirable, nothing was retired
    expect(plan.code, plan.stderr).toBe(0);
    expect(withStatus(plan.stdout, 'retire')).toEqual([adopted, gone].sort());
    expect(plan.stdout).not.toContain(otherFleet);
    expect(plan.stdout).toContain(`role delete auth/${fleet.approleMount}/role/${gone}`);
    expect(plan.stdout).toContain(
      `role update auth/${fleet.approleMount}/role/${adopted} (token_policies - vault-renewer-${adopted})`,
    );
    expect(left.code, left.stderr).toBe(0);
    expect(left.stdout).toMatch(/the targets to retire were left: --apply --retire/);
    expect((await lookupSelf(fleet, goneToken)).ok).toBe(true);

    // Act 2: retire
    const retired = await setup([
      ...common,
      '--apply',
      '--retire',
      '--recovery-days',
      '7',
      '--verbose',
    ]);

    // Assess 2: tokens revoked, role and policy of the created one gone, the adopted
    // role kept without our policy, our secrets scheduled for deletion, nothing else touched
    expect(retired.code, retired.stderr).toBe(0);
    expect(retired.stderr).toContain(`${gone}: 2 of 2 token(s) and lease(s) revoked`);
    expect(`${retired.stdout}${retired.stderr}`).not.toContain(lease.lease_id);
    await expect(
      fleet.vault('PUT', 'sys/leases/lookup', { lease_id: lease.lease_id }),
    ).rejects.toThrow(/invalid lease|400/);
    expect((await lookupSelf(fleet, goneToken)).ok).toBe(false);
    expect((await lookupSelf(fleet, adoptedToken)).ok).toBe(false);
    expect(await readRole(gone)).toBeUndefined();
    expect(await readPolicy(`vault-renewer-${gone}`)).toBeUndefined();
    expect(await readPolicy(`vault-renewer-${adopted}`)).toBeUndefined();
    expect((await readRole(adopted))?.token_policies).toEqual(['another-team']);
    for (const id of [`${gone}/token`, `${gone}/approle`, `${gone}/db`, `${adopted}/token`]) {
      expect((await describeSecret(`${fleet.prefix}/${id}`)).DeletedDate, id).toBeDefined();
    }
    expect((await describeSecret(foreign)).DeletedDate).toBeUndefined();
    expect(await readPolicy(`vault-renewer-${otherFleet}`)).toBeDefined();
    expect(await readPolicy(`vault-renewer-${kept}`)).toBeDefined();

    // Act 3: plan again
    const after = await setup(common);

    // Assess 3: nothing left to retire
    expect(after.stdout).toBe('1 targets: 1 unchanged (plan only: --apply makes these changes)\n');
  }, 120_000);

  it('plans the targets of the targets object too, from the file that is pushed', async () => {
    // Prepare: one target in the config, one in the JSON Lines file of the targets object
    const { fleet } = scenario;
    fleetName = `${fleet.prefix}-object`;
    const [inline = '', pushed = ''] = ['oi', 'op'].map((n) => `${fleet.prefix}-${n}`);
    const path = join(dir, 'object.yaml');
    writeFileSync(
      path,
      stringifyYaml({
        ...configWith(fleet.env, [targetEntry(inline)]),
        targetsObject: {},
        secretAccess: { byTag: { key: 'vault-renewer:access' } },
      }),
    );
    const lines = join(dir, 'object.jsonl');
    writeFileSync(lines, `${JSON.stringify(targetEntry(pushed))}\n`);

    // Act
    const plan = await setup([
      '--config',
      path,
      '--targets-file',
      lines,
      '--role-settings',
      roleSettings('object-role.yaml', 3600),
    ]);

    // Assess: both would be created
    expect(plan.code, plan.stderr).toBe(0);
    expect(withStatus(plan.stdout, 'create')).toEqual([inline, pushed].sort());
  }, 60_000);

  it('sets up a jwt target: the mount trusts the issuer, the role is bound, and the renewer logs in', async () => {
    // Prepare: a jwt target on a jwt mount not enabled yet
    const { fleet } = scenario;
    fleetName = `${fleet.prefix}-jwt`;
    const name = `${fleet.prefix}-jw`;
    const jwtMount = `${fleet.prefix}-jwt`;
    const roleArn = 'arn:aws:iam::123456789012:role/vault-renewer-local-renew';
    const issuer = localIssuerUrl(fleet.env.AWS_ENDPOINT_URL_STS);
    const entry = {
      name,
      tokenSecret: `${fleet.prefix}/${name}/token`,
      jwt: { audience: 'vault.local', mount: jwtMount },
    };
    const path = join(dir, 'jwt.yaml');
    // The rotator too may log in with jwt: its tokens also carry the rotator policy.
    writeFileSync(
      path,
      stringifyYaml(
        configWith(fleet.env, [entry], {
          rotation: { rotator: name },
          // IAM by tag value: the jwt target's token secret is written by renew.
          secretAccess: { byTag: { key: 'vault-renewer:access' } },
        }),
      ),
    );
    const common = [
      '--config',
      path,
      '--role-settings',
      roleSettings('jwt-role.yaml', 3600),
      '--jwt-issuer',
      issuer,
      '--renew-role-arn',
      roleArn,
      '--enable-jwt',
    ];

    // Act
    const plan = await setup(common);
    const applied = await setup([...common, '--apply']);
    const again = await setup([...common, '--apply']);

    // Assess
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stderr).toContain(`auth/${jwtMount}: jwt to enable, trusting ${issuer}`);
    expect(withStatus(plan.stdout, 'create')).toEqual([name]);
    expect(applied.code, applied.stderr).toBe(0);
    const config = (await fleet.vault('GET', `auth/${jwtMount}/config`)) as {
      data: { oidc_discovery_url: string };
    };
    expect(config.data.oidc_discovery_url).toBe(issuer);
    const role = (await fleet.vault('GET', `auth/${jwtMount}/role/${name}`)) as {
      data: Record<string, unknown>;
    };
    expect(role.data).toMatchObject({
      role_type: 'jwt',
      bound_audiences: ['vault.local'],
      bound_subject: roleArn,
      bound_claims: { [TARGET_CLAIM]: name },
      token_policies: [`vault-renewer-${name}`, 'vault-renewer-rotator'],
    });
    expect(await fleet.secretValue(entry.tokenSecret)).toBe('{}');
    expect((await describeSecret(entry.tokenSecret)).Tags).toContainEqual({
      Key: 'vault-renewer:access',
      Value: 'read-write',
    });
    expect(again.stdout).toBe('1 targets: 1 unchanged\n');

    // Act + Assess: the renewer's next run logs the target in through STS
    const renew = scenario.harness(configWith(fleet.env, [entry]));
    const report = await renew.invoke(SCHEDULED_EVENT);
    expect(report.targets[0]).toMatchObject({
      status: 'changed',
      token: { outcome: 'relogged-in', reason: 'absent' },
    });
    await renew.close();
  }, 60_000);

  it('goes on where an interrupted apply stopped', async () => {
    // Prepare: twelve targets, applied one at a time at two writes a second
    const { fleet } = scenario;
    fleetName = `${fleet.prefix}-resume`;
    const names = Array.from({ length: 12 }, (_, i) => `${fleet.prefix}-i${i}`);
    const config = writeConfig(
      'interrupted.yaml',
      names.map((n) => targetEntry(n)),
    );
    const common = ['--config', config, '--role-settings', roleSettings('int-role.yaml', 3600)];

    // Act 1: interrupt once the first target is done
    const stopped = await setup(
      [...common, '--apply', '--concurrency', '1', '--aws-writes-per-second', '2'],
      { interruptWhen: /applying: [1-9]/ },
    );

    // Assess 1: some done, the rest not started, exit 130
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(stopped.stderr).toMatch(/interrupted; run it again to go on where it stopped/);
    const done = withStatus(stopped.stdout, 'create');
    const notStarted = withStatus(stopped.stdout, 'not started');
    expect(done.length).toBeGreaterThan(0);
    expect(notStarted.length).toBeGreaterThan(0);
    expect(done.length + notStarted.length).toBe(12);

    // Act 2: run it again
    const resumed = await setup([...common, '--apply']);

    // Assess 2: the finished ones are unchanged, the others created, nothing failed
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(withStatus(resumed.stdout, 'create')).toEqual(notStarted);
    expect(resumed.stdout).toContain(
      `12 targets: ${notStarted.length} create, ${done.length} unchanged`,
    );
  }, 120_000);
});
