/**
 * `npm run bench`: how fast and how lean one renewal run is.
 *
 * Latency-bound mode (default): N targets (default 10,000) with one lease
 * each, against test/bench/canned-server.ts in its own process answering
 * Vault, Secrets Manager and SNS after a fixed delay (default 5 ms). The run
 * itself (test/bench/runner.ts, bundled and run with plain node like the
 * Lambda) uses the real handler body, Vault client, store and notifier. The
 * lower bound is every round trip the server saw × delay / the renewer's
 * concurrency (the config's default, 8, unless --concurrency says otherwise;
 * `--concurrency 8,64` measures each in turn); `ratio` is wall time over it.
 * The transport floor (http-floor.ts) then sends the same Vault requests the
 * run made, as bare undici requests at the same concurrency: `cpuRatio` is
 * the renewer's CPU over the floor's, `floorRatio` the floor's wall time over
 * its own bound. `--repeat N` alternates run and floor N times and reports
 * medians; `--profile` adds one profiled run (node --cpu-prof) of each and
 * prints where the CPU went (profile-summary.ts). `--cpu-share 0.29` runs the
 * renewer and the floor with that fraction of one CPU, as Lambda gives a
 * function by its memory size (cpu-share.ts).
 *
 * Real-stack mode (`--real`, default 1,000 targets): the same run against
 * OpenBao + moto + PostgreSQL of the local stack; no bound, since the
 * servers' latency is not fixed.
 *
 * Set-up mode (`--setup`, default 1,000 targets): `vault:setup` on the local
 * stack, plan, apply, apply again and retire a tenth (setup-bench.ts).
 *
 * Both bundle the renew function first and measure its size and cold import
 * time (median of fresh node processes), with the shipped config and with a
 * 10,000-target one.
 *
 * Field scenarios (`--scenario field` or `field-broken`, field.ts): six
 * scheduled runs against a stateful server with the field's latency, quotas
 * and a wave of max-TTL deadlines, compressed in time by `--time-scale`
 * (default 4); no bundle measurement.
 *
 *   npm run bench [-- --targets 10000 --delay-ms 5 --concurrency 8,64 --repeat 3 --profile]
 *   npm run bench -- --cpu-share 0.289   # 512 MB of Lambda: 512 / 1769 of a vCPU
 *   npm run bench -- --real [--targets 1000]
 *   npm run bench -- --scenario field [--targets 10000 --runs 6 --time-scale 4 --concurrency 8
 *     --max-concurrency 64 --vault-max-requests-per-second 240]   # 0: no Vault ceiling
 *   npm run bench -- --scenario field-broken
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { request } from 'undici';
import { DEFAULT_CONCURRENCY } from '../../functions/config/schema.js';
import { BUNDLE_FILE, bundle } from '../../scripts/build.js';
import { writeResolvedConfig } from '../../scripts/lib/resolved-config.js';
import { generatedFleetConfig } from '../support/generated-fleet.js';
import { createCpuShare } from './cpu-share.js';
import { fanOutFigures } from './fan-out-bench.js';
import { FIELD_SCENARIOS, type FieldScenario, runFieldScenario } from './field.js';
import { formatProfileTable, summarizeProfile } from './profile-summary.js';

const REPO = resolve(import.meta.dirname, '../..');
const OUT = join(REPO, '.bench');

const HELP = `Usage:
  npm run bench [-- --targets 10000 --delay-ms 5 --concurrency 8,64 --repeat 3 --profile]
  npm run bench -- --cpu-share 0.289   # 512 MB of Lambda: 512 / 1769 of a vCPU
  npm run bench -- --real [--targets 1000]
  npm run bench -- --setup [--targets 1000]   # vault:setup: plan, apply, re-apply, retire
  npm run bench -- --fan-out [--batch-size 500 --fan-out-concurrency 20]   # 100,000 and 1,000,000 in batches
  npm run bench -- --scenario field [--targets 10000 --runs 6 --time-scale 4 --concurrency 8
    --max-concurrency 64 --vault-max-requests-per-second 240]   # 0: no Vault ceiling
  npm run bench -- --scenario field-broken

The renewal against a canned Vault at a fixed latency (default), the local stack
(--real), or six scheduled runs of a field with latency, quotas and a wave (--scenario);
each prints one RESULT JSON line. docs/benchmark.md explains every figure.`;

if (process.argv.slice(2).some((arg) => arg === '--help' || arg === '-h')) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}

const { values: args } = parseArgs({
  options: {
    real: { type: 'boolean', default: false },
    setup: { type: 'boolean', default: false },
    'fan-out': { type: 'boolean', default: false },
    'batch-size': { type: 'string', default: '500' },
    'fan-out-concurrency': { type: 'string', default: '20' },
    targets: { type: 'string' },
    'delay-ms': { type: 'string', default: '5' },
    concurrency: { type: 'string', default: String(DEFAULT_CONCURRENCY) },
    'import-runs': { type: 'string', default: '10' },
    repeat: { type: 'string', default: '1' },
    profile: { type: 'boolean', default: false },
    'cpu-share': { type: 'string' },
    scenario: { type: 'string' },
    runs: { type: 'string', default: '6' },
    'time-scale': { type: 'string', default: '4' },
    'max-concurrency': { type: 'string' },
    'vault-max-requests-per-second': { type: 'string', default: '240' },
  },
});
const targetCount = Number(args.targets ?? (args.real || args.setup ? 1000 : 10_000));
const delayMs = Number(args['delay-ms']);
const concurrencies = args.concurrency.split(',').map(Number);
if (concurrencies.some((c) => !(Number.isInteger(c) && c > 0))) {
  throw new Error(`--concurrency takes whole numbers > 0, comma-separated: ${args.concurrency}`);
}
const repeat = Number(args.repeat);
const scenario = args.scenario as FieldScenario | undefined;
if (scenario !== undefined) {
  if (!FIELD_SCENARIOS.includes(scenario)) {
    throw new Error(`--scenario takes ${FIELD_SCENARIOS.join(' or ')}: ${args.scenario}`);
  }
  if (args.real || args['cpu-share'] !== undefined || concurrencies.length !== 1) {
    throw new Error('--scenario runs on its own server, at one --concurrency, without --cpu-share');
  }
}

interface RunnerFigures {
  readonly wallMs: number;
  readonly cpuMs: number;
  /** The main thread's share of `cpuMs`; the rest is V8's helper threads (GC, compiler). */
  readonly mainThreadCpuMs: number;
  readonly peakRssMb: number;
  readonly logBytes: number;
  readonly summary: Record<string, number>;
  readonly counts: { vault: number; smReads: number; smWrites: number; snsPublishes: number };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Median time of `import(entry)` in fresh node processes, with `configFile` as the shipped config. */
