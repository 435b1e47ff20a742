import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import {
  chownToUser,
  logTail,
  lookupUser,
  makeTempDir,
  removeTempDir,
  type ServerProcess,
  serverEnv,
  spawnServer,
  startOnFreePort,
  waitUntilReady,
} from './server-process.js';

export interface Postgres {
  /** postgresql://vault:<password>@127.0.0.1:<port>/app */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  /** A superuser, for Vault's database secrets engine. */
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly pid: number;
  readonly logFile: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const SUPERUSER = 'vault';
const DATABASE = 'app';
const READY_TIMEOUT_MS = 30_000;
/** PostgreSQL refuses to run as root; this user is created by Debian's postgresql packages. */
const NON_ROOT_USER = 'postgres';

/**
 * initdb into a temporary directory and start PostgreSQL on a free loopback port (unix socket
 * in the same directory), with a superuser `vault` and a database `app`.
 */
export async function startPostgres(): Promise<Postgres> {
  const bin = findPostgresBin();
  const runAsUser = process.getuid?.() === 0 ? rootFallbackUser() : undefined;
  const dir = await makeTempDir('postgres');
  try {
    const password = randomBytes(16).toString('hex');
    await initdb(bin, dir, password, runAsUser);
    return await startOnFreePort((port) => startOn(port, bin, dir, password, runAsUser));
  } catch (error) {
    removeTempDir(dir);
    throw error;
  }
}

async function initdb(
  bin: string,
  dir: string,
  password: string,
  runAsUser: string | undefined,
): Promise<void> {
  const passwordFile = join(dir, 'superuser-password');
  await writeFile(passwordFile, password, { mode: 0o600 });
  if (runAsUser) {
    chownToUser(dir, runAsUser);
    chownToUser(passwordFile, runAsUser);
  }
  const initdbProcess = spawnServer({
    name: 'initdb',
    command: join(bin, 'initdb'),
    args: [
      '--pgdata',
      join(dir, 'data'),
      '--username',
      SUPERUSER,
      `--pwfile=${passwordFile}`,
      '--auth=scram-sha-256',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ],
    cwd: dir,
    env: serverEnv({}),
    logFile: join(dir, 'initdb.log'),
    stopSignal: 'SIGTERM',
    emergencySignal: 'SIGKILL',
    ...(runAsUser ? { runAsUser } : {}),
  });
  const { code, signal } = await initdbProcess.exited;
  await rm(passwordFile);
  if (code !== 0) {
    throw new Error(
      `initdb failed (exit ${code ?? signal}); last lines of ${initdbProcess.logFile}:\n` +
        logTail(initdbProcess.logFile),
    );
  }
}

async function startOn(
  port: number,
  bin: string,
  dir: string,
  password: string,
  runAsUser: string | undefined,
): Promise<Postgres> {
  let server: ServerProcess | undefined;
  try {
    server = spawnServer({
      name: 'postgres',
      command: join(bin, 'postgres'),
      args: [
        '-D',
        join(dir, 'data'),
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        `listen_addresses=${HOST}`,
        // A throwaway test database: durability buys nothing here.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      cwd: dir,
      env: serverEnv({}),
      logFile: join(dir, `postgres-${port}.log`),
      // SIGINT is PostgreSQL's "fast" shutdown: it ends open sessions (Vault keeps some);
      // SIGTERM ("smart") would wait for them forever. SIGQUIT is the immediate shutdown.
      stopSignal: 'SIGINT',
      emergencySignal: 'SIGQUIT',
      ...(runAsUser ? { runAsUser } : {}),
    });
    const started = server;
    const connect = async () => {
      const client = new pg.Client({
        host: HOST,
        port,
        user: SUPERUSER,
        password,
        database: 'postgres',
        connectionTimeoutMillis: 2_000,
      });
      try {
        await client.connect();
      } catch (error) {
        await client.end().catch(() => {});
        throw error;
      }
      return client;
    };
    const client = await waitUntilReady(started, connect, READY_TIMEOUT_MS);
    try {
      await client.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await client.end();
    }
    return {
      url: `postgresql://${SUPERUSER}:${password}@${HOST}:${port}/${DATABASE}`,
      host: HOST,
      port,
      user: SUPERUSER,
      password,
      database: DATABASE,
      pid: started.pid,
      logFile: started.logFile,
      async stop() {
        await started.stop();
        removeTempDir(dir);
      },
    };
  } catch (error) {
    await server?.stop();
    throw error;
  }
}

/** PG_BIN, then PATH, then Debian's /usr/lib/postgresql/<version>/bin (newest first). */
export function findPostgresBin(): string {
  const hasServer = (dir: string) =>
    existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (hasServer(fromEnv)) return fromEnv;
    throw new Error(`PG_BIN=${fromEnv} does not contain initdb and postgres`);
  }
  const candidates = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot)
      .filter((entry) => /^\d+(\.\d+)?$/.test(entry))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((version) => join(debianRoot, version, 'bin')));
  }
  const found = candidates.find(hasServer);
  if (found) return found;
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) were not found in PG_BIN, PATH or ' +
      '/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: `apt-get install -y postgresql`) ' +
      'or set PG_BIN to the directory that holds initdb and postgres.',
  );
}

function rootFallbackUser(): string {
  try {
    lookupUser(NON_ROOT_USER);
    return NON_ROOT_USER;
  } catch {
    throw new Error(
      `PostgreSQL refuses to run as root and there is no \`${NON_ROOT_USER}\` user to run it ` +
        `as. Install the postgresql package (it creates the user) or \`useradd --system ` +
        `${NON_ROOT_USER}\`, or run the tests as a non-root user.`,
    );
  }
}
