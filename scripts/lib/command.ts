/**
 * What `npm start` and `npm run diagnose` share as commands: their options,
 * the console-style event, the explicit switch to real services, and one line
 * on stderr (never a stack trace) for each mistake a person can make: exit 2
 * for a wrong command line or event, 1 for a missing prerequisite or a bad
 * config. Anything else is a bug and keeps its stack trace.
 */

import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidDiagnoseEventError } from '../../functions/app/diagnose-event.js';
import { InvalidEventError } from '../../functions/app/renew-event.js';
import { ConfigError } from '../../functions/config/errors.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { PostgresSetupError } from '../../tools/local-stack/postgres.js';
import { REPO_ROOT } from '../../tools/local-stack/python-env.js';
import { HelpRequested, parseOptions, UsageError } from './options.js';
import { writeResolvedConfig } from './resolved-config.js';

export { asksForHelp, HelpRequested, parseOptions, UsageError } from './options.js';

/** Something the run needs is not set up (a variable, a file): exit 1. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

const USAGE_ERRORS = [UsageError, InvalidEventError, InvalidDiagnoseEventError];
const SETUP_ERRORS = [SetupError, ConfigError, PostgresSetupError];

export interface CommandLine {
  readonly event: unknown;
  readonly external: boolean;
  readonly json: boolean;
  /** `--fleet`: one line per target instead of the check tables (diagnose). */
  readonly fleet: boolean;
  /** `--all`: every target in the run table, not only those that need a look (start). */
  readonly all: boolean;
}

/**
 * The options both commands take (`--event`, `--external`, `--json`), read
 * and checked, with the note about VAULT_ADDR on stderr when it applies.
 */
export function readCommandLine(
  command: string,
  fallbackEvent: unknown,
  usage: string,
  /** Options only one command offers: `--dry-run` (a renewal), `--fleet` (diagnose). */
  offers: { readonly dryRun?: boolean; readonly fleet?: boolean; readonly all?: boolean } = {},
): CommandLine {
  const options = parseOptions(
    {
      event: { type: 'string' },
      targets: { type: 'string' },
      ...(offers.dryRun === true ? { 'dry-run': { type: 'boolean', default: false } } : {}),
      ...(offers.fleet === true ? { fleet: { type: 'boolean', default: false } } : {}),
      ...(offers.all === true ? { all: { type: 'boolean', default: false } } : {}),
      external: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    usage,
  );
  const note = vaultAddrNote(command, options.external);
  if (note !== undefined) process.stderr.write(`${note}\n`);
  const asked = options['dry-run'] === true;
  if (options.event !== undefined && (asked || options.targets !== undefined)) {
    throw new UsageError(
      '--event is the whole event: use it, or --dry-run and --targets, not both',
    );
  }
  const targets = options.targets
    ?.split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const shortcut =
    asked || targets !== undefined
      ? { ...(asked ? { dryRun: true } : {}), ...(targets === undefined ? {} : { targets }) }
      : undefined;
  return {
    event: shortcut ?? parseEventOption(options.event, fallbackEvent),
    external: options.external,
    json: options.json,
    fleet: options.fleet === true,
    all: options.all === true,
  };
}

/** `--event '<json>'`, or `fallback` when the option is absent. */
export function parseEventOption(text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new UsageError(
      `--event is not valid JSON (${(error as Error).message}); e.g. --event '{"dryRun": true}'`,
    );
  }
}

/** Runs `main`; a mistake of the person running it ends in one line and an exit code. */
export async function runCommand(command: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${error.usage}\n`);
      process.exitCode = 0;
      return;
    }
    const exitCode = USAGE_ERRORS.some((kind) => error instanceof kind)
      ? 2
      : SETUP_ERRORS.some((kind) => error instanceof kind)
        ? 1
        : undefined;
    if (exitCode === undefined) throw error;
    process.stderr.write(`${command}: ${(error as Error).message}\n`);
    process.exitCode = exitCode;
  }
}

/**
 * The renewer reaches Vault at each target's configured address, never at
 * VAULT_ADDR: say so when VAULT_ADDR is set, since other Vault tools use it.
 */
export function vaultAddrNote(command: string, external: boolean): string | undefined {
  const vaultAddr = process.env.VAULT_ADDR;
  if (vaultAddr === undefined || vaultAddr === '') return undefined;
  return external
    ? `Note: VAULT_ADDR (${vaultAddr}) is not used: each target's Vault address comes from RENEWER_CONFIG.`
    : `Note: VAULT_ADDR is set, but ${command} runs the local demo on its own stack; add --external to run against the services of RENEWER_CONFIG.`;
}

/** `https://vault-a:8200 (12 targets), https://vault-b:8200 (1 target)` */
export function vaultAddresses(config: RenewerConfig): string {
  const counts = new Map<string, number>();
  for (const target of config.targets) {
    const where = `${target.vault.address}${target.vault.namespace === undefined ? '' : ` namespace ${target.vault.namespace}`}`;
    counts.set(where, (counts.get(where) ?? 0) + 1);
  }
  return [...counts].map(([where, n]) => `${where} (${n} target${n === 1 ? '' : 's'})`).join(', ');
}

/** Variables the external mode needs, all named at once when missing. */
export function requireEnv(command: string, names: readonly string[]): void {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new SetupError(
      `${command} --external runs against real services and needs ${missing.join(' and ')} (see docs/operations.md)`,
    );
  }
}

/**
 * The AWS region and credentials the SDK will use, resolved now: without
 * them an external run would fail deep inside its first AWS call, after the
 * targets were read. One line naming what to set instead.
 */
export async function requireAwsSettings(command: string): Promise<void> {
  const client = new SecretsManagerClient({});
  try {
    try {
      await client.config.region();
    } catch {
      throw new SetupError(
        `${command} --external needs an AWS region: set AWS_REGION (or a profile with a region in AWS_PROFILE)`,
      );
    }
    try {
      await client.config.credentials();
    } catch {
      throw new SetupError(
        `${command} --external needs AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`,
      );
    }
  } finally {
    client.destroy();
  }
}

/**
 * RENEWER_CONFIG, validated and resolved as the function reads it, written
 * to `.stack/<fileName>` and named by RENEWER_CONFIG_FILE for the entry point.
 */
export function useExternalConfig(fileName: string): RenewerConfig {
  const resolvedFile = join(REPO_ROOT, '.stack', fileName);
  const config = writeResolvedConfig(process.env.RENEWER_CONFIG ?? '', resolvedFile);
  process.env.RENEWER_CONFIG_FILE = resolvedFile;
  return config;
}

export function targetNames(config: RenewerConfig): string[] {
  return config.targets.map((target) => target.name);
}
