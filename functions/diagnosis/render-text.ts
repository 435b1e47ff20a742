/**
 * The diagnosis as text for a terminal, the Lambda console and the SNS
 * summary: per target its verdict, the check table (long cells wrapped, not
 * cut), then the fix of every failed or warning check. Pure.
 */

import { CHECK_LABELS, type Check, CheckId, CheckStatus } from './check.js';
import type { DiagnosisReport, DiagnosisSummary, TargetDiagnosis } from './report.js';
import { rotationLines } from './rotation-status.js';
import { Verdict } from './verdict.js';

const COLUMNS = [
  { header: 'check', width: 28 },
  { header: 'status', width: 6 },
  { header: 'expected', width: 40 },
  { header: 'actual', width: 72 },
] as const;
const FIX_WIDTH = 110;

const STATUS_TEXT: Readonly<Record<CheckStatus, string>> = {
  [CheckStatus.Pass]: 'pass',
  [CheckStatus.Warn]: 'WARN',
  [CheckStatus.Fail]: 'FAIL',
  [CheckStatus.Skip]: 'skip',
};

/** Splits text into lines of at most `width` characters, at spaces when it can. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      let rest = word;
      while (rest.length > width) {
        if (line !== '') {
          lines.push(line);
          line = '';
        }
        lines.push(rest.slice(0, width));
        rest = rest.slice(width);
      }
      if (line === '') line = rest;
      else if (line.length + 1 + rest.length <= width) line = `${line} ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** A table whose cells wrap within each column's width. */
