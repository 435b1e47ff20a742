/**
 * The config FILE format (YAML or JSON, `version: 1`): what a human writes.
 * `resolve.ts` turns a file that passes this schema into the frozen
 * `RenewerConfig` (types.ts) the functions use, applying the defaults below.
 *
 * ```yaml
 * version: 1
 * schedule: { intervalMinutes: 15 }        # must match the EventBridge schedule
 * concurrency: 8                           # optional, 1..64: targets at once to start with
 * pacing:                                  # optional: the run's budgets (docs/deploy.md "Sizing")
 *   maxConcurrency: 64                     # concurrency grows up to this when the deadline needs it
 *   secretsManagerWritesPerSecond: 40      # below the account's 50/s write quota
 *   reloginRetryHours: 6                   # a refused AppRole secret version is tried again after this
 * secretIdWarnDays: 7                      # optional: warn this long before a secret_id expires
 * reminderHours: 24                        # optional: tell an open incident again after this long
 * vault:                                   # optional when every target names its own address
 *   address: https://vault.example.internal:8200
 *   namespace: platform/                   # optional (Vault Enterprise)
 *   caCertFile: certs/vault-ca.pem         # optional, relative to the config file
 *   maxRequestsPerSecond: 200              # optional ceiling for this Vault address
 * secretAccess:                            # optional: how IAM scopes the functions (docs/deploy.md)
 *   prefixes:                              # both lists, or neither (then per-secret or derived)
 *     readWrite: [fleet/tokens/, fleet/leases/]   # token and lease secrets live here
 *     readOnly: [fleet/approle/]           # AppRole secrets: never under a readWrite prefix
 *   tag: { key: vault-renewer:managed, value: "true" }   # optional resource tag condition
 * defaults:                                # optional
 *   incrementSeconds: 3600                 # token and lease increment
 *   approleMount: approle
 *   notify: { onRelogin: false, onReissue: false }
 *   rotation: { approle: { everyDays: 30 } }   # optional, per kind; a target's own replaces it
 * rotation:                                # optional: Secrets Manager rotation (docs/rotation.md)
 *   rotator: vault-renewer-rotator         # the target whose token issues and destroys secret_ids
 * targetsObject: { key: targets.jsonl }    # optional: more targets in the stack's S3 bucket,
 *                                          # pushed by npm run targets:push (docs/deploy.md "Fan-out")
 * fanOut: { batchSize: 500, maxConcurrency: 20 }   # optional, with targetsObject: Step Functions
 * webIdentity: { audiences: [vault.example.com] }  # optional: jwt audiences of the targets object
 * targets:                                 # may be empty with targetsObject
 *   - name: billing-api
 *     tokenSecret: vault/billing-api/token
 *     approle: { secret: vault/billing-api/approle, mount: approle, role: billing-api }
 *     # or, with no stored secret: jwt: { audience: vault.example.com, mount: jwt, role: billing-api }
 *     incrementSeconds: 7200               # optional, the token's increment
 *     vault: { address: ..., namespace: ..., maxRequestsPerSecond: ... }   # optional, each field overrides vault.*
 *     notify: { onRelogin: true }          # optional, each field overrides defaults.notify
 *     rotation:                            # optional, each kind overrides defaults.rotation
 *       approle: { everyDays: 30 }         # a new secret_id every 30 days (or schedule: "cron(...)")
 *       token: false                       # no token rotation for this target
 *     leases:
 *       - { name: db, secret: vault/billing-api/db, reissuePath: database/creds/billing-api }
 * ```
 *
 * Every object is strict: an unknown key is an error, so a typo cannot turn
 * into a silently ignored setting. Strings that name Vault things are parsed
 * into their normal form here (address origin, namespace `a/b/`, mount without
 * slashes), so nothing downstream normalises again.
 *
 * Each field is checked here on its own; the rules that span fields live in
 * cross-field-rules.ts, and the bounds and defaults in bounds.ts.
 *
 * Checks that fail with an explicit abort stop zod from running the
 * cross-field rules at the end (zod 4 `runChecks` skips `when` refinements
 * after `continue: false` issues, which `.int()` raises). So whole numbers are
 * checked with `refine`, never `.int()`: every problem is reported at once.
 */

