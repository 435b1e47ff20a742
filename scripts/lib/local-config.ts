/**
 * The target list of a local run: written as YAML (what an operator would
 * write) and resolved to the JSON the entry points read, both under `.stack/`.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../../tools/local-stack/python-env.js';
import { writeResolvedConfig } from './resolved-config.js';

export function writeLocalConfig(
  name: string,
  vaultAddress: string,
  targets: readonly Record<string, unknown>[],
  extra: Readonly<Record<string, unknown>> = {},
): { readonly configFile: string; readonly resolvedFile: string } {
  const dir = join(REPO_ROOT, '.stack');
  mkdirSync(dir, { recursive: true });
  const configFile = join(dir, `${name}-targets.yaml`);
  writeFileSync(
    configFile,
    stringify({
      version: 1,
      schedule: { intervalMinutes: 1 },
      concurrency: 4,
      vault: { address: vaultAddress },
      targets,
      ...extra,
    }),
  );
  const resolvedFile = join(dir, `${name}-targets.resolved.json`);
  writeResolvedConfig(configFile, resolvedFile);
  return { configFile, resolvedFile };
}
