/**
 * The field bench's simulated world: one Vault, one Secrets Manager account,
 * one incident table, on a clock the driver moves forward. field-vault.ts and
 * field-aws.ts speak the wire protocols over this state; this file keeps the
 * state and the bookkeeping the bench reports: which stored credentials died,
 * which targets a run left untouched, the busiest one-second windows.
 *
 * Time compression: the world runs at the machine's speed, K times faster
 * than the field (field-protocol.ts). A field duration of D seconds lasts
 * D / K seconds here, Vault's TTLs are field TTLs / K in whole seconds, and a
 * field rate limit of R per second is R per 1 / K second here.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import {
  FIELD_REISSUE_PATH,
  type FieldSetup,
  type FieldSetupAnswer,
  type FieldTotals,
  fieldTargetNames,
  parseFieldSecretName,
  type RunClock,
  type RunStats,
} from './field-protocol.js';

/** One HTTP answer, as the server sends it after the simulated latency. */
export interface Reply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The server's clock: the machine's, moved forward (never back) by the driver. */
export class SimClock {
  private offset = 0;

  public now(): number {
    return Date.now() + this.offset;
  }

  public get offsetMs(): number {
    return this.offset;
  }

  /**
   * Moves the clock forward to `atMs`; answers how far past it the clock
   * already was. Whole milliseconds, as Date.now: the renewer's deadlines
   * become AbortSignal.timeout delays, which must be integers.
   */
  public advanceTo(atMs: number): number {
    const late = this.now() - Math.ceil(atMs);
    if (late < 0) this.offset -= late;
    return Math.max(0, late);
  }
}

/**
 * Events in the last `windowMs` (a sliding window): whether one more fits
 * under `limit`, and the most events any window held (this run, and overall).
 */
export class SlidingWindow {
  private readonly times: number[] = [];
  private head = 0;
  public runMax = 0;
  public totalMax = 0;

