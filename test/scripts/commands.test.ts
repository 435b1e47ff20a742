/**
 * `npm start` and `npm run diagnose` as a person types them: a wrong option,
 * event or setup ends in one line on stderr and an exit code (2 for the
 * command line, 1 for the machine), never a stack trace; `--json` output
 * pipes into a JSON reader.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { configWith, createScenario, healthyRole } from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const REPO_ROOT = join(import.meta.dirname, '../..');
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? REPO_ROOT,
        NODE_NO_WARNINGS: '1',
        npm_config_update_notifier: 'false',
        ...env,
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

const start = (args: readonly string[], env?: Record<string, string>) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/start.ts', ...args], env);

describe('npm start', () => {
  it.each([
    [['--event', '{bad'], 2, 'npm start: --event is not valid JSON'],
    [
      ['--event', '{"bogus": 1}'],
      2,
      'npm start: Unrecognised event (event: Unrecognized key: "bogus")',
    ],
    [
      ['--event', '{"targets": ["nobody"]}'],
      2,
      'npm start: Unknown target(s): 1 name(s) not in the config (refused values are not repeated)',
    ],
    [['--nope'], 2, "npm start: Unknown option '--nope' (Usage: npm start"],
    [
      ['--targets', 'nobody,billing-api'],
      2,
      'npm start: Unknown target(s): 1 name(s) not in the config',
    ],
    [['--dry-run', '--event', '{}'], 2, 'npm start: --event is the whole event'],
    [
      ['--external'],
      1,
      'npm start: npm start --external runs against real services and needs RENEWER_CONFIG and ALERT_TOPIC_ARN',
    ],
  ] as const)('%j ends with exit %i and one line: %s', async (args, code, line) => {
    const result = await start(args);
    expect(result.code).toBe(code);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining(line)]);
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('names the missing AWS region, then the missing credentials, in one line before any target is read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'no-aws-'));
    try {
      const configFile = join(dir, 'targets.yaml');
      writeFileSync(
        configFile,
        stringify({
          version: 1,
          schedule: { intervalMinutes: 15 },
          vault: { address: 'http://127.0.0.1:8200' },
          targets: [{ name: 'app', tokenSecret: 'app/token', approle: { secret: 'app/approle' } }],
        }),
      );
      const env = {
        HOME: dir,
        RENEWER_CONFIG: configFile,
        ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:alerts',
        AWS_EC2_METADATA_DISABLED: 'true',
      };
      const noRegion = await start(['--external'], env);
      const noCredentials = await start(['--external'], { ...env, AWS_REGION: 'eu-west-1' });

      expect(noRegion.code).toBe(1);
      expect(noRegion.stderr.trim().split('\n')).toEqual([
        expect.stringContaining('needs an AWS region: set AWS_REGION'),
      ]);
      expect(noCredentials.code).toBe(1);
      expect(noCredentials.stderr.trim().split('\n')).toEqual([
        expect.stringContaining('needs AWS credentials: set AWS_PROFILE'),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what to install when PG_BIN points nowhere, before anything runs', async () => {
    const result = await start([], { PG_BIN: '/nowhere' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'npm start: PG_BIN=/nowhere does not contain initdb and postgres',
    );
    expect(result.stderr).not.toMatch(STACK_FRAME);
  }, 60_000);

  it('says VAULT_ADDR is not the switch: the demo runs on its own stack unless --external', async () => {
    const result = await start(['--event', '{bad'], { VAULT_ADDR: 'https://vault.example:8200' });
    expect(result.stderr).toContain('add --external to run against the services of RENEWER_CONFIG');
  });
});

describe('npm start -- --json', () => {
  it('prints exactly the run report on stdout, and the demo (failures staged on purpose) exits 0', async () => {
    const result = await run('npm', ['start', '--silent', '--', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as {
      summary: { targets: number; failed: number };
      targets: { target: string }[];
    };
    expect(report.summary.targets).toBe(7);
    expect(report.summary.failed).toBeGreaterThan(0);
    expect(report.targets.map((t) => t.target)).toContain('billing-api');
    // Progress went to stderr, the function's logs to the log file.
    expect(result.stderr).toContain('Starting the local stack');
    expect(result.stdout).not.toContain('"level"');
  }, 120_000);
});

describe('npm start -- --external', () => {
  it('exits 1 when a target of a real run failed, with the report as JSON', async () => {
    // Prepare: a target on the test stack whose stored token is a root token (ERROR)
    const env = stackEnv();
    const { fleet, alerts } = await createScenario(env, 'cli');
    const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
      auth: { client_token: string };
    };
    const target = await fleet.target('rooted', healthyRole, {
      storedToken: root.auth.client_token,
    });
    const dir = mkdtempSync(join(tmpdir(), 'start-external-'));
    const configFile = join(dir, 'targets.yaml');
    writeFileSync(configFile, stringify(configWith(env, [fleet.targetConfig(target)])));

    // Act
    const result = await start(['--external', '--json'], {
      ...env,
      RENEWER_CONFIG: configFile,
      ALERT_TOPIC_ARN: alerts.topicArn,
    });

    // Assess
    rmSync(dir, { recursive: true, force: true });
    expect(result.code, result.stderr).toBe(1);
    const report = JSON.parse(result.stdout) as { summary: { targets: number; failed: number } };
    expect(report.summary).toMatchObject({ targets: 1, failed: 1 });
  }, 60_000);
});

describe('npm run fleet -- --external', () => {
  it('prints one line per target, the broken first, and exits 1 when a target is broken', async () => {
    // Prepare: a healthy target and one whose stored token is a root token
    const env = stackEnv();
    const { fleet } = await createScenario(env, 'fleet-cli');
    const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
      auth: { client_token: string };
    };
    const [well, rooted] = await Promise.all([
      fleet.target('well', healthyRole),
      fleet.target('rooted', healthyRole, { storedToken: root.auth.client_token }),
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'fleet-external-'));
    const configFile = join(dir, 'targets.yaml');
    writeFileSync(
      configFile,
      stringify(
        configWith(env, [
          fleet.targetConfig(well as NonNullable<typeof well>),
          fleet.targetConfig(rooted as NonNullable<typeof rooted>),
        ]),
      ),
    );

    // Act
    const result = await run('npm', ['run', '--silent', 'fleet', '--', '--external'], {
      ...env,
      RENEWER_CONFIG: configFile,
    });

    // Assess
    rmSync(dir, { recursive: true, force: true });
    expect(result.code, result.stderr).toBe(1);
    const rows = result.stdout.split('\n').filter((l) => /^(well|rooted) /.test(l));
    expect(rows.map((r) => r.split(/ +/).slice(0, 2).join(' '))).toEqual([
      'rooted BROKEN',
      'well healthy',
    ]);
    expect(result.stdout).toMatch(/2 target\(s\): 1 healthy, 0 at risk, 1 broken/);
  }, 90_000);
});

describe('npm run rotate -- --external', () => {
  it('refuses a secret whose rotation is not configured, in one line, and changes nothing', async () => {
    // Prepare: a target on the test stack whose AppRole secret has no rotation
    const env = stackEnv();
    const { fleet } = await createScenario(env, 'rot-cli');
    const target = await fleet.target('unrotated', healthyRole);
    const before = await fleet.secretJson(target.approleSecret);
    const dir = mkdtempSync(join(tmpdir(), 'rotate-external-'));
    const configFile = join(dir, 'targets.yaml');
    writeFileSync(configFile, stringify(configWith(env, [fleet.targetConfig(target)])));

    // Act
    const result = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/rotate.ts',
        '--external',
        '--target',
        'unrotated',
        '--secret',
        'approle',
      ],
      { ...env, RENEWER_CONFIG: configFile },
    );

    // Assess
    rmSync(dir, { recursive: true, force: true });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      expect.stringContaining('has no rotation configured: run npm run rotation:apply first'),
    ]);
    expect(result.stdout).not.toContain('Rotated');
    expect(await fleet.secretJson(target.approleSecret)).toEqual(before);
  }, 60_000);
});

describe('npm run diagnose', () => {
  it('prints only the JSON document on stdout with --json, so `npm run --silent ... | jq` works', async () => {
    const result = await run('npm', ['run', '--silent', 'diagnose', '--', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const document = JSON.parse(result.stdout) as { schema: string; summary: { targets: number } };
    expect(document.schema).toBe('vault-renewer/diagnosis/v1');
    expect(document.summary.targets).toBe(9);
  }, 120_000);
});

describe('every command answers --help', () => {
  it.each([
    ['scripts/start.ts', 'Usage: npm start'],
    ['scripts/diagnose.ts', 'Usage: npm run diagnose'],
    ['scripts/rotate.ts', 'Usage: npm run rotate'],
    ['scripts/rotation-apply.ts', 'Usage: npm run rotation:apply'],
    ['scripts/build.ts', 'Usage: npm run build'],
    ['scripts/bootstrap/main.ts', 'Usage: npm run vault:bootstrap'],
    ['scripts/bootstrap/setup-main.ts', 'Usage: npm run vault:setup'],
    ['tools/local-stack/cli.ts', 'Usage: npm run stack'],
    ['test/bench/bench.ts', 'npm run bench -- --scenario field'],
  ])('%s prints its usage and exits 0, starting nothing', async (file, usage) => {
    const result = await run(process.execPath, ['--import', 'tsx', file, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(usage);
    expect(result.stderr).toBe('');
  });
});
