/**
 * The one config loader: text (YAML or JSON) in, a frozen `RenewerConfig`
 * out, or one `ConfigError` naming every problem. Used by the handlers at
 * module scope and by `scripts/validate-config.ts` at package time.
 */

import { readFileSync } from 'node:fs';
import { dirname, extname } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { type ReadTextFile, readCaBundle } from './ca-bundle.js';
import { ConfigError, type ConfigIssue } from './errors.js';
import { formatIssues, fromZodIssues, type RawIssue } from './issues.js';
import { resolveConfig } from './resolve.js';
import { configFileSchema } from './schema.js';
import type { RenewerConfig } from './types.js';

export type ConfigFormat = 'yaml' | 'json';

export interface ParseConfigOptions {
  /** Default `yaml`, which also reads JSON; `json` is strict JSON. */
  readonly format?: ConfigFormat;
  /** The directory `vault.caCertFile` is relative to (the config file's own). Default: the working directory. */
  readonly baseDir?: string;
  /** Reads the CA bundle. Default: `fs.readFileSync(path, 'utf8')`. */
  readonly readFile?: ReadTextFile;
  /** Names the config in the error message, e.g. its file path. */
  readonly source?: string;
}

const ROOT = '(root)';
/** Messages from the YAML and JSON parsers are clipped: they may quote the input. */
const MAX_PARSER_MESSAGE_CHARS = 100;

export function parseConfig(text: string, options: ParseConfigOptions = {}): RenewerConfig {
  const { format = 'yaml', baseDir = process.cwd(), readFile = readUtf8, source } = options;
  const fail = (issues: readonly ConfigIssue[]) =>
    new ConfigError(issues, source === undefined ? {} : { source });

  const document = format === 'json' ? readJson(text) : readYaml(text);
  if ('issues' in document) throw fail(document.issues);

  const parsed = configFileSchema.safeParse(document.data);
  const issues: RawIssue[] = parsed.success
    ? []
    : fromZodIssues(parsed.error.issues, configFileSchema);

  // Read the bundle even when other fields failed, so its problem is reported with theirs.
  let vaultCaCertPem: string | undefined;
  const caCertFile = caCertFileOf(document.data);
  if (caCertFile !== undefined) {
    const bundle = readCaBundle(caCertFile, baseDir, readFile);
    if ('problem' in bundle) {
      issues.push({ path: ['vault', 'caCertFile'], message: bundle.problem });
    } else {
      vaultCaCertPem = bundle.pem;
    }
  }

  if (!parsed.success || issues.length > 0) throw fail(formatIssues(issues, configFileSchema));
  return resolveConfig(parsed.data, vaultCaCertPem);
}

/**
 * Loads the config file at `path`: `.json` is read as JSON, anything else as
 * YAML; `vault.caCertFile` is relative to the file's directory.
 */
export function loadConfigFile(path: string): RenewerConfig {
  let text: string;
  try {
    text = readUtf8(path);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const reason = typeof code === 'string' ? code : 'unreadable';
    throw new ConfigError([{ path: '(file)', message: `cannot read the file: ${reason}` }], {
      source: path,
      cause: error,
    });
  }
  const format: ConfigFormat = extname(path).toLowerCase() === '.json' ? 'json' : 'yaml';
  return parseConfig(text, { format, baseDir: dirname(path), source: path });
}

function readUtf8(path: string): string {
  return readFileSync(path, 'utf8');
}

type Document = { readonly data: unknown } | { readonly issues: readonly ConfigIssue[] };

function readYaml(text: string): Document {
  const lineCounter = new LineCounter();
  // logLevel 'error': problems are reported below, not as process warnings.
  const document = parseDocument(stripBom(text), {
    lineCounter,
    prettyErrors: false,
    logLevel: 'error',
  });
  // Warnings count too (an unresolved tag silently becomes a string otherwise).
  const problems = [...document.errors, ...document.warnings];
  if (problems.length > 0) {
    return {
      issues: problems.map((problem) => ({
        path: ROOT,
        message: `YAML syntax error${at(lineCounter, problem.pos[0])}: ${clip(problem.message)}`,
      })),
    };
  }
  try {
    return { data: document.toJS({ maxAliasCount: 100 }) };
  } catch (error) {
    // An unresolved alias, or too many aliases (a "billion laughs" document).
    return { issues: [{ path: ROOT, message: `YAML error: ${clip(messageOf(error))}` }] };
  }
}

function readJson(text: string): Document {
  const source = stripBom(text);
  let data: unknown;
  try {
    data = JSON.parse(source);
  } catch (error) {
    return { issues: [{ path: ROOT, message: describeJsonError(source, messageOf(error)) }] };
  }
  // JSON.parse keeps the last of two equal keys without a word; the YAML
  // parser (JSON is YAML 1.2) reports them, with their position.
  const lineCounter = new LineCounter();
  const duplicates = parseDocument(source, {
    lineCounter,
    prettyErrors: false,
    logLevel: 'error',
  }).errors.filter((error) => error.code === 'DUPLICATE_KEY');
  if (duplicates.length > 0) {
    return {
      issues: duplicates.map((duplicate) => ({
        path: ROOT,
        message: `JSON error${at(lineCounter, duplicate.pos[0])}: ${clip(duplicate.message)}`,
      })),
    };
  }
  return { data };
}

/**
 * V8 says `... in JSON at position 42` (Node 22 adds `(line 3 column 7)`), or
 * quotes the input (`Unexpected token '}', "{"a": tru}" is not valid JSON`):
 * keep the reason, turn the position into a line and column, drop the quote.
 */
function describeJsonError(source: string, message: string): string {
  const position = /at position (\d+)/.exec(message)?.[1];
  const reason = message
    .replace(/ in JSON at position \d+.*$/s, '')
    .replace(/, ".*" is not valid JSON$/s, '');
  const where = position === undefined ? '' : lineAndColumn(source, Number(position));
  return `JSON syntax error${where}: ${clip(reason)}`;
}

function lineAndColumn(source: string, offset: number): string {
  const before = source.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}`;
}

function at(lineCounter: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, col } = lineCounter.linePos(offset);
  return ` at line ${line}, column ${col}`;
}

function caCertFileOf(data: unknown): string | undefined {
  const vault = (data as { vault?: unknown } | null | undefined)?.vault;
  const file = (vault as { caCertFile?: unknown } | null | undefined)?.caCertFile;
  return typeof file === 'string' && file.trim() !== '' ? file : undefined;
}

function stripBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text;
}

function clip(message: string): string {
  const oneLine = message.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_PARSER_MESSAGE_CHARS
    ? `${oneLine.slice(0, MAX_PARSER_MESSAGE_CHARS)}...`
    : oneLine;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
