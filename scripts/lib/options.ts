/**
 * The command-line rules every command shares, with no dependency beyond
 * Node (the build imports it too): options checked strictly, `--help`
 * answered with the usage and exit 0, a wrong option one line that repeats
 * the usage's first line.
 */

import { type ParseArgsConfig, parseArgs } from 'node:util';

/** The command line or the event is wrong: exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** `--help` (or `-h`) was asked for: the usage goes to stdout and the command exits 0. */
export class HelpRequested extends Error {
  override readonly name = 'HelpRequested';
  public constructor(public readonly usage: string) {
    super('help requested');
  }
}

/** Whether the command line asks for help, whatever else it holds. */
export function asksForHelp(argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

/**
 * The command's options, checked; `usage` is what `--help` prints (its first
 * line is repeated after a wrong option, so the mistake is one line).
 */
export function parseOptions<const Options extends NonNullable<ParseArgsConfig['options']>>(
  options: Options,
  usage: string,
) {
  if (asksForHelp()) throw new HelpRequested(usage);
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    const first = usage.split('\n')[0] ?? '';
    throw new UsageError(`${(error as Error).message} (${first}; --help for more)`);
  }
}
