/**
 * Fan-out figures (`npm run bench -- --fan-out`): a run of 100,000 and of
 * 1,000,000 targets in batches, from what one batch measures. Each sample
 * batch is the real batch handler (renewBatch) over `batchSize` targets
 * against the canned Vault and AWS, in a fresh process, as a cold Lambda
 * runs it; the run's wall time, Lambda duration, state transitions and
 * requests follow from the batch count. Cold import is measured with a
 * config whose targets live in S3 (the bundle holds none), so it does not
 * depend on the fleet's size.
 */

/** Prices in US East (N. Virginia), as docs/deploy.md quotes them (read 1 December 2026). */
export const PRICES = {
  /** Lambda on arm64 (the stack's architecture), per GB-second and per request. */
  lambdaGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** Step Functions Standard, per state transition. */
  transition: 0.025 / 1000,
  s3Get: 0.0004 / 1000,
  s3Put: 0.005 / 1000,
  /** Secrets Manager, per API call (BatchGetSecretValue counted per call: UNCONFIRMED). */
  secretsManagerCall: 0.05 / 10_000,
} as const;

export interface BatchSample {
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly peakRssMb: number;
}

export interface FanOutFigures {
  readonly targets: number;
  readonly batches: number;
  /** Rounds of `maxConcurrency` batches: the run's length in batch times. */
  readonly rounds: number;
  readonly runSeconds: number;
  readonly lambdaGbSeconds: number;
  readonly transitions: number;
  readonly costPerRun: number;
  /** The run's cost by service, dollars. */
  readonly costPerRunBy: {
    readonly lambda: number;
    readonly stepFunctions: number;
    readonly s3: number;
    readonly secretsManager: number;
  };
  readonly costPerMonth: number;
}

/**
 * Per batch child execution: entering and leaving the RenewBatch task, and
 * the child's start (an estimate from the definition's shape, not a bill);
 * per run: the map, its end, the aggregate task.
 */
const TRANSITIONS_PER_BATCH = 3;
const TRANSITIONS_PER_RUN = 4;
/** Three secrets a target, 20 a BatchGetSecretValue call. */
const SECRETS_PER_TARGET = 3;
const SECRETS_PER_READ = 20;

export function fanOutFigures(
  targets: number,
  options: {
    readonly batchSize: number;
    readonly maxConcurrency: number;
    readonly batchWallMs: number;
    readonly memoryGb: number;
    readonly runsPerMonth: number;
  },
): FanOutFigures {
  const batches = Math.ceil(targets / options.batchSize);
  const rounds = Math.ceil(batches / options.maxConcurrency);
  const batchSeconds = options.batchWallMs / 1000;
  const lambdaGbSeconds = batches * batchSeconds * options.memoryGb;
  const transitions = TRANSITIONS_PER_RUN + batches * TRANSITIONS_PER_BATCH;
  // The item reader's GET, the results (one object per file, a few) and the report.
  const s3Gets = 1 + 3;
  const s3Puts = 3 + 1;
  const secretReads = Math.ceil((targets * SECRETS_PER_TARGET) / SECRETS_PER_READ);
  const by = {
    lambda: lambdaGbSeconds * PRICES.lambdaGbSecond + (batches + 1) * PRICES.lambdaRequest,
    stepFunctions: transitions * PRICES.transition,
    s3: s3Gets * PRICES.s3Get + s3Puts * PRICES.s3Put,
    secretsManager: secretReads * PRICES.secretsManagerCall,
  };
  const costPerRun = by.lambda + by.stepFunctions + by.s3 + by.secretsManager;
  const dollars = (value: number) => Number(value.toFixed(5));
  return {
    targets,
    batches,
    rounds,
    runSeconds: Number((rounds * batchSeconds).toFixed(1)),
    lambdaGbSeconds: Number(lambdaGbSeconds.toFixed(1)),
    transitions,
    costPerRun: dollars(costPerRun),
    costPerRunBy: {
      lambda: dollars(by.lambda),
      stepFunctions: dollars(by.stepFunctions),
      s3: dollars(by.s3),
      secretsManager: dollars(by.secretsManager),
    },
    costPerMonth: Number((costPerRun * options.runsPerMonth).toFixed(2)),
  };
}
