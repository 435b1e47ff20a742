import { describe, expect, it } from 'vitest';
import {
  METRIC,
  type RunMetricsSink,
  recordRunMetrics,
} from '../../../functions/app/run-metrics.js';
import type { RunReport } from '../../../functions/renewal/report.js';

/** Records every metric added, by name. */
function recordingSink(): RunMetricsSink & { readonly seen: Map<string, number> } {
  const seen = new Map<string, number>();
  const addMetric = (name: string, _unit: unknown, value: number): void => {
    seen.set(name, (seen.get(name) ?? 0) + value);
  };
  return {
    seen,
    addMetric,
    singleMetric: () => ({ addMetric, addDimension: () => {} }),
  } as unknown as RunMetricsSink & { readonly seen: Map<string, number> };
}

/** A run that failed one target (an ERROR), with a secret_id expiring and a lost change event. */
const failedRun: RunReport = {
  runId: 'r',
  dryRun: false,
  startedAt: '2026-12-06T00:00:00.000Z',
  durationMs: 1200,
  summary: {
    targets: 1,
    ok: 0,
    changed: 0,
    failed: 1,
    skipped: 0,
    unknown: 0,
    problems: 1,
    soonestSecretIdExpirySeconds: 3600,
  },
  pacing: { concurrency: 1, secretsManagerWrites: 0, writesWaited: 0, earlyLogins: 0 },
  notifications: { published: 1, failed: 0 },
  changeEvents: { published: 0, failed: 1 },
  targets: [
    {
      target: 'a',
      status: 'failed',
      token: { outcome: 'failed', reason: 'root' },
      leases: [],
      problems: [{ code: 'token-root', severity: 'ERROR', summary: 'root' }],
      writes: 0,
      durationMs: 10,
    },
  ],
};

describe('the metrics of a run', () => {
  it('feeds the failure alarm, the alarms on expiry and lost events, and the heartbeat from a scheduled run', () => {
    const sink = recordingSink();
    recordRunMetrics(sink, failedRun, { dryRun: false, scheduled: true });
    expect(sink.seen.get(METRIC.Failures)).toBe(1);
    expect(sink.seen.get(METRIC.RunsCompleted)).toBe(1);
    expect(sink.seen.get(METRIC.SoonestSecretIdExpirySeconds)).toBe(3600);
    expect(sink.seen.get(METRIC.ChangeEventsFailed)).toBe(1);
  });

  it('records the incidents a run opened and resolved for the dashboard, only when it kept incident state', () => {
    const withState = recordingSink();
    recordRunMetrics(
      withState,
      {
        ...failedRun,
        incidents: { state: 'on', opened: 2, worsened: 0, reminded: 1, resolved: 3 },
      },
      { dryRun: false, scheduled: true },
    );
    const without = recordingSink();
    recordRunMetrics(without, failedRun, { dryRun: false, scheduled: true });

    expect(withState.seen.get(METRIC.IncidentsOpened)).toBe(2);
    expect(withState.seen.get(METRIC.IncidentsResolved)).toBe(3);
    expect(without.seen.has(METRIC.IncidentsOpened)).toBe(false);
  });

  it('does not feed the heartbeat from a console run: only the schedule proves the schedule alive', () => {
    const sink = recordingSink();
    recordRunMetrics(sink, failedRun, { dryRun: false, scheduled: false });
    expect(sink.seen.get(METRIC.Failures)).toBe(1);
    expect(sink.seen.has(METRIC.RunsCompleted)).toBe(false);
  });

  it('does not count in Failures what the run repaired (a dead token replaced by a login)', () => {
    const sink = recordingSink();
    const target = failedRun.targets[0] as (typeof failedRun.targets)[number];
    const repaired: RunReport = {
      ...failedRun,
      targets: [
        {
          ...target,
          status: 'changed',
          problems: [{ code: 'token-invalid', severity: 'ERROR', summary: 'dead', repaired: true }],
        },
      ],
    };
    recordRunMetrics(sink, repaired, { dryRun: false, scheduled: true });
    expect(sink.seen.get(METRIC.Failures)).toBe(0);
  });

  it('records nothing an alarm or the heartbeat reads from a dry run, only that it ran', () => {
    const sink = recordingSink();
    recordRunMetrics(sink, { ...failedRun, dryRun: true }, { dryRun: true, scheduled: false });
    expect([...sink.seen.keys()]).toEqual([METRIC.DryRuns]);
  });
});