  public constructor(
    private readonly windowMs: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {}

  private evict(atMs: number): number {
    while (this.head < this.times.length && (this.times[this.head] ?? 0) <= atMs - this.windowMs) {
      this.head += 1;
    }
    // Compacted now and then: a run records tens of thousands of events.
    if (this.head > 4096 && this.head * 2 > this.times.length) {
      this.times.splice(0, this.head);
      this.head = 0;
    }
    return this.times.length - this.head;
  }

  public full(atMs: number): boolean {
    return this.evict(atMs) >= this.limit;
  }

  public record(atMs: number): void {
    this.times.push(atMs);
    const inWindow = this.evict(atMs);
    this.runMax = Math.max(this.runMax, inWindow);
    this.totalMax = Math.max(this.totalMax, inWindow);
  }

  /** Milliseconds until the oldest event in the window leaves it. */
  public msUntilRoom(atMs: number): number {
    this.evict(atMs);
    const oldest = this.times[this.head];
    return oldest === undefined ? 0 : oldest + this.windowMs - atMs;
  }
}

const COUNTERS = [
  'vaultRequests',
  'vaultThrottled',
  'renewSelf',
  'renewCapped',
  'logins',
  'loginsWithRefusedSecret',
  'loginsLockedOut',
  'leaseRenewals',
  'leasesIssued',
  'smReads',
  'smWriteAttempts',
  'smWritesAccepted',
  'throttledWrites',
  'snsPublishes',
  'causeMessages',
  'changeEvents',
  'incidentReads',
  'incidentWrites',
  'incidentConflicts',
  'tokensRevoked',
  'credentialsDied',
  'tokensDied',
  'leasesDied',
] as const;
export type CounterName = (typeof COUNTERS)[number];
type Tally = Record<CounterName, number>;

const emptyTally = (): Tally =>
  Object.fromEntries(COUNTERS.map((name) => [name, 0])) as Record<CounterName, number>;

export interface Token {
  readonly id: string;
  readonly accessor: string;
  readonly target: number;
  readonly issuedMs: number;
  /** The max-TTL deadline: issue time + the role's token_max_ttl. */
  readonly maxMs: number;
  readonly creationTtlSeconds: number;
  expireMs: number;
  lastRenewalMs: number | undefined;
  revoked: boolean;
}

export interface Lease {
  readonly id: string;
  readonly target: number;
  /** Leases die with the token that created them (vault-facts §4). */
  readonly owner: Token;
  readonly issuedMs: number;
  readonly maxMs: number;
  expireMs: number;
  lastRenewalMs: number | undefined;
  readonly data: { readonly username: string; readonly password: string };
}

export interface Role {
  readonly target: number;
  readonly name: string;
  readonly roleId: string;
  /** The secret_id Vault accepts; the broken targets' AppRole secrets hold another one. */
  readonly secretId: string;
  /** Vault's user lockout state, keyed by role_id. */
  failures: number;
  lastFailureMs: number;
  lockedUntilMs: number;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  versionId: string;
  value: string;
  createdMs: number;
  /** ClientRequestToken → the value it wrote: PutSecretValue is idempotent on it. */
  readonly versions: Map<string, string>;
  /** The version AWSPREVIOUS labels: the one the current version replaced. */
  previous?: { readonly versionId: string; readonly value: string };
}

interface TargetState {
  readonly broken: boolean;
  /** The token and lease ids the target's secrets hold now. */
  storedToken: string | undefined;
  storedLease: string | undefined;
  touched: boolean;
  unvisitedStreak: number;
  maxUnvisited: number;
  messages: number;
}

/** Vault-looking random ids: base64url, 24 characters (the renewer scrubs values of 8+). */
export function randomId(): string {
  return randomBytes(18).toString('base64url');
}

/** Seeded [0, 1) numbers, so a scenario places its wave the same way every time (mulberry32). */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const SECRET_ARN_PREFIX = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:';
/** Time between setup and run 1; the driver moves the clock over it, so it costs no wall time. */
const SETUP_LEAD_MS = 60_000;

export class FieldWorld {
  public readonly clock = new SimClock();
  public setup: FieldSetup | undefined;
  public readonly tokens = new Map<string, Token>();
  public readonly leases = new Map<string, Lease>();
  public readonly rolesById = new Map<string, Role>();
  public readonly rolesByName = new Map<string, Role>();
  public readonly secrets = new Map<string, StoredSecret>();
  /** Incident items by table, then by their `scope` key, as DynamoDB JSON. */
  public readonly items = new Map<string, Map<string, Record<string, unknown>>>();
  private targets: TargetState[] = [];
  /** Credentials dead before run 1 by construction (broken targets): not the renewer's doing. */
  private readonly deadAtStart = new Set<string>();
  private readonly died = new Set<string>();
  public vaultWindow = new SlidingWindow(1000);
  public smWindow = new SlidingWindow(1000);
  /** Every write attempt, throttled ones too: the rate the renewer asked for. */
  public smAttemptWindow = new SlidingWindow(1000);
  private run = 0;
  private runTally = emptyTally();
  private readonly total = emptyTally();
  private runEvents: Record<string, number> = {};
  private runUnhandled: Record<string, number> = {};
  private readonly runs: RunStats[] = [];
  private runCpu = process.cpuUsage();
  private runStartedMs = performance.now();

  public get timeScale(): number {
    return this.setup?.timeScale ?? 1;
  }

  /** A field duration in this world's milliseconds. */
  public ms(fieldSeconds: number): number {
    return (fieldSeconds * 1000) / this.timeScale;
  }

  /** A field duration as the whole seconds Vault speaks in this world. */
  public vaultSeconds(fieldSeconds: number): number {
    return Math.max(1, Math.round(fieldSeconds / this.timeScale));
  }

  public bump(name: CounterName, by = 1): void {
    this.runTally[name] += by;
    this.total[name] += by;
  }

  public unhandled(what: string): void {
    this.runUnhandled[what] = (this.runUnhandled[what] ?? 0) + 1;
  }

  public messagePublished(attributes: ReadonlyMap<string, string>): void {
    this.bump('snsPublishes');
    // A resolution carries its incident's event code too; its state tells it apart.
    const state = attributes.get('state');
    const event = `${attributes.get('event') ?? '(none)'}${state === undefined ? '' : `/${state}`}`;
    this.runEvents[event] = (this.runEvents[event] ?? 0) + 1;
    if (attributes.has('cause')) this.bump('causeMessages');
    const target = /^t(\d+)$/.exec(attributes.get('target') ?? '')?.[1];
    const about = target === undefined ? undefined : this.targets[Number(target)];
    if (about !== undefined) about.messages += 1;
  }

