/**
 * Where a bench program's CPU went: a `node --cpu-prof` profile of a bundled
 * program (bench.ts builds them unminified, so esbuild's `// <path>` comments
 * say which module each line of the bundle came from), its samples summed by
 * what spent them. Time in Node's own code (socket writes, promise jobs, JSON
 * parsing) counts for the nearest caller in the bundle, so `undici` includes
 * the socket writes it makes and the SDK the HTTP client it drives; the GC
 * row is the price of allocation, whoever allocated.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Rows of the summary, in the order they are printed. */
export const CATEGORIES = [
  'undici (HTTP)',
  'AWS SDK (signer, other calls)',
  'Secrets Manager adapter',
  'Vault client, HTTP exchange',
  'validation and decoding',
  'renewal logic',
  'secret reads and scheduling',
  'logging',
  'metrics and report building',
  'GC (allocation)',
  'runtime (promise jobs, timers, loading)',
  'bench harness',
] as const;
export type Category = (typeof CATEGORIES)[number];

const RULES: ReadonlyArray<readonly [RegExp, Category]> = [
  [/node_modules\/undici\/|^wasm:/, 'undici (HTTP)'],
  [
    /node_modules\/(@aws-sdk|@smithy|@aws\/|@aws-crypto|fast-xml-parser|strnum|bowser|tslib)/,
    'AWS SDK (signer, other calls)',
  ],
  [/node_modules\/@aws-lambda-powertools\/(logger|commons)/, 'logging'],
  [/node_modules\/@aws-lambda-powertools\/metrics/, 'metrics and report building'],
  [/node_modules\/(p-limit|yocto-queue)/, 'secret reads and scheduling'],
  [/functions\/aws\//, 'Secrets Manager adapter'],
  [
    /functions\/(vault\/(transport|retry-timing|errors|client)|http\/undici)\.ts/,
    'Vault client, HTTP exchange',
  ],
  [/functions\/(vault\/|core\/secret-documents\.ts|config\/)/, 'validation and decoding'],
  [
    /functions\/(core\/secret-reads|core\/run-scope|renewal\/run)\.ts/,
    'secret reads and scheduling',
  ],
  [
    /functions\/(renewal\/report|app\/run-metrics|app\/response-size)\.ts/,
    'metrics and report building',
  ],
  [/functions\//, 'renewal logic'],
  [/test\/bench\//, 'bench harness'],
];

/** The bundle's module of each line: esbuild starts each module with `// <path>`. */
function moduleLines(bundleFile: string): (line: number) => string {
  const starts: { line: number; path: string }[] = [];
  readFileSync(bundleFile, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const match = /^\/\/ (\S+\.[cm]?[jt]s)$/.exec(text);
      if (match?.[1] !== undefined) starts.push({ line: index, path: match[1] });
    });
  return (line) => {
    let low = 0;
    let high = starts.length - 1;
    let found = '';
    while (low <= high) {
      const mid = (low + high) >> 1;
      const start = starts[mid];
      if (start === undefined) break;
      if (start.line <= line) {
        found = start.path;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return found;
  };
}

/** What a frame is: a category, or undefined for Node's own code and builtins. */
function categoryOf(node: ProfileNode, moduleAt: (line: number) => string, bundle: string) {
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(garbage collector)') return 'GC (allocation)';
  if (functionName === '(idle)') return 'idle';
  if (functionName === '(program)') return 'runtime (promise jobs, timers, loading)';
  if (functionName === 'logTarget') return 'logging';
  const path = url.endsWith(bundle) ? moduleAt(lineNumber) : url;
  for (const [pattern, category] of RULES) {
    if (pattern.test(path)) return category;
  }
  return undefined;
}

/** CPU milliseconds by category of every profile in `dir`, for the bundle `bundleFile`. */
export function summarizeProfile(dir: string, bundleFile: string): Map<Category, number> {
  const moduleAt = moduleLines(bundleFile);
  const bundle = bundleFile.split('/').pop() ?? bundleFile;
  const totals = new Map<Category, number>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.cpuprofile'))) {
    const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((node) => [node.id, node]));
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) {
      for (const child of node.children ?? []) parentOf.set(child, node.id);
    }
    const owners = new Map<number, Category | 'idle'>();
    const ownerOf = (id: number): Category | 'idle' => {
      const known = owners.get(id);
      if (known !== undefined) return known;
      const node = byId.get(id);
      const parent = parentOf.get(id);
      const own = node === undefined ? undefined : categoryOf(node, moduleAt, bundle);
      const owner =
        own ?? (parent === undefined ? 'runtime (promise jobs, timers, loading)' : ownerOf(parent));
      owners.set(id, owner);
      return owner;
    };
    profile.samples.forEach((id, index) => {
      const owner = ownerOf(id);
      if (owner === 'idle') return;
      const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
      totals.set(owner, (totals.get(owner) ?? 0) + ms);
    });
  }
  return totals;
}

/** A plain-text table: one row per category, one column per profiled program. */
export function formatProfileTable(
  columns: readonly { readonly name: string; readonly summary: ReadonlyMap<Category, number> }[],
): string {
  const sum = (summary: ReadonlyMap<Category, number>) =>
    [...summary.values()].reduce((total, ms) => total + ms, 0);
  const cell = (ms: number, total: number) =>
    `${Math.round(ms)} ms (${total === 0 ? 0 : Math.round((100 * ms) / total)}%)`.padStart(16);
  const rows = CATEGORIES.filter((category) =>
    columns.some((column) => (column.summary.get(category) ?? 0) >= 0.5),
  ).map(
    (category) =>
      `  ${category.padEnd(42)}${columns
        .map((column) => cell(column.summary.get(category) ?? 0, sum(column.summary)))
        .join('')}`,
  );
  const header = `  ${'CPU by what spent it'.padEnd(42)}${columns.map((c) => c.name.padStart(16)).join('')}`;
  const total = `  ${'total (sampled)'.padEnd(42)}${columns
    .map((c) => `${Math.round(sum(c.summary))} ms`.padStart(16))
    .join('')}`;
  return [header, ...rows, total].join('\n');
}