import { z } from 'zod';
import {
  MAX_BATCH_SIZE,
  MAX_CONCURRENCY,
  MAX_FAN_OUT_CONCURRENCY,
  MAX_INCREMENT_SECONDS,
  MAX_INTERVAL_MINUTES,
  MAX_ROTATION_DAYS,
  MAX_WRITES_PER_SECOND,
} from './bounds.js';
import { checkAcrossFields } from './cross-field-rules.js';
import { describeType } from './issues.js';
import { TARGET_NAME_PATTERN } from './target-name.js';

export * from './bounds.js';

const NAME_PATTERN = TARGET_NAME_PATTERN;
const SECRET_NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<6 chars>` (aws-facts "Secret ARN format"). */
const SECRET_ARN_PATTERN =
  /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z]{2,}(?:-[a-z]+)+-\d+:\d{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}$/;
/** The start of a secret name (IAM grants `<prefix>*`); never an ARN. */
const SECRET_PREFIX_PATTERN = /^(?!arn:)[A-Za-z0-9/_+=.@-]{1,256}$/;
/** Tag keys and values as Secrets Manager takes them. */
const TAG_KEY_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+@-]{1,128}$/u;
const TAG_VALUE_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+@-]{0,256}$/u;
/** Vault's `framework.GenericNameRegex`, which also keeps role names safe inside fix commands. */
const ROLE_NAME_PATTERN = /^\w(?:[\w.-]{0,126}\w)?$/;
const PATH_SEGMENT_PATTERN = /^[A-Za-z0-9._@+=:-]+$/;
const MOUNT_SEGMENT_PATTERN = /^[A-Za-z0-9._-]+$/;

/** `is required` for a missing field, otherwise `must be <expected>, got <type>`. */
function typeError(expected: string): (issue: { input?: unknown }) => string {
  return (issue) =>
    issue.input === undefined
      ? 'is required'
      : `must be ${expected}, got ${describeType(issue.input)}`;
}

function wholeNumber(expected: string, min: number, max: number, unit: string) {
  return z
    .number({ error: typeError(expected) })
    .refine(Number.isInteger, { error: `must be ${expected}` })
    .refine((value) => value >= min, { error: `must be at least ${min}${unit}` })
    .refine((value) => value <= max, { error: `must be at most ${max}${unit}` });
}

const requestsPerSecond = wholeNumber('a whole number of requests per second', 1, 100_000, '');

const incrementSeconds = z
  .number({
    error: (issue) =>
      issue.input === undefined
        ? 'is required'
        : typeof issue.input === 'string'
          ? 'must be a whole number of seconds (durations like "1h" are not accepted: write 3600)'
          : `must be a whole number of seconds, got ${describeType(issue.input)}`,
  })
  .refine(Number.isInteger, { error: 'must be a whole number of seconds' })
  .refine((value) => value >= 1, { error: 'must be at least 1 second' })
  .refine((value) => value <= MAX_INCREMENT_SECONDS, {
    error: `must be at most ${MAX_INCREMENT_SECONDS} seconds (768h, Vault's default max TTL)`,
  });

const flag = z.boolean({ error: typeError('true or false') });

/** A string checked by a function returning the first problem, if any. */
function checkedString(problemOf: (value: string) => string | undefined) {
  return z.string({ error: typeError('a string') }).superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  });
}

const name = checkedString((value) =>
  NAME_PATTERN.test(value)
    ? undefined
    : 'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
);

const secretId = checkedString((value) =>
  SECRET_NAME_PATTERN.test(value) || SECRET_ARN_PATTERN.test(value)
    ? undefined
    : 'must be a Secrets Manager secret name (1-512 characters of A-Z a-z 0-9 / _ + = . @ -) or a secret ARN',
);

