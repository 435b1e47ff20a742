/**
 * The one SNS message diagnose publishes when the event asks for it
 * (`"notify": true`): readable in an e-mail, then a versioned JSON document
 * after a marker line, filterable by attributes. Built from the report only,
 * which never holds a secret. Kept under SNS's size limit by listing the
 * details of as many unhealthy targets as fit, and counting the rest.
 */

import type { OutgoingMessage } from '../core/notifier-port.js';
import { Severity } from '../core/notifier-port.js';
import { toSubject } from '../core/wording.js';
import { CHECK_LABELS, CheckStatus } from './check.js';
import { summaryLine, verdictLine, wrap } from './render-text.js';
import type { DiagnosisReport, TargetDiagnosis } from './report.js';
import { Verdict } from './verdict.js';

export const DIAGNOSIS_SUMMARY_SCHEMA = 'vault-renewer/diagnosis-summary/v1';
/** The `event` attribute of the summary message (the runbook has a section for it). */
export const DIAGNOSIS_EVENT = 'diagnosis';
export const DIAGNOSIS_SUMMARY_MARKER = `--- machine-readable (${DIAGNOSIS_SUMMARY_SCHEMA}) ---`;
/** SNS allows 256 KiB for body and attributes; the rest is headroom. */
export const SUMMARY_MAX_BODY_BYTES = 200_000;

export function summarySeverity(report: DiagnosisReport): Severity {
  const { summary } = report;
  if (summary.broken > 0) return Severity.Error;
  if (summary.atRisk > 0 || summary.unknown > 0) return Severity.Warning;
  return Severity.Info;
}

function targetText(target: TargetDiagnosis): string[] {
  const lines = [verdictLine(target)];
  for (const c of target.checks) {
    if (c.status !== CheckStatus.Fail && c.status !== CheckStatus.Warn) continue;
    const name = c.lease === undefined ? CHECK_LABELS[c.id] : `${CHECK_LABELS[c.id]} [${c.lease}]`;
    lines.push(
      ...wrap(`${c.status.toUpperCase()} ${name}: ${c.actual}`, 100).map((l, i) =>
        i === 0 ? `  - ${l}` : `    ${l}`,
      ),
    );
    if (c.fix !== undefined) {
      lines.push(...wrap(`fix: ${c.fix}`, 100).map((l) => `    ${l}`));
    }
  }
  return lines;
}

function targetDocument(target: TargetDiagnosis) {
  return {
    target: target.target,
    verdict: target.verdict,
    ...(target.breaksAt === undefined ? {} : { breaksAt: target.breaksAt }),
    because: target.because,
    ...(target.error === undefined ? {} : { error: target.error }),
    checks: target.checks.filter(
      (c) => c.status === CheckStatus.Fail || c.status === CheckStatus.Warn,
    ),
  };
}

export function composeDiagnosisSummary(report: DiagnosisReport): OutgoingMessage {
  const severity = summarySeverity(report);
  const { summary } = report;
  const unhealthy = report.targets.filter((t) => t.verdict !== Verdict.Healthy);
  const head = [
    `${severity}: vault-renewer diagnose: ${summaryLine(summary)}`,
    `Run: ${report.runId} at ${report.diagnosedAt}${report.login ? ' (with login test)' : ''}`,
    '',
  ];
  const text: string[] = [];
  const documents: ReturnType<typeof targetDocument>[] = [];
  let bytes = Buffer.byteLength(head.join('\n'), 'utf8') + 2_000;
  let shown = 0;
  for (const target of unhealthy) {
    const lines = targetText(target);
    const document = targetDocument(target);
    const json = JSON.stringify(document, null, 2);
    // Inside the document's `targets` array every line is indented 4 more spaces.
    const cost =
      Buffer.byteLength(lines.join('\n'), 'utf8') +
      Buffer.byteLength(json, 'utf8') +
      4 * json.split('\n').length +
      4;
    if (bytes + cost > SUMMARY_MAX_BODY_BYTES) break;
    bytes += cost;
    text.push(...lines, '');
    documents.push(document);
    shown += 1;
  }
  const omitted = unhealthy.length - shown;
  if (omitted > 0) {
    text.push(
      `... and ${omitted} more unhealthy target(s): see the function's response or logs.`,
      '',
    );
  }
  if (unhealthy.length === 0) text.push('Every target is healthy.', '');
  const document = {
    schema: DIAGNOSIS_SUMMARY_SCHEMA,
    severity,
    event: DIAGNOSIS_EVENT,
    runId: report.runId,
    diagnosedAt: report.diagnosedAt,
    login: report.login,
    summary,
    targets: documents,
    omittedTargets: omitted,
  };
  return {
    subject: toSubject(
      `[${severity}] vault-renewer diagnose: ${summary.broken} broken, ${summary.atRisk} at risk, ${summary.healthy} healthy`,
    ),
    body: `${[...head, ...text].join('\n')}\n${DIAGNOSIS_SUMMARY_MARKER}\n${JSON.stringify(document, null, 2)}\n`,
    attributes: {
      severity,
      event: DIAGNOSIS_EVENT,
      schema: DIAGNOSIS_SUMMARY_SCHEMA,
    },
  };
}

/** Reads the JSON document back out of a summary body (for subscribers and tests). */
export function parseDiagnosisSummary(body: string): Record<string, unknown> {
  const index = body.indexOf(DIAGNOSIS_SUMMARY_MARKER);
  if (index < 0) throw new Error('not a vault-renewer diagnosis summary: marker line missing');
  return JSON.parse(body.slice(index + DIAGNOSIS_SUMMARY_MARKER.length)) as Record<string, unknown>;
}
