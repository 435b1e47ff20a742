/**
 * The targets object's format: JSON Lines, one resolved target per line
 * (the shape resolved-schema.ts gives a target of the config file), written
 * by `npm run targets:push` after the full schema accepted every line, and
 * read by the functions at run time. A line that does not parse, or whose
 * target is not of that shape, is named by its line number; nothing of a
 * bad object is used.
 */

import * as z from 'zod/mini';
import { deepFreeze } from './deep-freeze.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { resolvedTargetSchema } from './resolved-schema.js';
import type { TargetConfig } from './types.js';
import './zod-locale.js';

/** At most this many problems are listed: a wholly wrong object would otherwise list every line. */
const MAX_ISSUES = 50;

export function renderTargetLines(targets: readonly TargetConfig[]): string {
  return targets.map((target) => `${JSON.stringify(target)}\n`).join('');
}

export function parseTargetLines(text: string, source: string): readonly TargetConfig[] {
  const targets: TargetConfig[] = [];
  const issues: ConfigIssue[] = [];
  const names = new Map<string, number>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length && issues.length < MAX_ISSUES; i += 1) {
    const line = lines[i]?.trim() ?? '';
    if (line === '') continue;
    const where = `line ${i + 1}`;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      issues.push({ path: where, message: 'not a JSON object' });
      continue;
    }
    const parsed = z.safeParse(resolvedTargetSchema, data);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        issues.push({
          path: `${where}: ${issue.path.join('.') || '(target)'}`,
          message: issue.message,
        });
      }
      continue;
    }
    const first = names.get(parsed.data.name);
    if (first !== undefined) {
      issues.push({ path: `${where}: name`, message: `is the same name as line ${first}` });
      continue;
    }
    names.set(parsed.data.name, i + 1);
    targets.push(parsed.data as TargetConfig);
  }
  if (issues.length > 0) throw new ConfigError(issues, { source });
  return deepFreeze(targets);
}
