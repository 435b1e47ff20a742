/**
 * The target list as the Lambda reads it: the resolved, defaulted JSON that
 * `npm run build` / `npm run package` write after validating the YAML with the
 * full schema (`schema.ts`). Parsed here again with a schema of the resolved
 * shape, so a hand-edited or truncated file fails at cold start naming every
 * bad field, and frozen.
 *
 * `zod/mini` keeps this to ~20 KB of the bundle; the full schema with its
 * friendly messages (and the YAML parser) stays out of the Lambda.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { deepFreeze } from './deep-freeze.js';
import { ConfigError } from './errors.js';
import type { RenewerConfig } from './types.js';
import './zod-locale.js';

/** Where the build writes the resolved config, relative to the function's root. */
export const RESOLVED_CONFIG_FILE = 'config/targets.resolved.json';

/**
 * Beside the resolved config the build writes the SHA-256 of its exact bytes
 * (`<file>.sha256`). When the file still has that digest it is the text the
 * full schema accepted at build time, so the cold start skips the second
 * schema pass: for 10,000 targets that pass costs about 90 ms of a cold
 * start (measured in docs/benchmark.md). Any other text (hand-edited,
 * truncated, no digest) is checked field by field as before.
 */
export const DIGEST_SUFFIX = '.sha256';

export function resolvedConfigDigest(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

const seconds = z.number().check(z.int(), z.positive());
const text = z.string().check(z.minLength(1));
const rotationRules = z.optional(
  z.strictObject({
    AutomaticallyAfterDays: z.optional(seconds),
    ScheduleExpression: z.optional(text),
    Duration: z.optional(text),
  }),
);

const resolvedSchema = z.strictObject({
  version: z.literal(1),
  scheduleIntervalSeconds: seconds,
  concurrency: z.number().check(z.int(), z.positive()),
  pacing: z.strictObject({
    maxConcurrency: z.number().check(z.int(), z.positive()),
    writesPerSecond: z.number().check(z.positive()),
    reloginRetrySeconds: seconds,
  }),
  vaultRequestCeilings: z.optional(z.record(z.string(), z.number().check(z.positive()))),
  secretIdWarnDays: z.number().check(z.int(), z.positive()),
  reminderHours: z.number().check(z.int(), z.positive()),
  vaultCaCertPem: z.optional(text),
  targets: z
    .array(
      z.strictObject({
        name: text,
        vault: z.strictObject({ address: text, namespace: z.optional(text) }),
        tokenSecretId: text,
        approle: z.strictObject({
          secretId: text,
          mount: text,
          roleName: z.optional(text),
        }),
        incrementSeconds: seconds,
        leases: z.array(
          z.strictObject({
            name: text,
            secretId: text,
            reissuePath: text,
            incrementSeconds: seconds,
          }),
        ),
        notify: z.strictObject({ onRelogin: z.boolean(), onReissue: z.boolean() }),
        rotation: z.optional(z.strictObject({ approle: rotationRules, token: rotationRules })),
      }),
    )
    .check(z.minLength(1)),
  rotator: z.optional(text),
  secretAccess: z.optional(
    z.strictObject({
      prefixes: z.optional(z.strictObject({ readWrite: z.array(text), readOnly: z.array(text) })),
      tag: z.optional(z.strictObject({ key: text, value: z.string() })),
    }),
  ),
});

/**
 * The schema above and the documented types (types.ts) describe one shape,
 * and the compiler holds them to it both ways: what the schema accepts is a
 * RenewerConfig ({@link fromJson} needs no cast to it), and every
 * RenewerConfig passes the schema ({@link TYPES_FIT_SCHEMA}).
 */
type Resolved = z.output<typeof resolvedSchema>;
/** Parsed JSON never holds `undefined`: an optional key is absent or has its type. */
type FromJson<T> = T extends readonly (infer U)[]
  ? FromJson<U>[]
  : T extends object
    ? { [K in keyof T]: FromJson<Exclude<T[K], undefined>> }
    : T;
type Mutable<T> = T extends readonly (infer U)[]
  ? Mutable<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Mutable<T[K]> }
    : T;
export const TYPES_FIT_SCHEMA: [Mutable<RenewerConfig>] extends [Resolved] ? true : never = true;

function fromJson(data: Resolved): RenewerConfig {
  return data as FromJson<Resolved>;
}

export function parseResolvedConfig(json: string, source?: string): RenewerConfig {
  const where = source === undefined ? {} : { source };
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch (error) {
    throw new ConfigError(
      [{ path: '(file)', message: `not valid JSON: ${(error as Error).message}` }],
      where,
    );
  }
  const parsed = z.safeParse(resolvedSchema, data);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        path:
          issue.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '') || '(root)',
        message: issue.message,
      })),
      where,
    );
  }
  return deepFreeze(fromJson(parsed.data));
}

export function loadResolvedConfigFile(path: string): RenewerConfig {
  let json: string;
  try {
    json = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      [
        {
          path: '(file)',
          message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'} (run npm run build)`,
        },
      ],
      { source: path },
    );
  }
  if (readDigest(`${path}${DIGEST_SUFFIX}`) === resolvedConfigDigest(json)) {
    return deepFreeze(JSON.parse(json) as RenewerConfig);
  }
  return parseResolvedConfig(json, path);
}

function readDigest(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    // No digest: the config is checked field by field.
    return undefined;
  }
}
