/**
 * The documentation stays usable: every relative link in README.md and docs/*.md
 * resolves (the file exists and, for a `#anchor` into a Markdown file, a heading
 * has that GitHub slug); the runbook has a section for every event code the
 * renewer publishes and for every alarm that points to it; and the README stays
 * short (the details live in docs/).
 */

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProblemCode } from '../../functions/core/problems.js';
import { DIAGNOSIS_EVENT } from '../../functions/diagnosis/summary-message.js';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const RUNBOOK = join(REPO_ROOT, 'docs', 'runbook.md');
const README_MAX_LINES = 250;

/** README.md and every Markdown file directly under docs/. */
const MARKDOWN_FILES = [
  join(REPO_ROOT, 'README.md'),
  ...readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(REPO_ROOT, 'docs', name)),
];

/** The file's lines outside fenced code blocks (``` or ~~~), with their 1-based numbers. */
function proseLines(markdown: string): { line: string; number: number }[] {
  const prose: { line: string; number: number }[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((line, index) => {
    const marker = /^\s{0,3}(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker !== undefined) {
      fence = marker;
    } else if (fence !== undefined) {
      const closes =
        marker !== undefined &&
        marker[0] === fence[0] &&
        marker.length >= fence.length &&
        line.trim() === marker;
      if (closes) fence = undefined;
    } else {
      prose.push({ line, number: index + 1 });
    }
  });
  return prose;
}

/** The text of each ATX heading (`## Text`), outside fenced code. */
function headings(markdown: string): string[] {
  return proseLines(markdown).flatMap(({ line }) => {
    const text = /^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    return text === undefined ? [] : [text];
  });
}

/**
 * GitHub's anchor for a heading: lowercase, characters other than letters, digits,
 * spaces, hyphens and underscores dropped, spaces to hyphens. Links in the heading
 * count by their text.
 */
function githubSlug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1')
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor of the file, with GitHub's `-1`, `-2` ... suffixes for repeated headings. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const heading of headings(markdown)) {
    const slug = githubSlug(heading);
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

interface Link {
  readonly target: string;
  readonly line: number;
}

/**
 * Inline links and images (`[text](target "title")`) and reference definitions
 * (`[label]: target`) outside fenced code blocks and inline code spans.
 */
function links(markdown: string): Link[] {
  return proseLines(markdown).flatMap(({ line, number }) => {
    const prose = line.replace(/(`+)[^`]*?\1/g, '');
    const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)];
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/.exec(prose);
    return [...inline.map((m) => m[1] ?? ''), ...(definition ? [definition[1] ?? ''] : [])].map(
      (target) => ({ target, line: number }),
    );
  });
}

/** Links with a scheme (https:, mailto:, ...) point outside the repository. */
function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target);
}

/** Why the link does not resolve, or undefined when it does. */
function brokenBecause(fromFile: string, target: string): string | undefined {
  const hash = target.indexOf('#');
  const path = decodeURIComponent(hash === -1 ? target : target.slice(0, hash));
  const anchor = hash === -1 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const file = path === '' ? fromFile : resolve(dirname(fromFile), path);
  if (!existsSync(file)) return `${relative(REPO_ROOT, file)} does not exist`;
  if (anchor === undefined || !file.endsWith('.md')) return undefined;
  return anchors(readFileSync(file, 'utf8')).has(anchor)
    ? undefined
    : `${relative(REPO_ROOT, file)} has no heading with the anchor #${anchor}`;
}