function vaultAddressProblem(value: string): string | undefined {
  // URL() accepts `http:host` and trims spaces; insist on the plain form.
  if (!/^https?:\/\/[^\s]+$/i.test(value)) {
    return 'must be an http:// or https:// URL, e.g. https://vault.example.com:8200';
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http:// or https:// URL, e.g. https://vault.example.com:8200';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain credentials';
  if (value.includes('?') || value.includes('#')) return 'must not have a query or fragment';
  if (url.pathname !== '/') return 'must not have a path (the client adds /v1/...)';
  return undefined;
}

const vaultAddress = checkedString(vaultAddressProblem).transform((value) => new URL(value).origin);

function segmentsProblem(segments: readonly string[], pattern: RegExp, allowed: string) {
  if (segments.some((segment) => segment === '')) return 'must not contain empty segments ("//")';
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return 'must not contain "." or ".." segments';
  }
  if (segments.some((segment) => !pattern.test(segment))) return `may only contain ${allowed}`;
  return undefined;
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+/, '').replace(/\/+$/, '');
}

/**
 * A Vault Enterprise namespace. `''` (or `/`) is the root namespace: a target
 * can set it to override a default namespace.
 */
const vaultNamespace = checkedString((value) => {
  const trimmed = trimSlashes(value);
  if (trimmed === '') return undefined;
  if (trimmed === 'root') {
    return 'names the root namespace: omit it, or write "" to override a default namespace';
  }
  return segmentsProblem(trimmed.split('/'), MOUNT_SEGMENT_PATTERN, 'A-Z a-z 0-9 . _ - and "/"');
}).transform((value) => {
  // Vault's canonical form, the one `sys/namespaces` lists: no leading slash, one trailing slash.
  const trimmed = trimSlashes(value);
  return trimmed === '' ? '' : `${trimmed}/`;
});

/** An auth mount path as Vault mounts it under `auth/`; slashes around it are dropped. */
const approleMount = checkedString((value) => {
  const trimmed = trimSlashes(value);
  if (trimmed === '') return 'must not be empty';
  const segments = trimmed.split('/');
  if (segments[0] === 'auth' && segments.length > 1) {
    return 'must be the mount path without the "auth/" prefix, e.g. "approle"';
  }
  return segmentsProblem(segments, MOUNT_SEGMENT_PATTERN, 'A-Z a-z 0-9 . _ - and "/"');
}).transform(trimSlashes);

/** The team that owns a target: an SNS attribute value a subscription filters on. */
const ownerName = checkedString((value) =>
  /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(value)
    ? undefined
    : 'must be a team name of 1-64 characters: letters, digits, ".", "_" and "-", starting with a letter or digit',
);

const roleName = checkedString((value) =>
  ROLE_NAME_PATTERN.test(value)
    ? undefined
    : 'must be 1-128 characters of A-Z a-z 0-9 _ . -, starting and ending with a letter, digit or "_"',
);

/** The path read to issue a new lease, relative to `/v1/`, e.g. `database/creds/app`. */
const reissuePath = checkedString((value) => {
  if (value === '') return 'must not be empty';
  if (value.startsWith('/')) return "must not start with '/'";
  if (/^v1(?:\/|$)/.test(value)) return "must not start with 'v1/' (the client adds it)";
  if (value.endsWith('/')) return "must not end with '/'";
  if (value.length > 512) return 'must be at most 512 characters';
  return segmentsProblem(
    value.split('/'),
    PATH_SEGMENT_PATTERN,
    'A-Z a-z 0-9 . _ @ + = : - and "/"',
  );
});

/** The `aud` a jwt target's token is signed for (STS: at most 1,000 characters). */
const audience = checkedString((value) =>
  value.trim() === ''
    ? 'must not be empty'
    : value.length > 1000
      ? 'must be at most 1000 characters (STS GetWebIdentityToken)'
      : undefined,
);