function coldImportMs(
  entry: string,
  configFile: string,
  extraEnv: Record<string, string> = {},
): number[] {
  const probe = `const t = performance.now(); await import(${JSON.stringify(entry)}); console.log('IMPORT_MS', performance.now() - t);`;
  const times: number[] = [];
  for (let run = 0; run < Number(args['import-runs']); run += 1) {
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
      cwd: REPO,
      encoding: 'utf8',
      env: {
        PATH: process.env.PATH ?? '',
        ALERT_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:bench',
        RENEWER_CONFIG_FILE: configFile,
        AWS_REGION: 'us-east-1',
        ...extraEnv,
      },
    });
    const match = /IMPORT_MS ([\d.]+)/.exec(result.stdout);
    if (match?.[1] === undefined) {
      throw new Error(`import probe failed: ${result.stderr.slice(-500)}`);
    }
    times.push(Number(match[1]));
  }
  return times;
}

/** The number of targets of the large-fleet cold import. */
const LARGE_FLEET_TARGETS = 10_000;

/**
 * Bundles the renew function; returns its size and the median cold import
 * time with the shipped config and with a 10,000-target one (built and
 * resolved as `npm run package` would, digest included).
 */
async function measureBundle(): Promise<{
  bundleKb: number;
  importMs: number;
  importMsLargeFleet: number;
}> {
  const dist = join(OUT, 'dist');
  const sizes = await bundle(dist);
  const entry = pathToFileURL(join(dist, 'renew', BUNDLE_FILE)).href;
  const smallConfig = join(OUT, 'targets.resolved.json');
  writeResolvedConfig(join(REPO, 'config', 'targets.yaml'), smallConfig);
  const largeSource = join(OUT, 'fleet-10000.json');
  writeFileSync(
    largeSource,
    JSON.stringify(generatedFleetConfig({ targets: LARGE_FLEET_TARGETS })),
  );
  const largeConfig = join(OUT, 'fleet-10000.resolved.json');
  writeResolvedConfig(largeSource, largeConfig);

  // Interleaved, so a busy moment of the machine hits both alike.
  const small: number[] = [];
  const large: number[] = [];
  for (let round = 0; round < 2; round += 1) {
    small.push(...coldImportMs(entry, smallConfig));
    large.push(...coldImportMs(entry, largeConfig));
  }
  const bytes = sizes.renew ?? 0;
  const importMs = Math.round(median(small));
  const importMsLargeFleet = Math.round(median(large));
  console.log(`bundle: dist renew ${bytes} bytes (${(bytes / 1024).toFixed(1)} KB)`);
  console.log(
    `cold import, shipped config (ms, ${small.length} fresh node processes): ${small.map((t) => t.toFixed(0)).join(' ')}`,
  );
  console.log(
    `cold import, ${LARGE_FLEET_TARGETS} targets, ${(statSync(largeConfig).size / 1e6).toFixed(1)} MB resolved config (ms): ${large.map((t) => t.toFixed(0)).join(' ')}`,
  );
  console.log(
    `cold import medians: ${importMs} ms shipped, ${importMsLargeFleet} ms with ${LARGE_FLEET_TARGETS} targets (${(importMsLargeFleet / importMs).toFixed(2)}x)`,
  );
  return { bundleKb: Math.round(bytes / 1024), importMs, importMsLargeFleet };
}

