import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Spawning and reaping the local stack's servers.
 *
 * Every server is a child of this process, with its output in a log file inside a temporary
 * directory. Three layers make sure none outlives us:
 * 1. `stop()` sends the server's graceful signal, then SIGKILL after a timeout;
 * 2. on 'exit', SIGINT, SIGTERM and uncaught exceptions every live server gets its emergency
 *    signal synchronously and the temporary directories are removed;
 * 3. when util-linux `setpriv` exists, servers start with a parent-death signal
 *    (PR_SET_PDEATHSIG), so even a SIGKILLed node parent takes them down with it.
 * Temporary directories left by a parent that died anyway are swept on the next start.
 */

const TEMP_PREFIX = 'vault-renewer-stack-';
const STOP_TIMEOUT_MS = 5_000;

export interface ServerSpec {
  /** Short name used in errors, e.g. 'openbao'. */
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly logFile: string;
  /** Signal for an orderly shutdown in `stop()` (postgres: SIGINT = fast shutdown). */
  readonly stopSignal: NodeJS.Signals;
  /** Signal sent when this process exits abruptly or dies (setpriv's parent-death signal). */
  readonly emergencySignal: NodeJS.Signals;
  /** Run as this user (root cannot run PostgreSQL). */
  readonly runAsUser?: string;
}

export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  isRunning(): boolean;
  /** Graceful signal, SIGKILL after `timeoutMs`; resolves once the process is gone. */
  stop(timeoutMs?: number): Promise<void>;
}

interface Tracked {
  readonly child: ChildProcess;
  readonly emergencySignal: NodeJS.Signals;
}

const liveServers = new Set<Tracked>();
const tempDirs = new Set<string>();
let handlersInstalled = false;

export function spawnServer(spec: ServerSpec): ServerProcess {
  installExitHandlers();
  const [command, args] = wrapCommand(spec);
  const logFd = openSync(spec.logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', logFd, logFd],
      detached: false,
    });
  } finally {
    closeSync(logFd);
  }
  const tracked: Tracked = { child, emergencySignal: spec.emergencySignal };
  liveServers.add(tracked);
  let running = child.pid !== undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolvePromise) => {
      child.once('error', () => {
        running = false;
        liveServers.delete(tracked);
        resolvePromise({ code: null, signal: null });
      });
      child.once('exit', (code, signal) => {
        running = false;
        liveServers.delete(tracked);
        resolvePromise({ code, signal });
      });
    },
  );
  if (child.pid === undefined) {
    throw new Error(`${spec.name}: could not spawn ${command} (is it installed and executable?)`);
  }
  const pid = child.pid;

  return {
    name: spec.name,
    pid,
    logFile: spec.logFile,
    exited,
    isRunning: () => running,
    async stop(timeoutMs = STOP_TIMEOUT_MS) {
      if (!running) return;
      child.kill(spec.stopSignal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Starts a server on a free port, retrying with another port when the first one was taken. */
export async function startOnFreePort<T>(
  start: (port: number) => Promise<T>,
  options: { readonly consecutivePorts?: number; readonly attempts?: number } = {},
): Promise<T> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt += 1) {
    const port = await freePort(options.consecutivePorts ?? 1);
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= attempts || !(error instanceof PortInUseError)) throw error;
    }
  }
}

/** Thrown by a start function when the server exited because its port was taken meanwhile. */
export class PortInUseError extends Error {
  override readonly name = 'PortInUseError';
}

export const PORT_IN_USE =
  /address already in use|could not bind|could not create listen socket|is in use by another program/i;

/** A loopback port (and the `consecutive - 1` ports after it) nobody listens on right now. */
export async function freePort(consecutive = 1): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const port = await listenAndClose(0);
    let allFree = true;
    for (let next = port + 1; next < port + consecutive; next += 1) {
      if ((await listenAndClose(next).catch(() => undefined)) === undefined) {
        allFree = false;
        break;
      }
    }
    if (allFree) return port;
  }
  throw new Error(`no ${consecutive} consecutive free loopback ports found`);
}