/** An S3 object key in the stack's targets bucket. */
const objectKey = checkedString((value) =>
  /^[A-Za-z0-9!_.*'()/-]{1,1024}$/.test(value) && !value.startsWith('/')
    ? undefined
    : 'must be an S3 object key: 1-1024 of A-Z a-z 0-9 ! _ . * \' ( ) - and "/", not starting with "/"',
);

/** A secret name prefix IAM grants access under (`<prefix>*` in the ARN pattern). */
const secretPrefix = checkedString((value) =>
  SECRET_PREFIX_PATTERN.test(value)
    ? undefined
    : 'must be the start of a secret name: 1-256 characters of A-Z a-z 0-9 / _ + = . @ -, not "arn:..."',
);

/** Tag keys and values as Secrets Manager accepts them; `aws:` keys are reserved by AWS. */
const tagKey = checkedString((value) => {
  if (!TAG_KEY_PATTERN.test(value)) {
    return 'must be 1-128 characters of letters, digits, spaces and _ . : / = + - @';
  }
  return value.toLowerCase().startsWith('aws:')
    ? 'must not start with "aws:" (reserved)'
    : undefined;
});
const tagValue = checkedString((value) =>
  TAG_VALUE_PATTERN.test(value)
    ? undefined
    : 'must be 0-256 characters of letters, digits, spaces and _ . : / = + - @',
);

/**
 * Secrets Manager's `ScheduleExpression`: `rate(N hours|days)` (at least 4
 * hours) or a six-field `cron(...)`, evaluated in UTC (aws-facts §1.1).
 */
const rotationSchedule = checkedString((value) => {
  const rate = /^rate\((\d+) (hours?|days?)\)$/.exec(value);
  if (rate !== null) {
    const hours = Number(rate[1]) * (rate[2]?.startsWith('day') ? 24 : 1);
    if (hours < 4) return "must rotate at most every 4 hours (Secrets Manager's minimum)";
    if (hours > MAX_ROTATION_DAYS * 24)
      return `must rotate at least every ${MAX_ROTATION_DAYS} days`;
    return undefined;
  }
  if (/^cron\((\S+ ){5}\S+\)$/.test(value)) return undefined;
  return 'must be "rate(N hours)", "rate(N days)" or a six-field "cron(...)" expression (UTC)';
});

/** The rotation window (`RotationRules.Duration`): whole hours, 1-24. */
const rotationWindow = checkedString((value) => {
  const hours = /^(\d+)h$/.exec(value);
  return hours !== null && Number(hours[1]) >= 1 && Number(hours[1]) <= 24
    ? undefined
    : 'must be a whole number of hours from "1h" to "24h"';
});

const rotationRule = z
  .union([
    z.literal(false),
    z.strictObject(
      {
        everyDays: wholeNumber('a whole number of days', 1, MAX_ROTATION_DAYS, ' days').optional(),
        schedule: rotationSchedule.optional(),
        window: rotationWindow.optional(),
      },
      { error: typeError('a mapping or false') },
    ),
  ])
  .superRefine((rule, ctx) => {
    if (rule === false) return;
    if ((rule.everyDays === undefined) === (rule.schedule === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'must set exactly one of everyDays and schedule' });
    }
  });

/** Per kind of secret: `false` turns off what `defaults.rotation` turns on. */
const rotationSettings = z.strictObject(
  { approle: rotationRule.optional(), token: rotationRule.optional() },
  { error: typeError('a mapping') },
);

const caCertFile = checkedString((value) =>
  value.trim() === '' ? 'must not be empty' : undefined,
);

function strict<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject(shape, { error: typeError('a mapping') });
}

function list<Item extends z.core.SomeType>(item: Item) {
  return z.array(item, { error: typeError('a list') });
}

const notifySchema = strict({ onRelogin: flag.optional(), onReissue: flag.optional() });

const leaseSchema = strict({
  name,
  secret: secretId,
  reissuePath,
  /** Defaults to `defaults.incrementSeconds`, not the target's token increment. */
  incrementSeconds: incrementSeconds.optional(),
});

