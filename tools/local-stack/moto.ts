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

export interface Moto {
  /** e.g. http://127.0.0.1:41235, for AWS_ENDPOINT_URL_SECRETS_MANAGER / _SNS / _SQS. */
  readonly endpoint: string;
  readonly pid: number;
  /** moto logs one line per request it served, useful to prove a call really reached it. */
  readonly logFile: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;

/** Starts moto in server mode (all services on one port) on a free loopback port. */
export async function startMoto(): Promise<Moto> {
  const { python } = await ensurePythonEnv();
  return startOnFreePort((port) => startOn(port, python));
}

/** moto's server with the staging-label correction described in the script itself. */
export const MOTO_SERVER_SCRIPT = join(import.meta.dirname, 'moto-server.py');

async function startOn(port: number, python: string): Promise<Moto> {
  const dir = await makeTempDir('moto');
  const endpoint = `http://127.0.0.1:${port}`;
  let server: ServerProcess | undefined;
  try {
    server = spawnServer({
      name: 'moto',
      command: python,
      args: [MOTO_SERVER_SCRIPT, '-H', '127.0.0.1', '-p', String(port)],
      cwd: dir,
      env: serverEnv({ PYTHONUNBUFFERED: '1' }),
      logFile: join(dir, 'moto.log'),
      stopSignal: 'SIGTERM',
      emergencySignal: 'SIGKILL',
    });
    const started = server;
    await waitUntilReady(
      started,
      async () => {
        // moto's own dashboard API: answers once the WSGI app is serving.
        const response = await request(`${endpoint}/moto-api/data.json`, {
          headersTimeout: 2_000,
          bodyTimeout: 2_000,
        });
        await response.body.dump();
        return response.statusCode === 200 ? true : undefined;
      },
      READY_TIMEOUT_MS,
    );
    return {
      endpoint,
      pid: started.pid,
      logFile: started.logFile,
      async stop() {
        await started.stop();
        removeTempDir(dir);
      },
    };
  } catch (error) {
    await server?.stop();
    removeTempDir(dir);
    throw error;
  }
}