describe('the link checker', () => {
  it('makes anchors the way GitHub does', () => {
    expect(githubSlug('Troubleshooting the project itself')).toBe(
      'troubleshooting-the-project-itself',
    );
    expect(githubSlug('6. Console test events')).toBe('6-console-test-events');
    expect(githubSlug('On-demand invocation (Lambda console test events)')).toBe(
      'on-demand-invocation-lambda-console-test-events',
    );
    expect(githubSlug('`npm_run` & more')).toBe('npm_run--more');
    expect([...anchors('# A\n## A\n### B')]).toEqual(['a', 'a-1', 'b']);
  });

  it('finds links in prose only, not in code blocks or code spans', () => {
    const markdown = [
      'See [one](a.md#x) and ![two](img/b.png "title").',
      '`[not](a-code-span.md)`',
      '```sh',
      '[not](in-a-fence.md)',
      '```',
      '[ref]: c.md',
      '# [Heading](d.md)',
    ].join('\n');
    expect(links(markdown)).toEqual([
      { target: 'a.md#x', line: 1 },
      { target: 'img/b.png', line: 1 },
      { target: 'c.md', line: 6 },
      { target: 'd.md', line: 7 },
    ]);
    expect(headings(markdown)).toEqual(['[Heading](d.md)']);
  });

  it('reports a missing file and a missing anchor', () => {
    const readme = join(REPO_ROOT, 'README.md');
    expect(brokenBecause(readme, 'docs/no-such-page.md')).toBe(
      'docs/no-such-page.md does not exist',
    );
    expect(brokenBecause(readme, 'docs/runbook.md#no-such-heading')).toBe(
      'docs/runbook.md has no heading with the anchor #no-such-heading',
    );
    expect(brokenBecause(readme, '#no-such-heading')).toBe(
      'README.md has no heading with the anchor #no-such-heading',
    );
    expect(brokenBecause(readme, 'package.json#anything')).toBeUndefined();
  });
});

describe('the documentation', () => {
  it.each(MARKDOWN_FILES.map((file) => [relative(REPO_ROOT, file), file]))(
    'every relative link in %s resolves',
    (_name, file) => {
      const broken = links(readFileSync(file, 'utf8'))
        .filter(({ target }) => target !== '' && isRelative(target))
        .flatMap(({ target, line }) => {
          const reason = brokenBecause(file, target);
          return reason === undefined ? [] : [`line ${line}: ${target}: ${reason}`];
        });
      expect(broken).toEqual([]);
    },
  );

  it('README.md has at most 250 lines (the details live in docs/)', () => {
    const text = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    expect(lines).toBeLessThanOrEqual(README_MAX_LINES);
  });
});

describe('the runbook in docs/runbook.md', () => {
  const runbook = readFileSync(RUNBOOK, 'utf8');

  it('has a section headed by each event code the renewer publishes', () => {
    const sections = new Set(headings(runbook));
    const missing = Object.values(ProblemCode).filter((code) => !sections.has(code));
    expect(missing).toEqual([]);
  });

  it('has no section for an event nothing publishes any more', () => {
    const section = runbook.slice(
      runbook.indexOf('## Renewer events'),
      runbook.indexOf('## Alarms'),
    );
    const published = new Set<string>([...Object.values(ProblemCode), DIAGNOSIS_EVENT]);
    const events = [...section.matchAll(/^### (.+)$/gm)].map((m) => m[1] ?? '');
    expect(events.length).toBeGreaterThan(20);
    expect(events.filter((event) => !published.has(event))).toEqual([]);
    expect([...published].filter((event) => !events.includes(event))).toEqual([]);
  });

  it('has the section each alarm description of infra/alerts.yml and infra/rotation.yml points to', () => {
    const alerts = ['alerts.yml', 'rotation.yml']
      .map((file) => readFileSync(join(REPO_ROOT, 'infra', file), 'utf8'))
      .join('\n');
    const descriptions = [...alerts.matchAll(/^\s*AlarmDescription:.*$/gm)].map((m) => m[0]);
    const pointers = [...alerts.matchAll(/Runbook: docs\/runbook\.md#([\w-]+)/g)].map(
      (m) => m[1] ?? '',
    );
    expect(descriptions.length).toBeGreaterThan(0);
    expect(pointers).toHaveLength(descriptions.length);
    const known = anchors(runbook);
    expect(pointers.filter((anchor) => !known.has(anchor))).toEqual([]);
  });
});