const targetSchema = strict({
  name,
  tokenSecret: secretId,
  // One of the two (cross-field-rules.ts): a stored AppRole secret, or a token STS signs.
  approle: strict({
    secret: secretId,
    mount: approleMount.optional(),
    role: roleName.optional(),
  }).optional(),
  jwt: strict({
    audience,
    mount: approleMount.optional(),
    role: roleName.optional(),
  }).optional(),
  incrementSeconds: incrementSeconds.optional(),
  vault: strict({
    address: vaultAddress.optional(),
    namespace: vaultNamespace.optional(),
    maxRequestsPerSecond: requestsPerSecond.optional(),
  }).optional(),
  owner: ownerName.optional(),
  notify: notifySchema.optional(),
  rotation: rotationSettings.optional(),
  leases: list(leaseSchema).optional(),
});

export const configFileSchema = strict({
  version: z.literal(1, {
    error: (issue) =>
      issue.input === undefined ? 'is required' : 'must be 1, the only version this renewer reads',
  }),
  schedule: strict({
    intervalMinutes: wholeNumber('a whole number of minutes', 1, MAX_INTERVAL_MINUTES, ''),
  }),
  concurrency: wholeNumber('a whole number', 1, MAX_CONCURRENCY, '').optional(),
  pacing: strict({
    maxConcurrency: wholeNumber('a whole number', 1, MAX_CONCURRENCY, '').optional(),
    secretsManagerWritesPerSecond: wholeNumber(
      'a whole number of writes per second',
      1,
      MAX_WRITES_PER_SECOND,
      ' (the account quota)',
    ).optional(),
    reloginRetryHours: wholeNumber('a whole number of hours', 1, 720, ' hours').optional(),
  }).optional(),
  secretIdWarnDays: wholeNumber('a whole number of days', 1, 365, ' days').optional(),
  retireReplaced: z
    .union([
      z.literal(false),
      strict({
        afterMinutes: wholeNumber('a whole number of minutes', 0, 10_080, ' minutes (a week)'),
      }),
    ])
    .optional(),
  reminderHours: wholeNumber('a whole number of hours', 1, 720, ' hours').optional(),
  vault: strict({
    address: vaultAddress.optional(),
    namespace: vaultNamespace.optional(),
    caCertFile: caCertFile.optional(),
    maxRequestsPerSecond: requestsPerSecond.optional(),
  }).optional(),
  secretAccess: strict({
    prefixes: strict({
      readWrite: list(secretPrefix),
      readOnly: list(secretPrefix),
    }).optional(),
    tag: strict({ key: tagKey, value: tagValue }).optional(),
    byTag: strict({ key: tagKey }).optional(),
  }).optional(),
  defaults: strict({
    incrementSeconds: incrementSeconds.optional(),
    approleMount: approleMount.optional(),
    owner: ownerName.optional(),
    notify: notifySchema.optional(),
    rotation: rotationSettings.optional(),
  }).optional(),
  rotation: strict({ rotator: name }).optional(),
  targetsObject: strict({ key: objectKey.optional() }).optional(),
  // Audiences the renew role may ask STS to sign for, beyond those of the file's jwt targets
  // (the targets object's: IAM is packaged before they are known).
  webIdentity: strict({ audiences: list(audience) }).optional(),
  fanOut: strict({
    batchSize: wholeNumber('a whole number of targets', 1, MAX_BATCH_SIZE, ' targets'),
    maxConcurrency: wholeNumber(
      'a whole number of batches',
      1,
      MAX_FAN_OUT_CONCURRENCY,
      ' batches at once',
    ),
  }).optional(),
  // At least one, unless the targets live in the targets object (cross-field-rules.ts).
  targets: list(targetSchema).optional(),
}).superRefine((file, ctx) => checkAcrossFields(file, ctx), {
  // Run even when fields failed, so a duplicate is reported with everything else.
  when: () => true,
});

/** The file after validation: normalised strings, defaults not yet applied. */
export type ConfigFile = z.output<typeof configFileSchema>;
