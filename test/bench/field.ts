/**
 * The field bench (`npm run bench -- --scenario field` / `field-broken`):
 * six scheduled runs of the real renewer (runner.ts, bundled, one process
 * per run as a cold Lambda would be) against field-server.ts, a stateful
 * Vault + Secrets Manager + DynamoDB + SNS + EventBridge with the field's
 * latency and quotas, on a clock moved forward so runs start every interval.
 *
 * The fleet is a wave: every token's max-TTL deadline falls inside run 1's
 * horizon (two intervals + 60 s, functions/core/lifetime.ts) and past the
 * previous run's, spread evenly over the last interval of it, so every token
 * must be replaced by a login within two runs (three for the last minute of
 * the wave) and each login writes two secrets against a quota of 50 writes
 * per second: 20,000 writes for 10,000 targets, where a run makes about
 * 11,600 at the default 40 per second.
 * `field-broken` adds 100 targets whose token is already revoked and whose
 * secret_id Vault refuses: the claims to check are at most one refused login
 * and at most one message per such target over the six runs.
 *
 * Time compression: everything runs `timeScale` (K) times faster than the
 * field (field-protocol.ts); RESULT reports field seconds and field rates.
 */

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { request } from 'undici';
import type { FieldSetup, FieldSetupAnswer, FieldTotals, RunStats } from './field-protocol.js';

export const FIELD_SCENARIOS = ['field', 'field-broken'] as const;
export type FieldScenario = (typeof FIELD_SCENARIOS)[number];

export interface FieldOptions {
  readonly scenario: FieldScenario;
  /** The bundled runner.ts. */
  readonly runner: string;
  readonly repo: string;
  readonly targets: number;
  readonly runs: number;
  readonly timeScale: number;
  readonly concurrency: number;
  /** pacing.maxConcurrency; the deployed default when absent. */
  readonly maxConcurrency?: number;
  /** The renewer's own ceiling for the Vault (field requests per second); none when absent. */
  readonly vaultMaxRequestsPerSecond?: number;
  /** Node flags of each run's process (the heap cap the other benches use). */
  readonly nodeFlags: readonly string[];
}

/** The field, in field units: the deployed schedule, Vault and AWS as the reference files describe them. */
const FIELD = {
  scheduleIntervalSeconds: 900,
  /** The renew function's timeout. */
  deadlineSeconds: 300,
  /** Horizon of functions/core/lifetime.ts: two intervals plus 60 s. */
  horizonMarginSeconds: 60,
  incrementSeconds: 3600,
  tokenTtlSeconds: 3600,
  tokenMaxTtlSeconds: 86_400,
  leaseTtlSeconds: 3600,
  leaseMaxTtlSeconds: 86_400,
  latencyMs: 50,
  latencyJitterMs: 20,
  /** Secrets Manager's write quota, not adjustable (aws-facts "quotas"). */
  smWritesPerSecond: 50,
  /** A Vault rate-limit quota a fleet renewed from one address would meet. */
  vaultRequestsPerSecond: 300,
  /** Vault's user lockout defaults (vault-facts §2, "Lockout"). */
  lockoutAttempts: 5,
  lockoutSeconds: 900,
  lockoutCounterResetSeconds: 900,
  brokenTargets: 100,
  seed: 20_261_206,
} as const;

interface RunnerFigures {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
  readonly summary?: Record<string, number>;
  readonly notifications?: { readonly published: number; readonly failed: number };
  readonly handlerError?: string;
}

async function startFieldServer(repo: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'test/bench/field-server.ts')],
    { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    child.once('exit', (code) => reject(new Error(`field server exited with ${code}`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /PORT (\d+)/.exec(chunk.toString());
      if (match?.[1] !== undefined) resolvePort(Number(match[1]));
    });
  });
  return { endpoint: `http://127.0.0.1:${port}`, child };
}

async function call<T>(url: string, method: 'GET' | 'POST', body?: unknown): Promise<T> {
  // A connection of its own: minutes pass between two control calls.
  const answer = await request(url, {
    method,
    reset: true,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  const text = await answer.body.text();
  if (answer.statusCode !== 200) throw new Error(`${method} ${url}: ${answer.statusCode} ${text}`);
  return JSON.parse(text) as T;
}

/** One scheduled run: the renewer in a process of its own, until it exits. */
function runOnce(options: FieldOptions, runnerArgs: string[]): Promise<RunnerFigures> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [...options.nodeFlags, options.runner, ...runnerArgs], {
      cwd: options.repo,
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      const match = /FIGURES (.+)/.exec(stdout);
      if (match?.[1] === undefined) {
        reject(new Error(`runner failed (${code}): ${stderr.slice(-2000)}`));
        return;
      }
      if (stderr.trim() !== '') console.log(`  runner said: ${stderr.trim().slice(-500)}`);
      resolveRun(JSON.parse(match[1]) as RunnerFigures);
    });
  });
}

