/**
 * The rooms of the code and which way their doors open (docs/development.md,
 * "Layout"): features know Vault and AWS only through the core's ports and
 * tell their subscribers through the telling room,
 * adapters implement those ports and know no feature (both send through the
 * one HTTP exchange in http/, which knows nothing of ours), the core knows only
 * itself and the config, and nothing outside test/ leans on test code.
 * Read from the import statements of every file in the repository.
 */

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '../..');

const FEATURES = ['renewal', 'diagnosis', 'rotation'] as const;
const ADAPTERS = ['vault', 'aws'] as const;

/** Decisions that must stay pure: no I/O module, no clock of their own. */
const PURE_MODULES = [
  'functions/renewal/planner.ts',
  'functions/core/lifetime.ts',
  'functions/core/wording.ts',
  'functions/core/explain.ts',
  'functions/rotation/rotation-target.ts',
];
const IO_MODULES = /^(node:(?!events$)|undici|@aws-sdk\/|@aws-lambda-powertools\/|pg$)/;

const IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\btsImport\(\s*|\brequire\(\s*)['"]([^'"]+)['"]/g;

interface Edge {
  readonly from: string;
  /** A repository path for relative specifiers, the package name otherwise. */
  readonly to: string;
  readonly relative: boolean;
}

function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '*.ts', '*.cjs'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((file) => file !== '' && !file.startsWith('node_modules/'));
}

function edgesOf(file: string): Edge[] {
  const text = readFileSync(join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((match) => {
    const specifier = match[1] ?? '';
    if (!specifier.startsWith('.')) return { from: file, to: specifier, relative: false };
    const target = normalize(join(dirname(file), specifier)).replace(/\.js$/, '.ts');
    return { from: file, to: relative('.', target), relative: true };
  });
}

const edges = sourceFiles().flatMap(edgesOf);

/** `functions/renewal/run.ts` → `renewal`; undefined outside functions/<room>/. */
function roomOf(path: string): string | undefined {
  const match = /^functions\/([^/]+)\//.exec(path);
  return match?.[1];
}

function crossings(allowed: (fromRoom: string, toRoom: string) => boolean): string[] {
  return edges
    .filter((edge) => edge.relative)
    .filter((edge) => {
      const fromRoom = roomOf(edge.from);
      const toRoom = roomOf(edge.to);
      if (fromRoom === undefined || toRoom === undefined || fromRoom === toRoom) return false;
      return !allowed(fromRoom, toRoom);
    })
    .map((edge) => `${edge.from} -> ${edge.to}`);
}

describe('the import rules of functions/', () => {
  it('reads the imports it judges (a rule over no edges would pass vacuously)', () => {
    expect(edges.filter((e) => e.relative && roomOf(e.from) === 'renewal').length).toBeGreaterThan(
      20,
    );
    expect(edges.some((e) => e.from === 'functions/diagnosis/observe-target.ts')).toBe(true);
  });

  it('lets a feature import only the core, the config and the telling room, never another feature', () => {
    const isFeature = (room: string) => (FEATURES as readonly string[]).includes(room);
    expect(
      crossings(
        (from, to) => !isFeature(from) || to === 'core' || to === 'config' || to === 'telling',
      ),
    ).toEqual([]);
  });

  it('lets the telling room import only the core and the config, so every feature can use it', () => {
    expect(crossings((from, to) => from !== 'telling' || to === 'core' || to === 'config')).toEqual(
      [],
    );
    expect(edges.some((e) => e.relative && e.to.startsWith('functions/telling/'))).toBe(true);
  });

  it('lets an adapter import only the core and the HTTP exchange', () => {
    const isAdapter = (room: string) => (ADAPTERS as readonly string[]).includes(room);
    expect(crossings((from, to) => !isAdapter(from) || to === 'core' || to === 'http')).toEqual([]);
  });

  it('keeps the HTTP exchange free of everything else of ours', () => {
    expect(crossings((from) => from !== 'http')).toEqual([]);
  });

  it('lets the core import only itself and the config, and the config only itself', () => {
    expect(crossings((from, to) => from !== 'core' || to === 'config')).toEqual([]);
    expect(crossings((from) => from !== 'config')).toEqual([]);
  });

  it('keeps the pure decision modules free of I/O', () => {
    const impure = edges
      .filter((edge) => PURE_MODULES.includes(edge.from) && !edge.relative)
      .filter((edge) => IO_MODULES.test(edge.to))
      .map((edge) => `${edge.from} -> ${edge.to}`);
    expect(impure).toEqual([]);
  });
});

describe('test code', () => {
  it('is imported by nothing outside test/ (the local stack is a tool in tools/)', () => {
    const leaks = edges
      .filter((edge) => edge.relative && !edge.from.startsWith('test/'))
      .filter((edge) => edge.to.startsWith('test/'))
      .map((edge) => `${edge.from} -> ${edge.to}`);
    expect(leaks).toEqual([]);
  });
});