/** Bundles a bench program so it runs with plain node, like the Lambda. */
async function buildProgram(name: string): Promise<string> {
  const outfile = join(OUT, `${name}.mjs`);
  await build({
    entryPoints: [join(REPO, `test/bench/${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    // The bundled AWS SDK is CommonJS: an ESM bundle needs a real `require`.
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * V8 sizes its heap from the host (24 GiB here) and collects lazily, so the
 * run is measured under an explicit old-space cap, as a Lambda's memory size
 * imposes one; the uncapped peak is printed too.
 */
const HEAP_CAP_FLAG = '--max-old-space-size=128';
/**
 * A wave holds thousands of targets in flight (parked on write slots) where a
 * steady run holds a few: the field runs get the heap a 512 MB Lambda leaves
 * its function, not the steady bench's tight cap.
 */
const FIELD_HEAP_CAP_FLAG = '--max-old-space-size=384';

/** Starts a measured program: plain node, or inside the CPU share of `--cpu-share`. */
function spawnMeasured(programArgs: string[]) {
  const argv = [process.execPath, ...programArgs];
  const [command = '', ...rest] = cpuShare?.wrap(argv) ?? argv;
  return spawnSync(command, rest, {
    cwd: REPO,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    maxBuffer: 64 * 1024 * 1024,
  });
}

function runRunner(
  runner: string,
  runnerArgs: string[],
  nodeFlags: string[] = [HEAP_CAP_FLAG],
): RunnerFigures {
  const result = spawnMeasured([...nodeFlags, runner, ...runnerArgs]);
  const match = /FIGURES (.+)/.exec(result.stdout);
  if (match?.[1] === undefined) {
    throw new Error(`runner failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return JSON.parse(match[1]) as RunnerFigures;
}

interface FloorFigures {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly mainThreadCpuMs: number;
}

/** CPU a program spent beside its main thread: V8's garbage collector and compiler threads. */
function offMainThread(figures: { cpuMs: number; mainThreadCpuMs: number }): number {
  return Math.round(figures.cpuMs - figures.mainThreadCpuMs);
}

/** The bare undici floor: `requests` Vault requests of the canned fleet at `concurrency`. */
function runFloor(
  floorProgram: string,
  endpoint: string,
  requests: number,
  concurrency: number,
  nodeFlags: string[] = [],
): FloorFigures {
  const result = spawnMeasured([
    ...nodeFlags,
    floorProgram,
    endpoint,
    String(requests),
    String(concurrency),
  ]);
  const match = /FLOOR (.+)/.exec(result.stdout);
  if (match?.[1] === undefined) {
    throw new Error(`floor failed (${result.status}): ${result.stderr.slice(-2000)}`);
  }
  return JSON.parse(match[1]) as FloorFigures;
}

async function startCannedServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'test/bench/canned-server.ts')],
    {
      cwd: REPO,
      env: { ...process.env, BENCH_DELAY_MS: String(delayMs) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`canned server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match?.[1] !== undefined) resolvePort(Number(match[1]));
    });
  });
  return { port, child };
}

function perTarget(counts: RunnerFigures['counts']) {
  return {
    vaultCallsPerTarget: Number((counts.vault / targetCount).toFixed(3)),
    smReadsPerSecret: Number((counts.smReads / (targetCount * 3)).toFixed(4)),
    smWrites: counts.smWrites,
  };
}

async function serverStats(endpoint: string): Promise<Record<string, number>> {
  // A connection of its own (`reset`): minutes pass between two reads, and the
  // server may close an idle keep-alive socket just as a reused one is written to.
  const response = await request(`${endpoint}/__stats`, { reset: true });
  return (await response.body.json()) as Record<string, number>;
}

/** One profiled run of the renewer and of the floor; prints where their CPU went. */
function profile(
  runner: string,
  runnerArgs: string[],
  floorProgram: string,
  endpoint: string,
  vaultRequests: number,
  concurrency: number,
): void {
  const dir = join(OUT, 'profile', `c${concurrency}`);
  rmSync(dir, { recursive: true, force: true });
  const flags = (name: string) => ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`];
  runRunner(runner, runnerArgs, [HEAP_CAP_FLAG, ...flags('renewer')]);
  runFloor(floorProgram, endpoint, vaultRequests, concurrency, flags('floor'));
  const renewer = summarizeProfile(join(dir, 'renewer'), runner);
  const floor = summarizeProfile(join(dir, 'floor'), floorProgram);
  console.log(`where the CPU went (node --cpu-prof, profiles in ${dir}):`);
  console.log(
    formatProfileTable([
      { name: 'renewer', summary: renewer },
      { name: 'floor', summary: floor },
    ]),
  );
}

async function latencyBound(
  runner: string,
  floorProgram: string,
  endpoint: string,
  concurrency: number,
) {
  const runnerArgs = [
    '--mode',
    'canned',
    '--endpoint',
    endpoint,
    '--targets',
    String(targetCount),
    '--concurrency',
    String(concurrency),
  ];
  const uncapped = runRunner(runner, runnerArgs, []);
  console.log(
    `measured runs under node ${HEAP_CAP_FLAG}; the same run without a cap: ${Math.round(uncapped.wallMs)} ms, peak RSS ${uncapped.peakRssMb} MB`,
  );
  const runs: { figures: RunnerFigures; stats: Record<string, number>; floor: FloorFigures }[] = [];
  for (let round = 1; round <= repeat; round += 1) {
    const before = await serverStats(endpoint);
    const figures = runRunner(runner, runnerArgs);
    const after = await serverStats(endpoint);
    const stats = Object.fromEntries(
      Object.entries(after).map(([key, value]) => [key, value - (before[key] ?? 0)]),
    );
    // The floor sends as many Vault requests as this run made, at its concurrency.
    const floor = runFloor(floorProgram, endpoint, stats.vault ?? 0, concurrency);
    console.log(
      `round ${round}: renewer ${Math.round(figures.wallMs)} ms wall, ${figures.cpuMs} ms CPU (${offMainThread(figures)} ms off the main thread); floor (${stats.vault ?? 0} bare undici Vault requests) ${Math.round(floor.wallMs)} ms wall, ${Math.round(floor.cpuMs)} ms CPU (${offMainThread(floor)} ms off the main thread)`,
    );
    runs.push({ figures, stats, floor });
  }
  const first = runs[0];
  if (first === undefined) throw new Error('--repeat takes a whole number >= 1');
  const { figures, stats } = first;
  const vaultRequests = stats.vault ?? 0;
  const wallMs = median(runs.map((r) => r.figures.wallMs));
  const cpuMs = median(runs.map((r) => r.figures.cpuMs));
  const floorWallMs = median(runs.map((r) => r.floor.wallMs));
  const floorCpuMs = median(runs.map((r) => r.floor.cpuMs));
  const floorBound = (vaultRequests * delayMs) / concurrency;
  console.log(
    `transport floor of this machine: the run's ${vaultRequests} Vault requests as bare undici POSTs at concurrency ${concurrency}: ${Math.round(floorWallMs)} ms wall, ${Math.round(floorCpuMs)} ms CPU = ${(floorWallMs / floorBound).toFixed(2)} x their own bound`,
  );
  console.log(`canned server saw (round 1): ${JSON.stringify(stats)}`);
  const roundTrips =
    (stats.vault ?? 0) +
    (stats.smBatchGet ?? 0) +
    (stats.smPut ?? 0) +
    (stats.snsPublish ?? 0) +
    (stats.ddbBatchGet ?? 0) +
    (stats.ddbPut ?? 0);
  const boundMs = (roundTrips * delayMs) / concurrency;
  console.log(
    `lower bound: ${roundTrips} round trips x ${delayMs} ms / concurrency ${concurrency} = ${boundMs.toFixed(0)} ms`,
  );
  if (args.profile) profile(runner, runnerArgs, floorProgram, endpoint, vaultRequests, concurrency);
  return {
    figures: { ...figures, wallMs, cpuMs },
    result: {
      wallMs: Math.round(wallMs),
      boundMs: Math.round(boundMs),
      ratio: Number((wallMs / boundMs).toFixed(2)),
      cpuMsPerTarget: Number((cpuMs / targetCount).toFixed(3)),
      cpuRatio: Number((cpuMs / floorCpuMs).toFixed(2)),
      floorRatio: Number((floorWallMs / floorBound).toFixed(2)),
      ...perTarget({
        vault: stats.vault ?? 0,
        smReads: stats.smBatchGet ?? 0,
        smWrites: stats.smPut ?? 0,
        snsPublishes: stats.snsPublish ?? 0,
      }),
      // Incident bookkeeping: batched reads per 100 targets, and writes (none when healthy).
      incidentReadsPer100Targets: Number(
        (((stats.ddbBatchGet ?? 0) * 100) / targetCount).toFixed(2),
      ),
      incidentWrites: stats.ddbPut ?? 0,
    },
  };
}

async function realStack(runner: string, concurrency: number) {
  const { startStack } = await import('../../tools/local-stack/stack.js');
  const { seedBenchFleet } = await import('./real-fleet.js');
  const stack = await startStack();
  try {
    const seeded = await seedBenchFleet(stack.env, targetCount);
    console.log(
      `seeded ${targetCount} targets on OpenBao + moto + PostgreSQL in ${seeded.seedMs} ms`,
    );
    const fleetFile = join(OUT, 'real-fleet.json');
    writeFileSync(
      fleetFile,
      JSON.stringify({
        targets: seeded.targets,
        topicArn: seeded.topicArn,
        secretsManagerEndpoint: stack.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
        snsEndpoint: stack.env.AWS_ENDPOINT_URL_SNS,
      }),
    );
    const figures = runRunner(runner, [
      '--mode',
      'real',
      '--fleet',
      fleetFile,
      '--concurrency',
      String(concurrency),
    ]);
    return {
      figures,
      result: { wallMs: Math.round(figures.wallMs), ...perTarget(figures.counts) },
    };
  } finally {
    await stack.stop();
  }
}

mkdirSync(OUT, { recursive: true });
console.log(`$ npm run bench -- ${process.argv.slice(2).join(' ')}`.trimEnd());
const cpuShare =
  args['cpu-share'] === undefined ? undefined : createCpuShare(Number(args['cpu-share']));
if (cpuShare !== undefined) console.log(`renewer and floor run under ${cpuShare.description}`);
/** The field scenario: the runner bundled as for the other modes, one RESULT line. */
async function fieldBench(name: FieldScenario): Promise<void> {
  const result = await runFieldScenario({
    scenario: name,
    runner: await buildProgram('runner'),
    repo: REPO,
    targets: targetCount,
    runs: Number(args.runs),
    timeScale: Number(args['time-scale']),
    concurrency: concurrencies[0] ?? DEFAULT_CONCURRENCY,
    ...(args['max-concurrency'] === undefined
      ? {}
      : { maxConcurrency: Number(args['max-concurrency']) }),
    // 80% of the field Vault's 300/s quota, as the deployed write budget is 40 of 50.
    ...(Number(args['vault-max-requests-per-second']) > 0
      ? { vaultMaxRequestsPerSecond: Number(args['vault-max-requests-per-second']) }
      : {}),
    nodeFlags: [FIELD_HEAP_CAP_FLAG],
  });
  console.log(`RESULT ${JSON.stringify(result)}`);
}

/**
 * Sample batches of the fan-out (fan-out-bench.ts) against the canned
 * server, and what they make of a run of 100,000 and of 1,000,000 targets.
 */
async function fanOutBench(): Promise<void> {
  const batchSize = Number(args['batch-size']);
  const maxConcurrency = Number(args['fan-out-concurrency']);
  const dist = join(OUT, 'dist');
  await bundle(dist);
  const entry = pathToFileURL(join(dist, 'renew', BUNDLE_FILE)).href;
  const shipped = join(OUT, 'targets.resolved.json');
  writeResolvedConfig(join(REPO, 'config', 'targets.yaml'), shipped);
  const inS3Source = join(OUT, 'fan-out.json');
  writeFileSync(
    inS3Source,
    JSON.stringify({
      version: 1,
      schedule: { intervalMinutes: 15 },
      vault: { address: 'https://vault.example.com' },
      secretAccess: { byTag: { key: 'vault-renewer:access' } },
      targetsObject: {},
      fanOut: { batchSize, maxConcurrency },
    }),
  );
  const inS3 = join(OUT, 'fan-out.resolved.json');
  writeResolvedConfig(inS3Source, inS3);
  const shippedMs = median(coldImportMs(entry, shipped));
  // The S3 config needs the bucket's name at cold start (it reads the object at the first run).
  const inS3Ms = median(coldImportMs(entry, inS3, { TARGETS_BUCKET: 'bench-targets' }));
  console.log(
    `cold import medians: ${shippedMs.toFixed(0)} ms shipped config, ${inS3Ms.toFixed(0)} ms with the targets in S3 (any fleet size)`,
  );

  const runner = await buildProgram('runner');
  const server = await startCannedServer();
  try {
    const endpoint = `http://127.0.0.1:${server.port}`;
    const samples = [1, 2, 3].map(() =>
      runRunner(runner, [
        '--mode',
        'canned',
        '--endpoint',
        endpoint,
        '--targets',
        String(batchSize),
        '--batch',
        String(maxConcurrency),
        '--concurrency',
        String(DEFAULT_CONCURRENCY),
      ]),
    );
    for (const sample of samples) {
      console.log(
        `batch of ${batchSize}: wall ${Math.round(sample.wallMs)} ms, CPU ${sample.cpuMs} ms, peak RSS ${sample.peakRssMb} MB, ${JSON.stringify(sample.summary)}`,
      );
    }
    const batchWallMs = median(samples.map((s) => s.wallMs));
    const batchCpuMs = median(samples.map((s) => s.cpuMs));
    const runs = [100_000, 1_000_000].map((targets) =>
      fanOutFigures(targets, {
        batchSize,
        maxConcurrency,
        batchWallMs,
        memoryGb: 0.5,
        runsPerMonth: 2920,
      }),
    );
    for (const figures of runs) console.log(`fan-out: ${JSON.stringify(figures)}`);
    console.log(
      `RESULT ${JSON.stringify({ batchSize, maxConcurrency, delayMs, batchWallMs: Math.round(batchWallMs), batchCpuMs, importMsShipped: Math.round(shippedMs), importMsTargetsInS3: Math.round(inS3Ms), runs })}`,
    );
  } finally {
    server.child.kill('SIGTERM');
  }
}

/** The latency-bound or real-stack bench, one RESULT line per concurrency. */
async function renewalBench(): Promise<void> {
  const { bundleKb, importMs, importMsLargeFleet } = await measureBundle();
  const runner = await buildProgram('runner');
  const floorProgram = await buildProgram('http-floor');
  const server = args.real ? undefined : await startCannedServer();
  try {
    for (const concurrency of concurrencies) {
      console.log(
        `${args.real ? 'real-stack' : 'latency-bound'} run: ${targetCount} targets, 1 lease each, concurrency ${concurrency}${args.real ? '' : `, ${delayMs} ms per round trip`}`,
      );
      const { figures, result } =
        server === undefined
          ? await realStack(runner, concurrency)
          : await latencyBound(
              runner,
              floorProgram,
              `http://127.0.0.1:${server.port}`,
              concurrency,
            );
      const { summary } = figures;
      console.log(
        `report: ${summary.targets} targets, ${summary.ok} ok, ${summary.changed} changed, ${summary.failed} failed, ${summary.skipped} skipped; ${(figures.logBytes / 1024 / 1024).toFixed(1)} MB of JSON logs produced`,
      );
      console.log(
        `wall ${Math.round(figures.wallMs)} ms = ${Math.round(targetCount / (figures.wallMs / 1000))} targets/s, ${figures.cpuMs} ms CPU (${(figures.cpuMs / targetCount).toFixed(3)} ms per target); peak RSS of the run ${figures.peakRssMb} MB`,
      );
      console.log(
        `RESULT ${JSON.stringify({ targets: targetCount, concurrency, ...result, peakRssMb: figures.peakRssMb, bundleKb, importMs, importMsLargeFleet })}`,
      );
    }
  } finally {
    server?.child.kill('SIGTERM');
  }
}

try {
  if (args['fan-out']) {
    await fanOutBench();
  } else if (args.setup) {
    const { setupBench } = await import('./setup-bench.js');
    console.log(`RESULT ${JSON.stringify(await setupBench(targetCount))}`);
  } else {
    await (scenario === undefined ? renewalBench() : fieldBench(scenario));
  }
} finally {
  cpuShare?.remove();
}
