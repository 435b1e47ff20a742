/**
 * The validated, frozen shape of the target list (see `schema.ts` for the file
 * format and README "Configuration"). Everything here is already defaulted and
 * normalised: consumers never apply their own fallbacks. The resolved
 * schema (`resolved.ts`) is held to these types by the compiler both ways,
 * so the documented shape and the checked one cannot drift apart.
 */

export interface LeaseConfig {
  /** Unique within its target; used in reports and messages. */
  readonly name: string;
  /** Secrets Manager id (name or ARN) of the JSON secret that holds the lease. */
  readonly secretId: string;
  /** Vault path that issues a new lease, e.g. `database/creds/app`. */
  readonly reissuePath: string;
  /** Increment asked for on `sys/leases/renew`. */
  readonly incrementSeconds: number;
}

export interface NotifyConfig {
  /** Also publish an INFO message when a target logs in again. */
  readonly onRelogin: boolean;
  /** Also publish an INFO message when a lease is re-issued. */
  readonly onReissue: boolean;
}

/**
 * When Secrets Manager rotates a secret: Secrets Manager's own
 * `RotationRules` (exactly one of the first two), applied by the deploy step.
 */
export interface RotationRules {
  readonly AutomaticallyAfterDays?: number;
  readonly ScheduleExpression?: string;
  /** The window, e.g. `3h`. */
  readonly Duration?: string;
}

/** Which of a target's secrets Secrets Manager rotates, and when. */
export interface RotationConfig {
  /** A new secret_id, issued by the rotator and tested before it becomes current. */
  readonly approle?: RotationRules;
  /** A verified re-login; the leases follow. */
  readonly token?: RotationRules;
}

export interface TargetConfig {
  /** Unique name, `[a-z0-9][a-z0-9-_.]*`; used in reports, SNS attributes and events. */
  readonly name: string;
  readonly vault: {
    readonly address: string;
    readonly namespace?: string;
  };
  /** Secrets Manager id of the JSON secret `{ "token": ... }`. */
  readonly tokenSecretId: string;
  readonly approle: {
    /** Secrets Manager id of the JSON secret `{ "role_id", "secret_id" }`. */
    readonly secretId: string;
    /** AppRole mount path without slashes, default `approle`. */
    readonly mount: string;
    /** Role name, when known: used in fix commands. */
    readonly roleName?: string;
  };
  /** Increment asked for on `auth/token/renew-self`. */
  readonly incrementSeconds: number;
  readonly leases: readonly LeaseConfig[];
  readonly notify: NotifyConfig;
  /** Absent when neither kind of its secrets is rotated. */
  readonly rotation?: RotationConfig;
}

/**
 * How IAM scopes the functions' Secrets Manager access (package time only;
 * the functions themselves never read it).
 */
export interface SecretAccessConfig {
  /** Declared name prefixes; absent: per-secret ARNs, or prefixes derived from the names. */
  readonly prefixes?: {
    /** Token and lease secrets: renew reads and writes under these. */
    readonly readWrite: readonly string[];
    /** AppRole secrets: renew reads under these, never writes. */
    readonly readOnly: readonly string[];
  };
  /** A resource tag every managed secret carries; access is granted only where it is set. */
  readonly tag?: { readonly key: string; readonly value: string };
}

export interface PacingConfig {
  /** Concurrency grows up to this when the targets left would not fit in the time left. */
  readonly maxConcurrency: number;
  /** Secrets Manager writes per second the run allows itself. */
  readonly writesPerSecond: number;
  /** A login Vault refused is tried again with the same AppRole secret version after this. */
  readonly reloginRetrySeconds: number;
}

export interface RenewerConfig {
  readonly version: 1;
  /** How often the schedule runs the renewer; the planner's horizon is derived from it. */
  readonly scheduleIntervalSeconds: number;
  /** Targets processed at once when a run starts. */
  readonly concurrency: number;
  /** The run's budgets. */
  readonly pacing: PacingConfig;
  /** Request-rate ceilings by Vault address (requests per second); addresses not named have none. */
  readonly vaultRequestCeilings?: Readonly<Record<string, number>>;
  /** A secret_id that expires sooner than this many days is announced. */
  readonly secretIdWarnDays: number;
  /** An incident still open is told again after this many hours. */
  readonly reminderHours: number;
  /** PEM bundle (contents) trusted for Vault TLS, when the config names one. */
  readonly vaultCaCertPem?: string;
  readonly targets: readonly TargetConfig[];
  /**
   * The target whose token issues and destroys secret_ids for AppRole
   * rotation (its policy: infra/vault/rotator-policy.hcl). Present when the
   * file names one.
   */
  readonly rotator?: string;
  /** Present when the config file has `secretAccess`. */
  readonly secretAccess?: SecretAccessConfig;
}