function listenAndClose(port: number): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address ? address.port : port;
      server.close(() => resolvePromise(chosen));
    });
  });
}

/**
 * A fresh directory for one server's data and logs, removed by `removeTempDir` or at exit.
 * The name carries our pid so later runs can sweep directories of parents that died.
 */
export async function makeTempDir(name: string): Promise<string> {
  installExitHandlers();
  sweepStaleTempDirs();
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-${name}-`));
  tempDirs.add(dir);
  await writeFile(join(dir, 'owner.pid'), String(process.pid));
  return dir;
}

export function removeTempDir(dir: string): void {
  tempDirs.delete(dir);
  rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Hands one file or directory (not its contents) to `user`: PostgreSQL when we are root. */
export function chownToUser(path: string, user: string): void {
  const ids = lookupUser(user);
  chownSync(path, ids.uid, ids.gid);
}

export function lookupUser(user: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error(`user ${user} does not exist (${(uid.stderr ?? '').trim()})`);
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * Polls `check` until it returns a value; fails early with the log tail if the server died.
 * On failure the server is left as it is: the caller decides whether to stop it.
 */
export async function waitUntilReady<T>(
  server: ServerProcess,
  check: () => Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    if (!server.isRunning()) {
      const log = logTail(server.logFile);
      const message = `${server.name} exited before it was ready; last log lines (${server.logFile}):\n${log}`;
      throw PORT_IN_USE.test(log) ? new PortInUseError(message) : new Error(message);
    }
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `${server.name} was not ready after ${timeoutMs} ms${reason}; last log lines ` +
          `(${server.logFile}):\n${logTail(server.logFile)}`,
      );
    }
    await sleep(50);
  }
}

export function logTail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** The environment a server inherits: ours without Vault/OpenBao settings that could leak in. */
export function serverEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(VAULT_|BAO_)/.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

let setprivSupport: boolean | undefined;

function hasSetprivPdeathsig(): boolean {
  if (setprivSupport === undefined) {
    const probe = spawnSync('setpriv', ['--help'], { encoding: 'utf8' });
    setprivSupport = probe.status === 0 && probe.stdout.includes('--pdeathsig');
  }
  return setprivSupport;
}

function wrapCommand(spec: ServerSpec): [string, string[]] {
  if (hasSetprivPdeathsig()) {
    const user = spec.runAsUser
      ? ['--reuid', spec.runAsUser, '--regid', spec.runAsUser, '--init-groups']
      : [];
    // setpriv sets the parent-death signal after switching user, then execs: same pid.
    return [
      'setpriv',
      [...user, '--pdeathsig', spec.emergencySignal, '--', spec.command, ...spec.args],
    ];
  }
  if (spec.runAsUser) {
    return ['runuser', ['-u', spec.runAsUser, '--', spec.command, ...spec.args]];
  }
  return [spec.command, [...spec.args]];
}

function killAllSync(): void {
  for (const { child, emergencySignal } of liveServers) {
    try {
      child.kill(emergencySignal);
    } catch {
      // Already gone.
    }
  }
  liveServers.clear();
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // A server may still be writing; the next start sweeps what is left.
    }
  }
  tempDirs.clear();
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllSync);
  // A monitor sees the exception without swallowing it. With no 'uncaughtException' listener
  // the process is about to crash; with one (vitest has one) that listener decides, and if it
  // exits, 'exit' covers us.
  process.on('uncaughtExceptionMonitor', () => {
    if (process.listenerCount('uncaughtException') === 0) killAllSync();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      // Someone else (vitest, cli.ts) handles this signal and will stop or exit; 'exit' and
      // stop() cover us then. Alone, we clean up and die of the signal as node would have.
      if (process.listenerCount(signal) > 1) return;
      killAllSync();
      process.off(signal, onSignal);
      process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

function sweepStaleTempDirs(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const entry of entries) {
    const owner = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(entry)?.[1];
    if (owner === undefined || isAlive(Number(owner))) continue;
    const dir = join(tmpdir(), entry);
    if (existsSync(join(dir, 'owner.pid'))) {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
