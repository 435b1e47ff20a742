/** The renew report as a table an operator reads in a terminal. */

import { humanSeconds } from '../../functions/core/wording.js';
import type { RunReport } from '../../functions/renewal/report.js';
import { renderTable } from './table.js';

/**
 * The run as a table: the targets that need a look (anything but an `ok`
 * without problems), then a line counting the healthy ones; `all` lists
 * every target (10,000 rows at fleet scale otherwise).
 */
export function renderRunReport(report: RunReport, all = false): string {
  const healthy = (t: RunReport['targets'][number]) => t.status === 'ok' && t.problems.length === 0;
  const listed = all ? report.targets : report.targets.filter((t) => !healthy(t));
  const hidden = report.targets.length - listed.length;
  const rows = listed.map((t) => [
    t.target,
    t.status,
    `${t.token.outcome}${t.token.reason && t.token.reason !== 'healthy' ? ` (${t.token.reason})` : ''}`,
    t.token.ttlSeconds === undefined ? '-' : humanSeconds(t.token.ttlSeconds),
    t.leases.length === 0
      ? '-'
      : t.leases
          .map(
            (l) =>
              `${l.name}:${l.outcome}${l.reason && l.reason !== 'healthy' ? `(${l.reason})` : ''}`,
          )
          .join(' '),
    t.problems.map((p) => `${p.severity} ${p.code}${p.lease ? `/${p.lease}` : ''}`).join(', ') ||
      '-',
  ]);
  const { summary } = report;
  return [
    ...(rows.length === 0
      ? []
      : [renderTable(['target', 'status', 'token', 'token ttl', 'leases', 'problems'], rows)]),
    ...(hidden === 0 ? [] : [`${hidden} healthy target(s) not listed (--all lists them)`]),
    '',
    `${summary.targets} targets: ${summary.ok} ok, ${summary.changed} changed, ${summary.failed} failed, ${summary.skipped} skipped${summary.unknown > 0 ? `, ${summary.unknown} unknown (dry run)` : ''}` +
      ` in ${report.durationMs} ms${report.dryRun ? ' (dry run)' : ''}; ` +
      `${report.notifications.published} notification(s) published, ${report.notifications.failed} failed; ` +
      `${report.changeEvents.published} change event(s) put, ${report.changeEvents.failed} failed`,
  ].join('\n');
}
