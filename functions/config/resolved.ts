/**
 * The target list as the Lambda reads it: the resolved, defaulted JSON that
 * `npm run build` / `npm run package` write after validating the YAML with the
 * full schema (`schema.ts`). Parsed here again with the resolved schema
 * (`resolved-schema.ts`, which the config's types are derived from), so a
 * hand-edited or truncated file fails at cold start naming every bad field,
 * and frozen. With the build's digest the second pass is skipped (below).
 *
 * `zod/mini` keeps this to ~20 KB of the bundle; the full schema with its
 * friendly messages (and the YAML parser) stays out of the Lambda.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { deepFreeze } from './deep-freeze.js';
import { ConfigError } from './errors.js';
import { resolvedSchema } from './resolved-schema.js';
import type { Frozen, RenewerConfig } from './types.js';
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

/** What the schema accepted, as the code holds it (JSON holds no `undefined`). */
function fromJson(data: z.output<typeof resolvedSchema>): RenewerConfig {
  return data as Frozen<typeof data>;
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
