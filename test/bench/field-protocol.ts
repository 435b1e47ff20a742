/**
 * What the field bench's three processes agree on: the driver (field.ts),
 * the simulated services (field-server.ts) and the renewer (runner.ts in
 * field mode). Names of the fleet's secrets and roles, the scenario in field
 * units, and the shapes of the server's control endpoints.
 *
 * Field units are the production world's: seconds of a 15-minute schedule,
 * 50 Secrets Manager writes per second. Time compression (`timeScale` K)
 * runs that world K times faster: every process divides durations by K and
 * multiplies rates by K on its own, so figures reported back are multiplied
 * again and read in field units.
 */

/** The fleet's secret names, role name and re-issue path for target `index`, as runner.ts configures them. */
export function fieldTargetNames(index: number) {
  return {
    name: `t${index}`,
    tokenSecretId: `bench/t${index}/token`,
    approleSecretId: `bench/t${index}/approle`,
    leaseSecretId: `bench/t${index}/db`,
    roleName: `bench-t${index}`,
  } as const;
}

/** The AppRole mount and dynamic-secrets path every target uses. */
export const FIELD_APPROLE_MOUNT = 'approle';
export const FIELD_REISSUE_PATH = 'database/creds/bench';

/** Which target a secret name or role name belongs to, and which of its secrets it is. */
export function parseFieldSecretName(
  name: string,
): { readonly index: number; readonly kind: 'token' | 'approle' | 'lease' } | undefined {
  const match = /^bench\/t(\d+)\/(token|approle|db)$/.exec(name);
  if (match?.[1] === undefined) return undefined;
  const kind = match[2] === 'db' ? 'lease' : (match[2] as 'token' | 'approle');
  return { index: Number(match[1]), kind };
}

export function parseFieldRoleName(role: string): number | undefined {
  const match = /^bench-t(\d+)$/.exec(role);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * The simulated world, in field units (seconds, requests per second), as the
 * driver hands it to the server with POST /__setup.
 */
export interface FieldSetup {
  readonly timeScale: number;
  readonly targets: number;
  /** Targets whose secret_id Vault refuses and whose token is already revoked. */
  readonly brokenTargets: number;
  /** Seeds the order in which the wave's max-TTL deadlines fall. */
  readonly seed: number;
  readonly scheduleIntervalSeconds: number;
  /**
   * The max-TTL deadlines of the tokens fall evenly between these many
   * seconds after run 1 starts and `waveSeconds`.
   */
  readonly waveFromSeconds: number;
  readonly waveSeconds: number;
  /** AppRole role settings: `token_ttl`, `token_max_ttl`. */
  readonly tokenTtlSeconds: number;
  readonly tokenMaxTtlSeconds: number;
  /** Database role settings: `default_ttl`, `max_ttl`. */
  readonly leaseTtlSeconds: number;
  readonly leaseMaxTtlSeconds: number;
  /** Every answer waits latency ± jitter (uniform), field milliseconds. */
  readonly latencyMs: number;
  readonly latencyJitterMs: number;
  /** PutSecretValue above this, in any one-second window, answers ThrottlingException. */
  readonly smWritesPerSecond: number;
  /** Vault requests above this, in any one-second window, answer 429. */
  readonly vaultRequestsPerSecond: number;
  /** Vault's user lockout: refused logins that lock the role, for how long, counter reset. */
  readonly lockoutAttempts: number;
  readonly lockoutSeconds: number;
  readonly lockoutCounterResetSeconds: number;
}

/** The answer to POST /__setup. */
export interface FieldSetupAnswer {
  /** Server clock (epoch ms) at which run 1 is due to start; the wave is placed after it. */
  readonly firstRunAtMs: number;
  readonly brokenTargets: readonly number[];
}

/** The answer to POST /__run/begin: the clock the renewer must use. */
export interface RunClock {
  readonly offsetMs: number;
  readonly nowMs: number;
  /** How far the clock already was past the run's due time (0 when it was moved to it). */
  readonly lateMs: number;
}

/** What one run did, from the server's side (POST /__run/end). Rates are field rates. */
export interface RunStats {
  readonly run: number;
  readonly vaultRequests: number;
  readonly vaultThrottled: number;
  readonly renewSelf: number;
  readonly renewCapped: number;
  readonly logins: number;
  readonly loginsWithRefusedSecret: number;
  readonly loginsLockedOut: number;
  readonly leaseRenewals: number;
  readonly leasesIssued: number;
  readonly smReads: number;
  readonly smWriteAttempts: number;
  readonly smWritesAccepted: number;
  readonly throttledWrites: number;
  /** PutSecretValue requests in the busiest one-second (field) window, throttled ones included. */
  readonly maxSmWritesPerSecond: number;
  /** The same, counting only the writes accepted. */
  readonly maxSmWritesAcceptedPerSecond: number;
  readonly maxVaultRequestsPerSecond: number;
  readonly snsPublishes: number;
  readonly messagesByEvent: Readonly<Record<string, number>>;
  readonly changeEvents: number;
  readonly incidentReads: number;
  readonly incidentWrites: number;
  readonly incidentConflicts: number;
  /** Replaced tokens the renewer revoked (retireReplaced). */
  readonly tokensRevoked: number;
  /** Stored credentials found dead since the previous run ended (the gap before this run included). */
  readonly credentialsDied: number;
  /** Targets none of whose tokens made a Vault call in this run (one Vault served: a 429 is no visit). */
  readonly unvisitedTargets: number;
  /** The server's CPU over the run, % of one core: near 100 it answers late, whatever the latency says. */
  readonly serverCpuPercent: number;
  /** Requests the server does not speak, by operation: a renewer that changed its calls shows here. */
  readonly unhandled: Readonly<Record<string, number>>;
}

/** GET /__stats: the whole scenario so far. */
export interface FieldTotals {
  readonly runs: readonly RunStats[];
  readonly credentialsDied: number;
  readonly credentialsDiedAfterLastRun: number;
  /** Dead before run 1 by construction (the broken targets'): never counted as died. */
  readonly credentialsDeadAtStart: number;
  readonly tokensDied: number;
  readonly leasesDied: number;
  readonly maxRunsUnvisited: number;
  readonly maxSmWritesPerSecond: number;
  readonly maxSmWritesAcceptedPerSecond: number;
  readonly maxVaultRequestsPerSecond: number;
  readonly throttledWrites: number;
  readonly vaultThrottled: number;
  readonly loginsWithRefusedSecret: number;
  readonly loginsLockedOut: number;
  /** SNS messages naming each broken target over the whole scenario: the largest count, and how many got more than one. */
  readonly maxMessagesPerBrokenTarget: number;
  readonly brokenTargetsMessagedMoreThanOnce: number;
  /** SNS messages about a shared cause (a Vault, Secrets Manager), not a target. */
  readonly causeMessages: number;
}
