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
 * targets:
 *   - name: billing-api
 *     tokenSecret: vault/billing-api/token
 *     approle: { secret: vault/billing-api/approle, mount: approle, role: billing-api }
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
 * Checks that fail with an explicit abort stop zod from running the
 * cross-field rules at the end (zod 4 `runChecks` skips `when` refinements
 * after `continue: false` issues, which `.int()` raises). So whole numbers are
 * checked with `refine`, never `.int()`: every problem is reported at once.
 */

import { z } from 'zod';
import { describeType, formatPath, quote } from './issues.js';
import { secretNameOf } from './secret-name.js';
import { TARGET_NAME_PATTERN } from './target-name.js';

/** Vault's default system max TTL (768h); a longer increment is capped by Vault anyway. */
export const MAX_INCREMENT_SECONDS = 2_764_800;
export const MAX_INTERVAL_MINUTES = 1440;
export const MAX_CONCURRENCY = 64;
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
export const DEFAULT_NOTIFY = { onRelogin: false, onReissue: false } as const;

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
  approle: strict({
    secret: secretId,
    mount: approleMount.optional(),
    role: roleName.optional(),
  }),
  incrementSeconds: incrementSeconds.optional(),
  vault: strict({
    address: vaultAddress.optional(),
    namespace: vaultNamespace.optional(),
    maxRequestsPerSecond: requestsPerSecond.optional(),
  }).optional(),
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
  }).optional(),
  defaults: strict({
    incrementSeconds: incrementSeconds.optional(),
    approleMount: approleMount.optional(),
    notify: notifySchema.optional(),
    rotation: rotationSettings.optional(),
  }).optional(),
  rotation: strict({ rotator: name }).optional(),
  targets: list(targetSchema).refine((targets) => targets.length > 0, {
    error: 'must list at least one target',
  }),
}).superRefine((file, ctx) => checkAcrossFields(file, ctx), {
  // Run even when fields failed, so a duplicate is reported with everything else.
  when: () => true,
});

/** The file after validation: normalised strings, defaults not yet applied. */
export type ConfigFile = z.output<typeof configFileSchema>;

type Path = (string | number)[];
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: Path; message: string }): void;
}

/**
 * Rules that span fields. The value may be partly invalid here (see `when`),
 * so it is read as `unknown` and only well-typed parts are compared.
 */
function checkAcrossFields(value: unknown, sink: IssueSink): void {
  const file = asRecord(value);
  if (file === undefined) return;
  const targets = asArray(file.targets) ?? [];
  // Only when `vault` is absent or a mapping: a malformed `vault` is reported once, by itself.
  const checkAddresses = file.vault === undefined || asRecord(file.vault) !== undefined;
  const rootAddress = asRecord(file.vault)?.address;

  const targetNames = new Claims<string>();
  const secrets = new Claims<SecretUse>();
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    const here: Path = ['targets', t];

    const [firstName] = targetNames.claim(target.name, formatPath([...here, 'name']));
    if (firstName !== undefined) {
      sink.addIssue(issue([...here, 'name'], `is the same name as ${firstName}`));
    }

    const targetVault = target.vault === undefined ? {} : asRecord(target.vault);
    if (
      checkAddresses &&
      rootAddress === undefined &&
      targetVault !== undefined &&
      targetVault.address === undefined
    ) {
      sink.addIssue(
        issue([...here, 'vault', 'address'], 'is required: no default vault.address is set'),
      );
    }

    claimSecret(secrets, sink, [...here, 'tokenSecret'], target.tokenSecret, 'written');
    claimSecret(
      secrets,
      sink,
      [...here, 'approle', 'secret'],
      asRecord(target.approle)?.secret,
      'read',
    );

    const leaseNames = new Claims<string>();
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined) return;
      const leasePath: Path = [...here, 'leases', l];
      const [firstLease] = leaseNames.claim(lease.name, formatPath([...leasePath, 'name']));
      if (firstLease !== undefined) {
        sink.addIssue(issue([...leasePath, 'name'], `is the same name as ${firstLease}`));
      }
      claimSecret(secrets, sink, [...leasePath, 'secret'], lease.secret, 'written');
    });
  });

  checkIncrementsOutliveInterval(file, targets, sink);
  checkSecretPrefixes(file, targets, sink);
  checkRotation(file, targets, sink);
}

/**
 * AppRole rotation issues secret_ids through the rotator's token, so it needs
 * a rotator target on the same Vault (address and namespace) and the role's
 * name. Targets that share an AppRole secret share its rotation settings.
 */
