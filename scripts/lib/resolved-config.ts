/**
 * Validates a target list with the full schema and writes the resolved JSON
 * the Lambda reads (functions/config/resolved.ts), with the digest that lets
 * the cold start trust it without a second schema pass. Throws ConfigError with
 * every problem when the file is bad, so the build or package step fails.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfigFile } from '../../functions/config/load.js';
import { DIGEST_SUFFIX, resolvedConfigDigest } from '../../functions/config/resolved.js';
import type { RenewerConfig } from '../../functions/config/types.js';

export function writeResolvedConfig(sourcePath: string, outPath: string): RenewerConfig {
  const config = loadConfigFile(sourcePath);
  mkdirSync(dirname(outPath), { recursive: true });
  // Compact: for 10,000 targets indentation alone would add 2 MB to read at every cold start.
  const json = `${JSON.stringify(config)}\n`;
  writeFileSync(outPath, json);
  writeFileSync(`${outPath}${DIGEST_SUFFIX}`, `${resolvedConfigDigest(json)}\n`);
  return config;
}
