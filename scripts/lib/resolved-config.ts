/**
 * Validates a target list with the full schema and writes the resolved JSON
 * the Lambda reads (functions/config/resolved.ts). Throws ConfigError with
 * every problem when the file is bad, so the build or package step fails.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfigFile } from '../../functions/config/load.js';
import type { RenewerConfig } from '../../functions/config/types.js';

export function writeResolvedConfig(sourcePath: string, outPath: string): RenewerConfig {
  const config = loadConfigFile(sourcePath);
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, `${JSON.stringify(config, null, 2)}\n`);
  return config;
}