  /** Vault served a request made with this token (dead or alive): its target was visited this run. */
  public touch(token: Token): void {
    const state = this.targets[token.target];
    if (state !== undefined) state.touched = true;
  }

  public tokenAlive(token: Token, atMs: number): boolean {
    return !token.revoked && atMs < token.expireMs;
  }

  public leaseAlive(lease: Lease, atMs: number): boolean {
    return atMs < lease.expireMs && this.tokenAlive(lease.owner, atMs);
  }

  public issueToken(target: number, ttlSeconds: number, maxMs: number, atMs: number): Token {
    const token: Token = {
      id: `hvs.${randomId()}`,
      accessor: randomId(),
      target,
      issuedMs: atMs,
      maxMs,
      creationTtlSeconds: ttlSeconds,
      expireMs: Math.min(atMs + ttlSeconds * 1000, maxMs),
      lastRenewalMs: undefined,
      revoked: false,
    };
    this.tokens.set(token.id, token);
    return token;
  }

  public issueLease(owner: Token, ttlSeconds: number, maxMs: number, atMs: number): Lease {
    const lease: Lease = {
      id: `database/creds/bench/${randomId()}`,
      target: owner.target,
      owner,
      issuedMs: atMs,
      maxMs,
      expireMs: Math.min(atMs + ttlSeconds * 1000, maxMs),
      lastRenewalMs: undefined,
      data: { username: `v-approle-bench-${randomId().slice(0, 12)}`, password: randomId() },
    };
    this.leases.set(lease.id, lease);
    return lease;
  }

  /** Builds the fleet: roles, tokens on the wave, leases, and the secrets that hold them. */
  public configure(setup: FieldSetup): FieldSetupAnswer {
    if (this.setup !== undefined) throw new Error('the field world is set up once per process');
    this.setup = setup;
    const windowMs = 1000 / setup.timeScale;
    this.vaultWindow = new SlidingWindow(windowMs, setup.vaultRequestsPerSecond);
    this.smWindow = new SlidingWindow(windowMs, setup.smWritesPerSecond);
    this.smAttemptWindow = new SlidingWindow(windowMs);

    const firstRunAtMs = this.clock.now() + SETUP_LEAD_MS;
    const count = setup.targets;
    // The wave: max-TTL deadlines spread evenly over its window, in a seeded
    // order unrelated to the config order (which the renewer walks).
    const random = seededRandom(setup.seed);
    const rank = Array.from({ length: count }, (_, i) => i);
    for (let i = count - 1; i > 0; i -= 1) {
      const j = Math.floor(random() * (i + 1));
      [rank[i], rank[j]] = [rank[j] as number, rank[i] as number];
    }
    const brokenEvery =
      setup.brokenTargets > 0 ? Math.max(1, Math.floor(count / setup.brokenTargets)) : 0;
    const broken: number[] = [];
    // Renewed by the previous scheduled run, one interval before run 1, with the increment.
    const lastRenewalMs = firstRunAtMs - this.ms(setup.scheduleIntervalSeconds);
    const tokenTtl = this.vaultSeconds(setup.tokenTtlSeconds);
    const leaseTtl = this.vaultSeconds(setup.leaseTtlSeconds);

    for (let index = 0; index < count; index += 1) {
      const isBroken =
        brokenEvery > 0 && index % brokenEvery === 0 && broken.length < setup.brokenTargets;
      if (isBroken) broken.push(index);
      const names = fieldTargetNames(index);
      const role: Role = {
        target: index,
        name: names.roleName,
        roleId: randomUUID(),
        secretId: randomUUID(),
        failures: 0,
        lastFailureMs: 0,
        lockedUntilMs: 0,
      };
      this.rolesById.set(role.roleId, role);
      this.rolesByName.set(role.name, role);

      const maxMs =
        firstRunAtMs +
        this.ms(setup.waveFromSeconds) +
        (((rank[index] ?? 0) + 0.5) / count) * this.ms(setup.waveSeconds - setup.waveFromSeconds);
      const issuedMs = maxMs - this.ms(setup.tokenMaxTtlSeconds);
      const token = this.issueToken(index, tokenTtl, maxMs, issuedMs);
      token.expireMs = Math.min(lastRenewalMs + tokenTtl * 1000, maxMs);
      token.lastRenewalMs = lastRenewalMs;
      // Issued with the token, so its own max TTL counts from the same moment.
      const lease = this.issueLease(
        token,
        leaseTtl,
        issuedMs + this.ms(setup.leaseMaxTtlSeconds),
        issuedMs,
      );
      lease.expireMs = Math.min(lastRenewalMs + leaseTtl * 1000, lease.maxMs);
      lease.lastRenewalMs = lastRenewalMs;
      if (isBroken) {
        // Revoked: the renewer must log in, and its secret_id is refused.
        token.revoked = true;
        this.deadAtStart.add(token.id);
        this.deadAtStart.add(lease.id);
      }
      this.targets.push({
        broken: isBroken,
        storedToken: token.id,
        storedLease: lease.id,
        touched: false,
        unvisitedStreak: 0,
        maxUnvisited: 0,
        messages: 0,
      });
      this.createSecret(
        names.tokenSecretId,
        JSON.stringify({ token: token.id, accessor: token.accessor }),
      );
      this.createSecret(
        names.approleSecretId,
        JSON.stringify({
          role_id: role.roleId,
          secret_id: isBroken ? randomUUID() : role.secretId,
        }),
      );
      this.createSecret(
        names.leaseSecretId,
        JSON.stringify({
          lease_id: lease.id,
          lease_duration: leaseTtl,
          renewable: true,
          data: lease.data,
          path: FIELD_REISSUE_PATH,
          token_accessor: token.accessor,
        }),
      );
    }
    return { firstRunAtMs, brokenTargets: broken };
  }

