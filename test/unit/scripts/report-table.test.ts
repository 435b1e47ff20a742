import { describe, expect, it } from 'vitest';
import {
  type RunReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from '../../../functions/renewal/report.js';
import { renderRunReport } from '../../../scripts/lib/report-table.js';

const target = (name: string, status: TargetStatus, failing = false): TargetReport => ({
  target: name,
  status,
  token: { outcome: TokenOutcome.Renewed, ttlSeconds: 3600 },
  leases: [],
  problems: failing ? [{ code: 'token-invalid', severity: 'ERROR', summary: 'dead' }] : [],
  writes: 0,
  durationMs: 1,
});

const report = (targets: TargetReport[]): RunReport => ({
  runId: 'r',
  dryRun: false,
  startedAt: '2026-12-06T12:00:00Z',
  durationMs: 5,
  summary: {
    targets: targets.length,
    ok: 2,
    changed: 0,
    failed: 1,
    skipped: 0,
    unknown: 0,
    problems: 1,
  },
  pacing: { concurrency: 8, secretsManagerWrites: 0, writesWaited: 0, earlyLogins: 0 },
  notifications: { published: 1, failed: 0 },
  changeEvents: { published: 0, failed: 0 },
  targets,
});

describe('the run table', () => {
  it('lists the targets that need a look and counts the healthy ones, or lists all with --all', () => {
    const run = report([
      target('fine-a', TargetStatus.Ok),
      target('broken', TargetStatus.Failed, true),
      target('fine-b', TargetStatus.Ok),
    ]);

    const short = renderRunReport(run);
    const full = renderRunReport(run, true);

    expect(short).toContain('broken');
    expect(short).not.toMatch(/fine-[ab]/);
    expect(short).toContain('2 healthy target(s) not listed (--all lists them)');
    expect(full).toMatch(/fine-a[\s\S]*broken[\s\S]*fine-b/);
    expect(full).not.toContain('not listed');
  });
});
