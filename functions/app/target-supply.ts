/**
 * The config a run works with: the settings and inline targets shipped in
 * the bundle, plus the targets object's when the config has one (read at the
 * first run and again only when it changed). A read that fails after one
 * succeeded keeps the last good list (and says so); with none yet the run
 * cannot start, and the error names the object.
 */

import { S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_MAX_ATTEMPTS } from '../aws/clients.js';
import { createS3ObjectReader, type ObjectReader } from '../aws/s3-object-reader.js';
import { deepFreeze } from '../config/deep-freeze.js';
import { ConfigError } from '../config/errors.js';
import { parseTargetLines } from '../config/target-lines.js';
import type { RenewerConfig } from '../config/types.js';
import { EnvironmentError, type RenewEnvironment } from './environment.js';

export interface TargetSupply {
  /** The config with every target, inline and from the object. */
  current(signal?: AbortSignal): Promise<RenewerConfig>;
}

export interface SupplyLogger {
  warn(message: string, fields: Record<string, unknown>): void;
}

/** The shipped config as it is: no object to read. */
export function fixedSupply(config: RenewerConfig): TargetSupply {
  return { current: async () => config };
}

export function createTargetSupply(
  base: RenewerConfig,
  reader: ObjectReader,
  logger: SupplyLogger,
): TargetSupply {
  let cached: RenewerConfig | undefined;
  return {
    async current(signal) {
      try {
        const read = await reader.read(signal);
        if (!read.changed && cached !== undefined) return cached;
        cached = merged(base, read.changed ? read.text : '', read.changed ? read.etag : '');
        return cached;
      } catch (error) {
        if (cached === undefined) throw error;
        logger.warn('targets object unreadable or invalid: using the targets last read', {
          error: (error as Error).message,
        });
        return cached;
      }
    },
  };
}

function merged(base: RenewerConfig, text: string, etag: string): RenewerConfig {
  const objectTargets = parseTargetLines(text, `targets object (ETag ${etag})`);
  const inline = new Set(base.targets.map((t) => t.name));
  const clashes = objectTargets.filter((t) => inline.has(t.name)).map((t) => t.name);
  if (clashes.length > 0) {
    throw new ConfigError(
      clashes.slice(0, 20).map((name) => ({
        path: `targets object: ${name}`,
        message: 'is also a target of the config file: a name is one target',
      })),
    );
  }
  return deepFreeze({ ...base, targets: [...base.targets, ...objectTargets] });
}

/**
 * A function's supply at cold start: none when the config keeps its targets
 * inline; the targets object in TARGETS_BUCKET otherwise (required then).
 */
export function supplyFromEnvironment(
  config: RenewerConfig,
  environment: RenewEnvironment,
  logger: SupplyLogger,
): { readonly supply?: TargetSupply } {
  if (config.targetsObject === undefined) return {};
  if (environment.targetsBucket === undefined) {
    throw new EnvironmentError([
      'TARGETS_BUCKET is required: the config keeps targets in the targets object',
    ]);
  }
  const reader = createS3ObjectReader(
    new S3Client({ maxAttempts: DEFAULT_MAX_ATTEMPTS }),
    environment.targetsBucket,
    config.targetsObject.key,
  );
  return { supply: createTargetSupply(config, reader, logger) };
}
