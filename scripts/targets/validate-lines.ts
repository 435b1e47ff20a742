/**
 * The targets file `npm run targets:push` uploads, checked with the config
 * it goes with: the file's targets join the config's own and the whole is
 * parsed by the one config loader (the same schema and cross-field rules),
 * each problem named by the line it comes from.
 */

import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError, type ConfigIssue } from '../../functions/config/errors.js';
import { parseConfig } from '../../functions/config/load.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { SetupError } from '../lib/command.js';

/** The file's targets, with the line each came from; lines that are not JSON are problems. */
function readLines(path: string): { targets: unknown[]; lines: number[]; issues: ConfigIssue[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SetupError(
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    );
  }
  const targets: unknown[] = [];
  const lines: number[] = [];
  const issues: ConfigIssue[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    try {
      targets.push(JSON.parse(line) as unknown);
      lines.push(index + 1);
    } catch {
      issues.push({ path: `line ${index + 1}`, message: 'not a JSON object' });
    }
  });
  return { targets, lines, issues };
}

/** `targets[12].approle.secret` of the combined list, as the line of the file it came from. */
function byLine(issue: ConfigIssue, inline: number, lines: readonly number[]): ConfigIssue {
  const match = /^targets\[(\d+)\](.*)$/.exec(issue.path);
  const index = match === null ? undefined : Number(match[1]) - inline;
  if (match === null || index === undefined || index < 0) return issue;
  const field = (match[2] ?? '').replace(/^\./, '');
  return {
    path: `line ${lines[index]}${field === '' ? '' : `: ${field}`}`,
    message: issue.message,
  };
}

export function validateTargetLines(
  configPath: string,
  linesPath: string,
): { readonly config: RenewerConfig; readonly targets: RenewerConfig['targets'] } {
  const file = parseYaml(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  const inline = Array.isArray(file.targets) ? file.targets : [];
  const read = readLines(linesPath);
  const issues = [...read.issues];
  // The renew role may ask STS only for the audiences packaged into its IAM policy.
  const packaged = new Set<unknown>([
    ...(((file.webIdentity as { audiences?: unknown[] } | undefined)?.audiences ??
      []) as unknown[]),
    ...inline.map((t) => (t as { jwt?: { audience?: unknown } } | null)?.jwt?.audience),
  ]);
  read.targets.forEach((target, i) => {
    const jwtAudience = (target as { jwt?: { audience?: unknown } } | null)?.jwt?.audience;
    if (jwtAudience !== undefined && !packaged.has(jwtAudience)) {
      issues.push({
        path: `line ${read.lines[i]}: jwt.audience`,
        message:
          "is not among the config's webIdentity.audiences: add it there, then package and deploy, so the renew role may ask STS for it",
      });
    }
    const ceiling = (target as { vault?: { maxRequestsPerSecond?: unknown } } | null)?.vault
      ?.maxRequestsPerSecond;
    if (ceiling !== undefined) {
      issues.push({
        path: `line ${read.lines[i]}: vault.maxRequestsPerSecond`,
        message:
          "belongs in the config file's vault block: the functions take request ceilings from the bundle",
      });
    }
  });
  let config: RenewerConfig | undefined;
  try {
    config = parseConfig(JSON.stringify({ ...file, targets: [...inline, ...read.targets] }), {
      format: 'json',
      baseDir: dirname(configPath),
      source: configPath,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues.map((issue) => byLine(issue, inline.length, read.lines)));
  }
  if (config !== undefined && config.targetsObject === undefined) {
    issues.push({
      path: `${configPath}: targetsObject`,
      message: 'is not set: the functions would never read the object (add targetsObject: {})',
    });
  }
  if (issues.length > 0 || config === undefined) {
    throw new ConfigError(issues, { source: linesPath });
  }
  return { config, targets: config.targets.slice(inline.length) };
}