const round1 = (value: number): number => Math.round(value * 10) / 10;
/** A renewer busier than this (% of one core) may lag behind the compressed clock. */
const CPU_BOUND_PERCENT = 80;

export async function runFieldScenario(options: FieldOptions): Promise<Record<string, unknown>> {
  const { timeScale, targets, runs } = options;
  const broken = options.scenario === 'field-broken' ? FIELD.brokenTargets : 0;
  const setup: FieldSetup = {
    timeScale,
    targets,
    brokenTargets: broken,
    seed: FIELD.seed,
    scheduleIntervalSeconds: FIELD.scheduleIntervalSeconds,
    // From where the previous run's horizon ended to where run 1's ends: the
    // wave is new to run 1, as it is to the first run that sees a fleet
    // bootstrapped on one day come up to its max TTL. Deadlines before that
    // would have been inside the previous run's horizon, and that run (its
    // renewals are where the tokens' TTLs stand) would have replaced them.
    waveFromSeconds: FIELD.scheduleIntervalSeconds + FIELD.horizonMarginSeconds,
    waveSeconds: 2 * FIELD.scheduleIntervalSeconds + FIELD.horizonMarginSeconds,
    tokenTtlSeconds: FIELD.tokenTtlSeconds,
    tokenMaxTtlSeconds: FIELD.tokenMaxTtlSeconds,
    leaseTtlSeconds: FIELD.leaseTtlSeconds,
    leaseMaxTtlSeconds: FIELD.leaseMaxTtlSeconds,
    latencyMs: FIELD.latencyMs,
    latencyJitterMs: FIELD.latencyJitterMs,
    smWritesPerSecond: FIELD.smWritesPerSecond,
    vaultRequestsPerSecond: FIELD.vaultRequestsPerSecond,
    lockoutAttempts: FIELD.lockoutAttempts,
    lockoutSeconds: FIELD.lockoutSeconds,
    lockoutCounterResetSeconds: FIELD.lockoutCounterResetSeconds,
  };
  console.log(
    `field scenario ${options.scenario}: ${targets} targets (${broken} broken), ${runs} runs every ${FIELD.scheduleIntervalSeconds} s, deadline ${FIELD.deadlineSeconds} s, concurrency ${options.concurrency}, time scale ${timeScale} (field figures below)`,
  );
  const server = await startFieldServer(options.repo);
  const startedMs = performance.now();
  try {
    const { firstRunAtMs } = await call<FieldSetupAnswer>(
      `${server.endpoint}/__setup`,
      'POST',
      setup,
    );
    const intervalMs = (FIELD.scheduleIntervalSeconds * 1000) / timeScale;
    const figures: RunnerFigures[] = [];
    const stats: RunStats[] = [];
    const cpuPercents: number[] = [];
    for (let run = 1; run <= runs; run += 1) {
      // Runs start every interval on the server's clock, however long the last one took.
      const dueMs = firstRunAtMs + (run - 1) * intervalMs;
      const result = await runOnce(options, [
        '--mode',
        'field',
        '--endpoint',
        server.endpoint,
        '--targets',
        String(targets),
        '--concurrency',
        String(options.concurrency),
        '--time-scale',
        String(timeScale),
        '--interval-seconds',
        String(FIELD.scheduleIntervalSeconds),
        '--deadline-seconds',
        String(FIELD.deadlineSeconds),
        '--increment-seconds',
        String(FIELD.incrementSeconds),
        '--clock-url',
        `${server.endpoint}/__run/begin?run=${run}&at=${dueMs}`,
        ...(options.maxConcurrency === undefined
          ? []
          : ['--max-concurrency', String(options.maxConcurrency)]),
        ...(options.vaultMaxRequestsPerSecond === undefined
          ? []
          : ['--vault-max-requests-per-second', String(options.vaultMaxRequestsPerSecond)]),
      ]);
      const runStats = await call<RunStats>(`${server.endpoint}/__run/end`, 'POST');
      figures.push(result);
      stats.push(runStats);
      const summary = result.summary ?? {};
      const cpuPercent = Math.round((100 * result.cpuMs) / result.wallMs);
      cpuPercents.push(cpuPercent);
      console.log(
        `run ${run}: ${round1((result.wallMs * timeScale) / 1000)} s (renewer CPU ${cpuPercent}% of one core, peak RSS ${result.peakRssMb} MB; server CPU ${runStats.serverCpuPercent}%), ${summary.ok ?? '?'} ok / ${summary.changed ?? '?'} changed / ${summary.failed ?? '?'} failed / ${summary.skipped ?? '?'} skipped; renewals ${runStats.renewSelf} (${runStats.renewCapped} capped); logins ${runStats.logins} (${runStats.loginsWithRefusedSecret} refused secret_id, ${runStats.loginsLockedOut} locked out); ${runStats.tokensRevoked} replaced tokens revoked; writes ${runStats.smWriteAttempts} (${runStats.throttledWrites} throttled, busiest second ${runStats.maxSmWritesPerSecond}); Vault ${runStats.vaultRequests} requests (${runStats.vaultThrottled} 429, busiest second ${runStats.maxVaultRequestsPerSecond}); ${runStats.snsPublishes} messages ${JSON.stringify(runStats.messagesByEvent)}; ${runStats.credentialsDied} credentials died; ${runStats.unvisitedTargets} targets unvisited${result.handlerError === undefined ? '' : `; handler: ${result.handlerError}`}${Object.keys(runStats.unhandled).length === 0 ? '' : `; unhandled ${JSON.stringify(runStats.unhandled)}`}`,
      );
    }
    // Deaths the last run left behind: the clock moves to when the next run would start.
    await call(`${server.endpoint}/__advance`, 'POST', { toMs: firstRunAtMs + runs * intervalMs });
    const totals = await call<FieldTotals>(`${server.endpoint}/__stats`, 'GET');
    console.log(
      `field scenario took ${round1((performance.now() - startedMs) / 1000)} s of wall time; ${totals.credentialsDeadAtStart} credentials were dead before run 1 (broken targets), not counted as died`,
    );
    if (Math.max(...cpuPercents) > CPU_BOUND_PERCENT) {
      // Compression asks K times the field's CPU rate of the renewer; past one core it lags
      // behind the clock, and the field figures read slower than the field would be.
      console.log(
        `warning: the renewer used up to ${Math.max(...cpuPercents)}% of a core: compressed ${timeScale}x, it may be CPU-bound; try a lower --time-scale`,
      );
    }
    return {
      scenario: options.scenario,
      targets,
      brokenTargets: broken,
      runs,
      timeScale,
      concurrency: options.concurrency,
      ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      ...(options.vaultMaxRequestsPerSecond === undefined
        ? {}
        : { vaultMaxRequestsPerSecond: options.vaultMaxRequestsPerSecond }),
      intervalSeconds: FIELD.scheduleIntervalSeconds,
      deadlineSeconds: FIELD.deadlineSeconds,
      credentialsDied: totals.credentialsDied,
      tokensDied: totals.tokensDied,
      leasesDied: totals.leasesDied,
      credentialsDiedPerRun: stats.map((run) => run.credentialsDied),
      credentialsDiedAfterLastRun: totals.credentialsDiedAfterLastRun,
      maxRunsUnvisited: totals.maxRunsUnvisited,
      maxSmWritesPerSecond: totals.maxSmWritesPerSecond,
      maxSmWritesAcceptedPerSecond: totals.maxSmWritesAcceptedPerSecond,
      throttledWrites: totals.throttledWrites,
      vaultThrottled: totals.vaultThrottled,
      maxVaultRequestsPerSecond: totals.maxVaultRequestsPerSecond,
      loginsWithRefusedSecret: totals.loginsWithRefusedSecret,
      loginsLockedOut: totals.loginsLockedOut,
      maxMessagesPerBrokenTarget: totals.maxMessagesPerBrokenTarget,
      brokenTargetsMessagedMoreThanOnce: totals.brokenTargetsMessagedMoreThanOnce,
      messagesPerRun: stats.map((run) => run.snsPublishes),
      runSeconds: figures.map((run) => round1((run.wallMs * timeScale) / 1000)),
      renewerCpuPercentPerRun: cpuPercents,
      serverCpuPercentPerRun: stats.map((run) => run.serverCpuPercent),
      peakRssMbPerRun: figures.map((run) => run.peakRssMb),
      loginsPerRun: stats.map((run) => run.logins),
      replacedTokensRevokedPerRun: stats.map((run) => run.tokensRevoked),
      writesPerRun: stats.map((run) => run.smWriteAttempts),
      failedPerRun: figures.map((run) => run.summary?.failed ?? null),
      skippedPerRun: figures.map((run) => run.summary?.skipped ?? null),
    };
  } finally {
    server.child.kill('SIGTERM');
  }
}