function checkRotation(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const rotatorName = asRecord(file.rotation)?.rotator;
  const defaultRule = asRecord(asRecord(file.defaults)?.rotation)?.approle;
  const rootVault = asRecord(file.vault) ?? {};
  const where = (target: Record<string, unknown>) => {
    const vault = asRecord(target.vault) ?? {};
    return {
      address: vault.address ?? rootVault.address,
      namespace: vault.namespace ?? rootVault.namespace ?? '',
    };
  };
  const records = targets.map(asRecord);
  const rotatorIndex = records.findIndex((target) => target?.name === rotatorName);
  const rotator = records[rotatorIndex];
  if (typeof rotatorName === 'string' && rotator === undefined) {
    sink.addIssue(
      issue(['rotation', 'rotator'], `names no target: list ${quote(rotatorName)} under targets`),
    );
  }
  const rulesBySecret = new Map<string, { rule: string; path: string }>();
  records.forEach((target, t) => {
    if (target === undefined) return;
    const own = asRecord(target.rotation)?.approle;
    const rule = own ?? defaultRule;
    const approle = asRecord(target.approle);
    const secret = approle?.secret;
    if (typeof secret === 'string') {
      const key = JSON.stringify(rule ?? false);
      const earlier = rulesBySecret.get(secret);
      if (earlier === undefined) {
        rulesBySecret.set(secret, {
          rule: key,
          path: formatPath(['targets', t, 'rotation', 'approle']),
        });
      } else if (earlier.rule !== key) {
        sink.addIssue(
          issue(
            ['targets', t, 'rotation', 'approle'],
            `differs from ${earlier.path}: targets sharing an AppRole secret rotate it together, so give them the same rotation.approle`,
          ),
        );
      }
    }
    if (rule === undefined || rule === false || asRecord(rule) === undefined) return;
    const at: Path =
      own === undefined
        ? ['defaults', 'rotation', 'approle']
        : ['targets', t, 'rotation', 'approle'];
    const who = typeof target.name === 'string' ? `target ${quote(target.name)}: ` : '';
    if (typeof rotatorName !== 'string') {
      sink.addIssue(
        issue(
          at,
          `${who}needs rotation.rotator: the target whose token issues and destroys secret_ids`,
        ),
      );
    }
    if (approle !== undefined && approle.role === undefined) {
      sink.addIssue(
        issue(
          ['targets', t, 'approle', 'role'],
          `${who}is required to rotate the AppRole secret (the secret_id is issued for this role)`,
        ),
      );
    }
    if (rotator !== undefined && t !== rotatorIndex) {
      const mine = where(target);
      const theirs = where(rotator);
      if (mine.address !== theirs.address || mine.namespace !== theirs.namespace) {
        sink.addIssue(
          issue(
            at,
            `${who}is on another Vault (address or namespace) than the rotator ${quote(String(rotatorName))}: its secret_ids cannot be issued there`,
          ),
        );
      }
    }
  });
}

interface SecretUse {
  readonly path: string;
  /** The renewer writes token and lease secrets; it only reads AppRole secrets. */
  readonly access: 'written' | 'read';
}

/**
 * A secret the renewer writes must have one owner: two targets writing the
 * same token secret would overwrite each other every run. AppRole secrets are
 * only read, so several targets may share one (one role, several tokens).
 * Ids are compared as written: a name and an ARN of the same secret are not
 * matched, so write ids one way throughout the file.
 */
function claimSecret(
  secrets: Claims<SecretUse>,
  sink: IssueSink,
  path: Path,
  id: unknown,
  access: SecretUse['access'],
): void {
  const use = { path: formatPath(path), access };
  const earlier = secrets.claim(id, use);
  const conflict = earlier.find((other) => other.access === 'written' || access === 'written');
  if (conflict !== undefined) {
    sink.addIssue(
      issue(
        path,
        `is the same secret as ${conflict.path}; the renewer writes token and lease secrets, so each must be used once`,
      ),
    );
  }
}

/**
 * A token or lease renewed for less than the schedule interval expires
 * between two runs every time: Vault counts the increment from now
 * (vault-facts §1.3), and the next run comes one interval later.
 */
function checkIncrementsOutliveInterval(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const minutes = asRecord(file.schedule)?.intervalMinutes;
  if (!isWholeNumberIn(minutes, 1, MAX_INTERVAL_MINUTES)) return;
  const intervalSeconds = minutes * 60;
  const tooShort = (value: unknown): boolean =>
    isWholeNumberIn(value, 1, MAX_INCREMENT_SECONDS) && value <= intervalSeconds;
  const message = (what: string) =>
    `must be longer than the schedule interval (${intervalSeconds} s), or the ${what} expires between runs`;

  const defaultIncrement = asRecord(file.defaults)?.incrementSeconds;
  if (tooShort(defaultIncrement)) {
    sink.addIssue(issue(['defaults', 'incrementSeconds'], message('token or lease')));
  }
  let reliesOnBuiltIn = false;
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    if (tooShort(target.incrementSeconds)) {
      sink.addIssue(issue(['targets', t, 'incrementSeconds'], message('token')));
    }
    reliesOnBuiltIn ||= target.incrementSeconds === undefined;
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined) return;
      if (tooShort(lease.incrementSeconds)) {
        sink.addIssue(issue(['targets', t, 'leases', l, 'incrementSeconds'], message('lease')));
      }
      reliesOnBuiltIn ||= lease.incrementSeconds === undefined;
    });
  });
  if (defaultIncrement === undefined && reliesOnBuiltIn && tooShort(DEFAULT_INCREMENT_SECONDS)) {
    sink.addIssue(
      issue(
        ['defaults', 'incrementSeconds'],
        `is required: the built-in default (${DEFAULT_INCREMENT_SECONDS} s) is not longer than the schedule interval (${intervalSeconds} s)`,
      ),
    );
  }
}