  private createSecret(name: string, value: string): void {
    const versionId = randomUUID();
    this.secrets.set(name, {
      name,
      arn: `${SECRET_ARN_PREFIX}${name}-${randomId().slice(0, 6).replace(/[-_]/g, 'x')}`,
      versionId,
      value,
      createdMs: this.clock.now(),
      versions: new Map([[versionId, value]]),
    });
  }

  /** A secret by name or ARN, as Secrets Manager finds it. */
  public secret(id: string): StoredSecret | undefined {
    const byName = this.secrets.get(id);
    if (byName !== undefined) return byName;
    const name = id.startsWith(SECRET_ARN_PREFIX)
      ? id.slice(SECRET_ARN_PREFIX.length).replace(/-[A-Za-z0-9]{6}$/, '')
      : undefined;
    return name === undefined ? undefined : this.secrets.get(name);
  }

  /**
   * A new version becomes current. When it replaces a target's token or
   * lease, the one it replaces is checked first: had it died while it was
   * still the stored one, the renewer replaced it too late.
   */
  public storeVersion(secret: StoredSecret, value: string, versionId: string): void {
    const atMs = this.clock.now();
    secret.previous = { versionId: secret.versionId, value: secret.value };
    secret.value = value;
    secret.versionId = versionId;
    secret.createdMs = atMs;
    secret.versions.set(versionId, value);
    const owner = parseFieldSecretName(secret.name);
    const state = owner === undefined ? undefined : this.targets[owner.index];
    if (owner === undefined || state === undefined || owner.kind === 'approle') return;
    this.checkStored(state, atMs);
    let document: Record<string, unknown> = {};
    try {
      document = JSON.parse(value) as Record<string, unknown>;
    } catch {
      // Not JSON: the target now holds no credential the bench can follow.
    }
    if (owner.kind === 'token') {
      state.storedToken = typeof document.token === 'string' ? document.token : undefined;
    } else {
      state.storedLease = typeof document.lease_id === 'string' ? document.lease_id : undefined;
    }
  }

  private checkStored(state: TargetState, atMs: number): void {
    const token = state.storedToken === undefined ? undefined : this.tokens.get(state.storedToken);
    if (token !== undefined && !this.tokenAlive(token, atMs)) this.countDeath(token.id, 'token');
    const lease = state.storedLease === undefined ? undefined : this.leases.get(state.storedLease);
    if (lease !== undefined && !this.leaseAlive(lease, atMs)) this.countDeath(lease.id, 'lease');
  }

  private countDeath(id: string, kind: 'token' | 'lease'): void {
    if (this.deadAtStart.has(id) || this.died.has(id)) return;
    this.died.add(id);
    this.bump('credentialsDied');
    this.bump(kind === 'token' ? 'tokensDied' : 'leasesDied');
  }

