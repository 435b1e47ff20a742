import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { ensurePythonEnv } from './python-env.js';
import {
  makeTempDir,
  removeTempDir,
  type ServerProcess,
  serverEnv,
  spawnServer,
  startOnFreePort,
  waitUntilReady,
} from './server-process.js';

export interface OpenBao {
  /** e.g. http://127.0.0.1:41234 */
  readonly addr: string;
  readonly rootToken: string;
  readonly unsealKey: string;
  readonly pid: number;
  readonly logFile: string;
  /** Stops the server (SIGTERM, SIGKILL after a timeout) and removes its directory. */
  stop(): Promise<void>;
  /** Seals it through the real API (`PUT /v1/sys/seal`). */
  seal(): Promise<void>;
  /** Unseals it (`PUT /v1/sys/unseal`) and waits until it serves requests again. */
  unseal(): Promise<void>;
}

export interface StartOpenBaoOptions {
  /** Defaults to a random token. */
  readonly rootToken?: string;
  /** OpenBao's -log-level (the log goes to a file). */
  readonly logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  readonly readyTimeoutMs?: number;
}

const READY_TIMEOUT_MS = 30_000;
const UNSEAL_KEY_LINE = /^Unseal Key: (\S+)$/m;

/**
 * Starts an independent OpenBao dev server (in-memory, unsealed, one unseal key) on a free
 * loopback port. Tests that seal or kill Vault start their own instance with this.
 */
export async function startOpenBao(options: StartOpenBaoOptions = {}): Promise<OpenBao> {
  const { baoBin } = await ensurePythonEnv();
  const rootToken = options.rootToken ?? `root-${randomBytes(12).toString('hex')}`;
  // Dev mode puts the cluster listener on the API port + 1, so both must be free.
  return startOnFreePort((port) => startOn(port, baoBin, rootToken, options), {
    consecutivePorts: 2,
  });
}

async function startOn(
  port: number,
  baoBin: string,
  rootToken: string,
  options: StartOpenBaoOptions,
): Promise<OpenBao> {
  const dir = await makeTempDir('openbao');
  const home = join(dir, 'home');
  const addr = `http://127.0.0.1:${port}`;
  const args = [
    'server',
    '-dev',
    `-dev-root-token-id=${rootToken}`,
    `-dev-listen-address=127.0.0.1:${port}`,
    `-log-level=${options.logLevel ?? 'info'}`,
  ];
  // Keeps the dev root token out of ~/.vault-token; HOME points into the temp dir as well.
  if (supportsNoStoreToken(baoBin)) args.push('-dev-no-store-token');

  let server: ServerProcess | undefined;
  try {
    await mkdir(home);
    server = spawnServer({
      name: 'openbao',
      command: baoBin,
      args,
      cwd: dir,
      env: serverEnv({ HOME: home, BAO_ADDR: addr }),
      logFile: join(dir, 'openbao.log'),
      stopSignal: 'SIGTERM',
      emergencySignal: 'SIGKILL',
    });
    const started = server;
    const unsealKey = await waitUntilReady(
      started,
      async () => {
        const key = UNSEAL_KEY_LINE.exec(await readFile(started.logFile, 'utf8'))?.[1];
        return key !== undefined && (await healthStatus(addr)) === 200 ? key : undefined;
      },
      options.readyTimeoutMs ?? READY_TIMEOUT_MS,
    );
    return {
      addr,
      rootToken,
      unsealKey,
      pid: started.pid,
      logFile: started.logFile,
      async stop() {
        await started.stop();
        removeTempDir(dir);
      },
      async seal() {
        await vaultApi(addr, 'PUT', '/v1/sys/seal', { token: rootToken, expect: [204] });
      },
      async unseal() {
        await vaultApi(addr, 'PUT', '/v1/sys/unseal', { body: { key: unsealKey }, expect: [200] });
        // Unsealed is not yet active: wait until the core serves requests (health 200).
        await waitUntilReady(
          started,
          async () => ((await healthStatus(addr)) === 200 ? true : undefined),
          READY_TIMEOUT_MS,
        );
      },
    };
  } catch (error) {
    await server?.stop();
    removeTempDir(dir);
    throw error;
  }
}

let noStoreTokenFlag: boolean | undefined;

function supportsNoStoreToken(baoBin: string): boolean {
  if (noStoreTokenFlag === undefined) {
    const help = spawnSync(baoBin, ['server', '-h'], { encoding: 'utf8' });
    noStoreTokenFlag = `${help.stdout}${help.stderr}`.includes('-dev-no-store-token');
  }
  return noStoreTokenFlag;
}

/** `GET /v1/sys/health`: 200 active, 429 standby, 501 not initialised, 503 sealed. */
export async function healthStatus(addr: string): Promise<number> {
  const response = await request(`${addr}/v1/sys/health`, {
    headersTimeout: 2_000,
    bodyTimeout: 2_000,
  });
  await response.body.dump();
  return response.statusCode;
}

export interface VaultApiOptions {
  readonly token?: string;
  readonly body?: unknown;
  /** Status codes that count as success; anything else throws. */
  readonly expect?: readonly number[];
}

/**
 * One call to Vault's HTTP API for stack setup. Errors carry the status and Vault's `errors`
 * array, never the token.
 */
export async function vaultApi(
  addr: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: VaultApiOptions = {},
): Promise<unknown> {
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers['x-vault-token'] = options.token;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await request(`${addr}${path}`, {
    method,
    headers,
    body: options.body === undefined ? null : JSON.stringify(options.body),
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const text = await response.body.text();
  const expected = options.expect ?? [200, 204];
  if (!expected.includes(response.statusCode)) {
    let errors = text;
    try {
      errors = JSON.stringify((JSON.parse(text) as { errors?: unknown }).errors ?? text);
    } catch {
      // Not JSON: keep the raw text.
    }
    throw new Error(`${method} ${path} answered ${response.statusCode}: ${errors}`);
  }
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
