/**
 * The resolved config's shape, field by field: what the build writes after
 * the full schema (schema.ts) accepted the file and every default was
 * applied, and what the Lambda parses at cold start (resolved.ts). The
 * config's types (types.ts) are derived from it, so the shape is written
 * once. `zod/mini` keeps it small in the bundle.
 */

import * as z from 'zod/mini';

const seconds = z.number().check(z.int(), z.positive());
const text = z.string().check(z.minLength(1));
/**
 * When Secrets Manager rotates a secret: its own `RotationRules` (exactly
 * one of the first two; `Duration` is the window, e.g. `3h`).
 */
const rotationRules = z.optional(
  z.strictObject({
    AutomaticallyAfterDays: z.optional(seconds),
    ScheduleExpression: z.optional(text),
    Duration: z.optional(text),
  }),
);

/** One resolved target: the same in the config file and in the targets object (S3). */
export const resolvedTargetSchema = z.strictObject({
  /** Unique name, `[a-z0-9][a-z0-9-_.]*`; used in reports, SNS attributes and events. */
  name: text,
  /** The team that owns it: every message about it carries `owner`, for SNS filter policies. */
  owner: z.optional(text),
  vault: z.strictObject({ address: text, namespace: z.optional(text) }),
  /** Secrets Manager id of the JSON secret `{ "token": ... }`. */
  tokenSecretId: text,
  /** How it logs in again: with an AppRole secret, or (absent then) with a jwt from STS. */
  approle: z.optional(
    z.strictObject({
      /** Secrets Manager id of the JSON secret `{ "role_id", "secret_id" }`. */
      secretId: text,
      /** AppRole mount path without slashes, default `approle`. */
      mount: text,
      /** Role name, when known: used in fix commands. */
      roleName: z.optional(text),
    }),
  ),
  /**
   * Logs in with a token STS GetWebIdentityToken signs for it (IAM outbound
   * identity federation): no stored secret. Present instead of `approle`.
   */
  jwt: z.optional(
    z.strictObject({
      /** jwt auth mount path without slashes, default `jwt`. */
      mount: text,
      /** The jwt role, default the target's name. */
      role: text,
      /** The `aud` the renewer asks STS for, which the role is bound to. */
      audience: text,
    }),
  ),
  /** Increment asked for on `auth/token/renew-self`. */
  incrementSeconds: seconds,
  leases: z.array(
    z.strictObject({
      /** Unique within its target; used in reports and messages. */
      name: text,
      /** Secrets Manager id (name or ARN) of the JSON secret that holds the lease. */
      secretId: text,
      /** Vault path that issues a new lease, e.g. `database/creds/app`. */
      reissuePath: text,
      /** Increment asked for on `sys/leases/renew`. */
      incrementSeconds: seconds,
    }),
  ),
  notify: z.strictObject({
    /** Also publish an INFO message when a target logs in again. */
    onRelogin: z.boolean(),
    /** Also publish an INFO message when a lease is re-issued. */
    onReissue: z.boolean(),
  }),
  /**
   * Which of its secrets Secrets Manager rotates, and when (absent when
   * neither is): `approle`, a new secret_id issued by the rotator and
   * tested before it becomes current; `token`, a verified re-login.
   */
  rotation: z.optional(z.strictObject({ approle: rotationRules, token: rotationRules })),
});

export const resolvedSchema = z.strictObject({
  version: z.literal(1),
  /** How often the schedule runs the renewer; the planner's horizon is derived from it. */
  scheduleIntervalSeconds: seconds,
  /** Targets processed at once when a run starts. */
  concurrency: z.number().check(z.int(), z.positive()),
  /** The run's budgets. */
  pacing: z.strictObject({
    /** Concurrency grows up to this when the targets left would not fit in the time left. */
    maxConcurrency: z.number().check(z.int(), z.positive()),
    /** Secrets Manager writes per second the run allows itself. */
    writesPerSecond: z.number().check(z.positive()),
    /** A login Vault refused is tried again with the same AppRole secret version after this. */
    reloginRetrySeconds: seconds,
  }),
  /** Request-rate ceilings by Vault address (requests per second); addresses not named have none. */
  vaultRequestCeilings: z.optional(z.record(z.string(), z.number().check(z.positive()))),
  /**
   * The token a login replaced is revoked (with its leases) this long after,
   * once every lease secret names the new token; absent: never.
   */
  retireReplacedSeconds: z.optional(z.number().check(z.int(), z.nonnegative())),
  /** A secret_id that expires sooner than this many days is announced. */
  secretIdWarnDays: z.number().check(z.int(), z.positive()),
  /** An incident still open is told again after this many hours. */
  reminderHours: z.number().check(z.int(), z.positive()),
  /** PEM bundle (contents) trusted for Vault TLS, when the config names one. */
  vaultCaCertPem: z.optional(text),
  targets: z.array(resolvedTargetSchema),
  /**
   * More targets in the stack's S3 bucket (JSON Lines of resolved targets,
   * pushed by `npm run targets:push`), read at run time. Present when the
   * file has `targetsObject`; `targets` may then be empty.
   */
  targetsObject: z.optional(z.strictObject({ key: text })),
  /**
   * Every audience the renew role may ask STS GetWebIdentityToken to sign
   * for (its IAM condition): the jwt targets' and `webIdentity.audiences`.
   * Present when there is one.
   */
  webIdentityAudiences: z.optional(z.array(text)),
  /** Step Functions fans the run out in batches of the targets object. Present with `fanOut`. */
  fanOut: z.optional(
    z.strictObject({
      batchSize: z.number().check(z.int(), z.positive()),
      maxConcurrency: z.number().check(z.int(), z.positive()),
    }),
  ),
  /**
   * The target whose token issues and destroys secret_ids for AppRole
   * rotation (its policy: infra/vault/rotator-policy.hcl). Present when the
   * file names one.
   */
  rotator: z.optional(text),
  /**
   * How IAM scopes the functions' Secrets Manager access (package time only;
   * the functions never read it). Present when the file has `secretAccess`.
   */
  secretAccess: z.optional(
    z.strictObject({
      /** Declared name prefixes: token and lease secrets (read and written), AppRole secrets (read only). */
      prefixes: z.optional(z.strictObject({ readWrite: z.array(text), readOnly: z.array(text) })),
      /** A resource tag every managed secret carries; access is granted only where it is set. */
      tag: z.optional(z.strictObject({ key: text, value: z.string() })),
      /**
       * Access by the value of this tag key: `read-write` on token and lease
       * secrets, `read-only` on AppRole secrets (any layout, one grant).
       */
      byTag: z.optional(z.strictObject({ key: text })),
    }),
  ),
});
