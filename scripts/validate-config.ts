/**
 * Validates the renewer's target list, so a bad file fails the build or the
 * deploy instead of the first scheduled run:
 *
 *   tsx scripts/validate-config.ts [path]
 *
 * The path defaults to `$RENEWER_CONFIG`, then `config/targets.yaml`. Prints
 * `config OK: N targets, M leases`, or every problem and exits 1.
 */

import { pathToFileURL } from 'node:url';
import { ConfigError } from '../functions/config/errors.js';
import { loadConfigFile } from '../functions/config/load.js';

export const DEFAULT_CONFIG_PATH = 'config/targets.yaml';

export type ValidationResult =
  | { readonly ok: true; readonly summary: string }
  | { readonly ok: false; readonly report: string };

/** Picks the file to check: the argument, else `RENEWER_CONFIG`, else the shipped file. */
export function configPathFrom(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string {
  const fromEnv = env.RENEWER_CONFIG;
  return args[0] ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG_PATH);
}

export function validateConfigFile(path: string): ValidationResult {
  try {
    const config = loadConfigFile(path);
    const leases = config.targets.reduce((count, target) => count + target.leases.length, 0);
    return {
      ok: true,
      summary: `config OK: ${plural(config.targets.length, 'target')}, ${plural(leases, 'lease')}`,
    };
  } catch (error) {
    // Anything but a ConfigError is a bug in the loader: let it crash loudly.
    if (error instanceof ConfigError) return { ok: false, report: error.message };
    throw error;
  }
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function main(): void {
  const result = validateConfigFile(configPathFrom(process.argv.slice(2), process.env));
  if (result.ok) {
    process.stdout.write(`${result.summary}\n`);
  } else {
    process.stderr.write(`${result.report}\n`);
    process.exitCode = 1;
  }
}

// Run only as a script, so tests can import the functions above.
const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) main();