/**
 * With declared prefixes IAM grants the renew function read and write under
 * `prefixes.readWrite` and read under `prefixes.readOnly`, so every secret
 * must sit under the prefixes of its kind, and no AppRole secret under a
 * writable one: the renewer must never be able to overwrite credentials it
 * only logs in with. Ids written as ARNs are granted one by one and not
 * checked here.
 */
function checkSecretPrefixes(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const prefixes = asRecord(asRecord(file.secretAccess)?.prefixes);
  if (prefixes === undefined) return;
  const readWrite = stringsOf(prefixes.readWrite);
  const readOnly = stringsOf(prefixes.readOnly);
  const at: Path = ['secretAccess', 'prefixes'];
  if (readWrite.length === 0)
    sink.addIssue(issue([...at, 'readWrite'], 'must list at least one prefix'));
  if (readOnly.length === 0)
    sink.addIssue(issue([...at, 'readOnly'], 'must list at least one prefix'));
  readOnly.forEach((prefix, i) => {
    const writable = readWrite.find((w) => prefix.startsWith(w));
    if (writable !== undefined) {
      sink.addIssue(
        issue(
          [...at, 'readOnly', i],
          `is inside the writable prefix ${quote(writable)}: AppRole secrets under it could be overwritten by the renew function`,
        ),
      );
    }
  });
  readWrite.forEach((prefix, i) => {
    const readOnlyParent = readOnly.find((r) => prefix.startsWith(r) && prefix !== r);
    if (readOnlyParent !== undefined) {
      sink.addIssue(
        issue(
          [...at, 'readWrite', i],
          `is inside the read-only prefix ${quote(readOnlyParent)}: AppRole secrets created under it later would be writable by the renew function`,
        ),
      );
    }
  });
  if (readWrite.length === 0 || readOnly.length === 0) return;

  const under = (id: unknown, list: readonly string[]) =>
    typeof id !== 'string' || id.startsWith('arn:') || list.some((p) => id.startsWith(p));
  const outside = (id: unknown, listName: string, list: readonly string[]) =>
    `${quote(String(id))} is outside secretAccess.prefixes.${listName} (${list.map(quote).join(', ')}): IAM would deny it. Move the secret under one of them or add its prefix`;
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    const who = typeof target.name === 'string' ? `target ${quote(target.name)}: ` : '';
    if (!under(target.tokenSecret, readWrite)) {
      sink.addIssue(
        issue(
          ['targets', t, 'tokenSecret'],
          who + outside(target.tokenSecret, 'readWrite', readWrite),
        ),
      );
    }
    const approleSecret = asRecord(target.approle)?.secret;
    if (!under(approleSecret, readOnly)) {
      sink.addIssue(
        issue(
          ['targets', t, 'approle', 'secret'],
          who + outside(approleSecret, 'readOnly', readOnly),
        ),
      );
    } else if (
      typeof approleSecret === 'string' &&
      // An ARN of this account and region falls under a prefix grant by its name too.
      readWrite.some((p) => secretNameOf(approleSecret).startsWith(p))
    ) {
      sink.addIssue(
        issue(
          ['targets', t, 'approle', 'secret'],
          `${who}${quote(approleSecret)} is under a secretAccess.prefixes.readWrite prefix: the renew function could overwrite it. Give AppRole secrets a prefix of their own`,
        ),
      );
    }
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined || under(lease.secret, readWrite)) return;
      sink.addIssue(
        issue(
          ['targets', t, 'leases', l, 'secret'],
          who + outside(lease.secret, 'readWrite', readWrite),
        ),
      );
    });
  });
}

function stringsOf(value: unknown): string[] {
  return (asArray(value) ?? []).filter((item): item is string => typeof item === 'string');
}

/** Remembers every use of each string value, in file order. */
class Claims<Use> {
  readonly #uses = new Map<string, Use[]>();

  /** Records `use` of `value`; returns the earlier uses of the same value. Non-strings are ignored. */
  claim(value: unknown, use: Use): readonly Use[] {
    if (typeof value !== 'string') return [];
    const earlier = this.#uses.get(value) ?? [];
    this.#uses.set(value, [...earlier, use]);
    return earlier;
  }
}

function issue(path: Path, message: string) {
  return { code: 'custom' as const, path, message };
}

function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}