export function renderWrappedTable(
  columns: readonly { readonly header: string; readonly width: number }[],
  rows: readonly (readonly string[])[],
): string[] {
  const wrapped = rows.map((row) => columns.map((column, i) => wrap(row[i] ?? '', column.width)));
  const widths = columns.map((column, i) =>
    Math.max(
      column.header.length,
      ...wrapped.flatMap((row) => (row[i] ?? []).map((l) => l.length)),
    ),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  const out = [line(columns.map((c) => c.header)), line(widths.map((w) => '-'.repeat(w)))];
  for (const row of wrapped) {
    const height = Math.max(...row.map((cell) => cell.length));
    for (let i = 0; i < height; i++) out.push(line(row.map((cell) => cell[i] ?? '')));
  }
  return out;
}

function checkName(c: Check): string {
  return c.lease === undefined ? CHECK_LABELS[c.id] : `${CHECK_LABELS[c.id]} [${c.lease}]`;
}

export function verdictLine(target: TargetDiagnosis): string {
  switch (target.verdict) {
    case Verdict.Healthy:
      return `${target.target}: HEALTHY`;
    case Verdict.AtRisk:
      return `${target.target}: AT RISK${target.breaksAt === undefined ? '' : `, breaks ${target.breaksAt}`} (${target.because.join(', ')})`;
    case Verdict.Broken:
      return `${target.target}: BROKEN (${target.because.join(', ')})`;
    case Verdict.Unknown:
      return `${target.target}: UNKNOWN (${target.error ?? 'not diagnosed'})`;
  }
}

export function renderTargetLines(target: TargetDiagnosis): string[] {
  const lines = [verdictLine(target)];
  if (target.checks.length > 0) {
    const rows = target.checks.map((c) => [
      checkName(c),
      STATUS_TEXT[c.status],
      c.expected,
      c.actual,
    ]);
    lines.push(...renderWrappedTable(COLUMNS, rows).map((l) => `  ${l}`));
  }
  if (target.incidentsError !== undefined) {
    lines.push(`  open incidents: unknown (${target.incidentsError})`);
  } else if (target.incidents !== undefined && target.incidents.length > 0) {
    lines.push(
      `  open incidents: ${target.incidents.map((i) => `${i.key} ${i.severity} since ${i.openedAt}`).join('; ')}`,
    );
  }
  if (target.rotation !== undefined) {
    lines.push(...rotationLines(target.rotation).map((l) => `  ${l}`));
  }
  const fixable = target.checks.filter(
    (c) => c.fix !== undefined && (c.status === CheckStatus.Fail || c.status === CheckStatus.Warn),
  );
  if (fixable.length > 0) {
    lines.push('  fixes:');
    for (const c of fixable) {
      const [first = '', ...rest] = wrap(`${checkName(c)}: ${c.fix}`, FIX_WIDTH);
      lines.push(`  - ${first}`, ...rest.map((l) => `    ${l}`));
    }
  }
  return lines;
}

export function summaryLine(summary: DiagnosisSummary): string {
  return `${summary.targets} target(s): ${summary.healthy} healthy, ${summary.atRisk} at risk, ${summary.broken} broken${summary.unknown > 0 ? `, ${summary.unknown} not diagnosed` : ''}`;
}

/** The whole report, one line per array entry (the Lambda console shows an array of lines legibly). */
export function renderDiagnosisLines(report: DiagnosisReport): string[] {
  const lines: string[] = [];
  for (const target of report.targets) {
    lines.push(...renderTargetLines(target), '');
  }
  lines.push(
    `${summaryLine(report.summary)} (${report.diagnosedAt}, ${report.durationMs} ms${report.login ? ', with login test' : ''})`,
  );
  return lines;
}

export function renderDiagnosis(report: DiagnosisReport): string {
  return renderDiagnosisLines(report).join('\n');
}

/** Problems first: broken, not diagnosed, at risk, then healthy. */
const VERDICT_ORDER: Readonly<Record<Verdict, number>> = {
  [Verdict.Broken]: 0,
  [Verdict.Unknown]: 1,
  [Verdict.AtRisk]: 2,
  [Verdict.Healthy]: 3,
};

const VERDICT_TEXT: Readonly<Record<Verdict, string>> = {
  [Verdict.Broken]: 'BROKEN',
  [Verdict.Unknown]: 'UNKNOWN',
  [Verdict.AtRisk]: 'AT RISK',
  [Verdict.Healthy]: 'healthy',
};

/** What one check found, in a few words (its first clause), or `-` when it did not run. */
function briefly(target: TargetDiagnosis, id: CheckId): string {
  const found = target.checks.find((c) => c.id === id && c.lease === undefined);
  if (found === undefined || found.status === CheckStatus.Skip) return '-';
  const first = found.actual.split(', ')[0] ?? found.actual;
  return found.status === CheckStatus.Pass ? first : `${STATUS_TEXT[found.status]} ${first}`;
}

/** The first of these checks that ran, briefly: a TTL, or why there is none. */
function firstFound(target: TargetDiagnosis, ids: readonly CheckId[]): string {
  return ids.map((id) => briefly(target, id)).find((text) => text !== '-') ?? '-';
}

/** `2/3 ok`: leases whose every check passed, of those configured. */
function leasesLine(target: TargetDiagnosis): string {
  const byLease = new Map<string, boolean>();
  for (const c of target.checks) {
    if (c.lease === undefined) continue;
    byLease.set(
      c.lease,
      (byLease.get(c.lease) ?? true) &&
        (c.status === CheckStatus.Pass || c.status === CheckStatus.Skip),
    );
  }
  if (byLease.size === 0) return 'none';
  return `${[...byLease.values()].filter(Boolean).length}/${byLease.size} ok`;
}

/**
 * The fleet at a glance: one line per target (verdict, token, secret_id,
 * leases, open incidents), problems first, then the summary line.
 */
export function renderFleetLines(report: DiagnosisReport): string[] {
  const ordered = [...report.targets].sort(
    (a, b) =>
      VERDICT_ORDER[a.verdict] - VERDICT_ORDER[b.verdict] || a.target.localeCompare(b.target),
  );
  const rows = ordered.map((t) => [
    t.target,
    VERDICT_TEXT[t.verdict],
    t.verdict === Verdict.Unknown
      ? (t.error ?? 'not diagnosed')
      : firstFound(t, [CheckId.TokenTtl, CheckId.TokenValid, CheckId.TokenSecret]),
    firstFound(t, [CheckId.AppRoleSecretId, CheckId.AppRoleSecret]),
    leasesLine(t),
    t.incidentsError !== undefined
      ? 'unknown'
      : (t.incidents ?? []).map((i) => i.key).join(' ') || '-',
  ]);
  return [
    ...renderWrappedTable(FLEET_COLUMNS, rows),
    '',
    `${summaryLine(report.summary)} (${report.diagnosedAt}, ${report.durationMs} ms)`,
  ];
}

const FLEET_COLUMNS = [
  { header: 'target', width: 24 },
  { header: 'verdict', width: 7 },
  { header: 'token', width: 30 },
  { header: 'secret_id', width: 40 },
  { header: 'leases', width: 8 },
  { header: 'open incidents', width: 36 },
] as const;
