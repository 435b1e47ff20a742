/**
 * Turns zod's issues into `ConfigIssue`s a human reads: a field path such as
 * `targets[1].leases[0].reissuePath` and a message that never echoes more
 * than a short, clipped quote of the input.
 */

import { z } from 'zod';
import type { ConfigIssue } from './errors.js';

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const MAX_QUOTED_CHARS = 60;

/** `targets[1].leases[0].reissuePath`; odd keys are quoted and clipped, never echoed whole. */
export function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  let text = '';
  for (const key of path) {
    if (typeof key === 'number') {
      text += `[${key}]`;
    } else if (typeof key === 'string' && IDENTIFIER.test(key) && key.length <= MAX_QUOTED_CHARS) {
      text += text === '' ? key : `.${key}`;
    } else {
      text += `[${quote(String(key))}]`;
    }
  }
  return text;
}

/** A short, escaped quote of input text: at most 60 characters of it. */
export function quote(value: string): string {
  const clipped =
    value.length > MAX_QUOTED_CHARS ? `${value.slice(0, MAX_QUOTED_CHARS)}...` : value;
  return JSON.stringify(clipped);
}

/** Describes a value's type for messages without echoing the value. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  switch (typeof value) {
    case 'object':
      return 'a mapping';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return typeof value;
  }
}

/** A problem at a path of keys, before the path is formatted. */
export interface RawIssue {
  readonly path: readonly PropertyKey[];
  readonly message: string;
}

/**
 * One issue per problem. An unknown-keys issue becomes one issue per key,
 * named by the key's own path, with the nearest known key of that object
 * suggested (the schema is strict precisely to catch typos).
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): RawIssue[] {
  return issues.flatMap((issue): RawIssue[] => {
    if (issue.code !== 'unrecognized_keys') return [{ path: issue.path, message: issue.message }];
    const known = knownKeysAt(schema, issue.path);
    return issue.keys.map((key) => {
      const suggestion = closestKey(key, known);
      return {
        path: [...issue.path, key],
        message:
          suggestion === undefined
            ? 'unknown field'
            : `unknown field (did you mean "${suggestion}"?)`,
      };
    });
  });
}

/**
 * Formats the paths and orders the issues as the fields appear in the schema
 * (list items by index), so the list reads top to bottom like the file.
 * Repeated issues are reported once.
 */
export function formatIssues(issues: readonly RawIssue[], schema: z.ZodType): ConfigIssue[] {
  const sorted = [...issues].sort((a, b) => comparePaths(a.path, b.path, schema));
  const seen = new Set<string>();
  const result: ConfigIssue[] = [];
  for (const issue of sorted) {
    const formatted = { path: formatPath(issue.path), message: issue.message };
    const key = `${formatted.path}\u0000${formatted.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      result.push(formatted);
    }
  }
  return result;
}

function comparePaths(
  a: readonly PropertyKey[],
  b: readonly PropertyKey[],
  schema: z.ZodType,
): number {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i += 1) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    if (typeof x === 'number') return -1;
    if (typeof y === 'number') return 1;
    const known = knownKeysAt(schema, a.slice(0, i));
    const rank = (key: unknown) => {
      const index = known.indexOf(String(key));
      return index === -1 ? known.length : index;
    };
    const byRank = rank(x) - rank(y);
    if (byRank !== 0) return byRank;
    return String(x) < String(y) ? -1 : 1;
  }
  return a.length - b.length;
}

/** The keys a strict object in `schema` accepts at `path`, or none when it is not an object. */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): readonly string[] {
  let node = unwrap(schema);
  for (const key of path) {
    if (node instanceof z.ZodObject && typeof key === 'string') {
      node = unwrap(node.shape[key]);
    } else if (node instanceof z.ZodArray && typeof key === 'number') {
      node = unwrap(node.element);
    } else {
      return [];
    }
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function unwrap(node: unknown): unknown {
  let current = node;
  while (current instanceof z.ZodOptional || current instanceof z.ZodPipe) {
    current = current instanceof z.ZodOptional ? current.unwrap() : current.in;
  }
  return current;
}

/** A known key that differs only in case, `_`/`-`, or by at most two edits. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  const plain = (text: string) => text.toLowerCase().replace(/[-_]/g, '');
  const exact = known.find((candidate) => plain(candidate) === plain(key));
  if (exact !== undefined) return exact;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) {
      best = { key: candidate, distance };
    }
  }
  return best?.key;
}

/** Levenshtein distance; keys are short, and longer input is not worth comparing. */
function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2 || a.length > 64) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}