  /** Death is for good: finding it at any moment while the credential is still stored is enough. */
  public scanDeaths(): void {
    const atMs = this.clock.now();
    for (const state of this.targets) this.checkStored(state, atMs);
  }

  /** Moves the clock to the run's due time and starts its counters. */
  public beginRun(run: number, atMs: number): RunClock {
    const lateMs = this.clock.advanceTo(atMs);
    this.run = run;
    this.runTally = emptyTally();
    this.runEvents = {};
    this.runUnhandled = {};
    for (const window of [this.vaultWindow, this.smWindow, this.smAttemptWindow]) {
      window.runMax = 0;
    }
    for (const state of this.targets) state.touched = false;
    this.runCpu = process.cpuUsage();
    this.runStartedMs = performance.now();
    // Deaths in the gap since the last run are this run's to report.
    this.scanDeaths();
    return { offsetMs: this.clock.offsetMs, nowMs: this.clock.now(), lateMs };
  }

  public endRun(): RunStats {
    this.scanDeaths();
    let unvisited = 0;
    for (const state of this.targets) {
      if (state.touched) {
        state.unvisitedStreak = 0;
      } else {
        unvisited += 1;
        state.unvisitedStreak += 1;
        state.maxUnvisited = Math.max(state.maxUnvisited, state.unvisitedStreak);
      }
    }
    const tally = this.runTally;
    const cpu = process.cpuUsage(this.runCpu);
    const stats: RunStats = {
      run: this.run,
      vaultRequests: tally.vaultRequests,
      vaultThrottled: tally.vaultThrottled,
      renewSelf: tally.renewSelf,
      renewCapped: tally.renewCapped,
      logins: tally.logins,
      loginsWithRefusedSecret: tally.loginsWithRefusedSecret,
      loginsLockedOut: tally.loginsLockedOut,
      leaseRenewals: tally.leaseRenewals,
      leasesIssued: tally.leasesIssued,
      smReads: tally.smReads,
      smWriteAttempts: tally.smWriteAttempts,
      smWritesAccepted: tally.smWritesAccepted,
      throttledWrites: tally.throttledWrites,
      maxSmWritesPerSecond: this.smAttemptWindow.runMax,
      maxSmWritesAcceptedPerSecond: this.smWindow.runMax,
      maxVaultRequestsPerSecond: this.vaultWindow.runMax,
      snsPublishes: tally.snsPublishes,
      messagesByEvent: this.runEvents,
      changeEvents: tally.changeEvents,
      incidentReads: tally.incidentReads,
      incidentWrites: tally.incidentWrites,
      incidentConflicts: tally.incidentConflicts,
      tokensRevoked: tally.tokensRevoked,
      credentialsDied: tally.credentialsDied,
      unvisitedTargets: unvisited,
      serverCpuPercent: Math.round(
        (cpu.user + cpu.system) / 10 / (performance.now() - this.runStartedMs),
      ),
      unhandled: this.runUnhandled,
    };
    this.runs.push(stats);
    return stats;
  }

  public totals(): FieldTotals {
    this.scanDeaths();
    const diedInRuns = this.runs.reduce((sum, run) => sum + run.credentialsDied, 0);
    const broken = this.targets.filter((state) => state.broken);
    return {
      runs: this.runs,
      credentialsDied: this.total.credentialsDied,
      credentialsDiedAfterLastRun: this.total.credentialsDied - diedInRuns,
      credentialsDeadAtStart: this.deadAtStart.size,
      tokensDied: this.total.tokensDied,
      leasesDied: this.total.leasesDied,
      maxRunsUnvisited: Math.max(0, ...this.targets.map((state) => state.maxUnvisited)),
      maxSmWritesPerSecond: this.smAttemptWindow.totalMax,
      maxSmWritesAcceptedPerSecond: this.smWindow.totalMax,
      maxVaultRequestsPerSecond: this.vaultWindow.totalMax,
      throttledWrites: this.total.throttledWrites,
      vaultThrottled: this.total.vaultThrottled,
      loginsWithRefusedSecret: this.total.loginsWithRefusedSecret,
      loginsLockedOut: this.total.loginsLockedOut,
      maxMessagesPerBrokenTarget: Math.max(0, ...broken.map((state) => state.messages)),
      brokenTargetsMessagedMoreThanOnce: broken.filter((state) => state.messages > 1).length,
      causeMessages: this.total.causeMessages,
    };
  }
}
