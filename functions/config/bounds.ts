/**
 * The config's bounds and built-in defaults: what the schema checks values
 * against, what the cross-field rules compare, and what resolving fills in.
 */
/** Vault's default system max TTL (768h); a longer increment is capped by Vault anyway. */
export const MAX_INCREMENT_SECONDS = 2_764_800;
export const MAX_INTERVAL_MINUTES = 1440;
export const MAX_CONCURRENCY = 64;
/** Targets per fan-out batch: one renew invocation's worth (docs/deploy.md "Fan-out"). */
export const MAX_BATCH_SIZE = 10_000;
/** Batches at once: Distributed Map's own limit is 10,000; Lambda's default account concurrency is 1,000. */
export const MAX_FAN_OUT_CONCURRENCY = 1000;
/** The targets object's key in the stack's bucket when the config names none. */
export const DEFAULT_TARGETS_OBJECT_KEY = 'targets.jsonl';
/** Secrets Manager's `RotationRules.AutomaticallyAfterDays` range. */
export const MAX_ROTATION_DAYS = 1000;

/** The built-in defaults, applied when neither the target nor `defaults` sets a value. */
export const DEFAULT_CONCURRENCY = 8;
/**
 * Secrets Manager's writes share 50 requests/s per account and region, not
 * adjustable (aws-facts "quotas"): 40 leaves a fifth for rotation and other
 * writers in the account.
 */
export const DEFAULT_WRITES_PER_SECOND = 40;
export const MAX_WRITES_PER_SECOND = 50;
/**
 * Vault locks a role out after 5 refused logins within its counter-reset
 * window (15 minutes by default, vault-facts "lockout"). One try per 6 hours
 * stays far clear of it; a new AppRole secret version is tried at once.
 */
export const DEFAULT_RELOGIN_RETRY_HOURS = 6;
/** The resolved pacing of a file that sets none. */
export const DEFAULT_PACING = Object.freeze({
  maxConcurrency: MAX_CONCURRENCY,
  writesPerSecond: DEFAULT_WRITES_PER_SECOND,
  reloginRetrySeconds: DEFAULT_RELOGIN_RETRY_HOURS * 3600,
});
/** A secret_id expiring sooner than this is announced (WARNING secret-id-expiring). */
export const DEFAULT_SECRET_ID_WARN_DAYS = 7;
/** An incident still open is told again after this many hours. */
export const DEFAULT_REMINDER_HOURS = 24;
export const DEFAULT_INCREMENT_SECONDS = 3600;
export const DEFAULT_APPROLE_MOUNT = 'approle';
export const DEFAULT_JWT_MOUNT = 'jwt';
export const DEFAULT_NOTIFY = { onRelogin: false, onReissue: false } as const;
