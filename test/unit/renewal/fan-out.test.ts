import { describe, expect, it } from 'vitest';
import { combineBatches } from '../../../functions/renewal/fan-out.js';
import type { BatchResult } from '../../../functions/renewal/report.js';

function batch(
  summary: Partial<BatchResult['summary']>,
  extra: Partial<BatchResult> = {},
): BatchResult {
  return {
    batch: true,
    runId: 'run',
    durationMs: 1000,
    summary: {
      targets: 0,
      ok: 0,
      changed: 0,
      failed: 0,
      skipped: 0,
      unknown: 0,
      problems: 0,
      ...summary,
    },
    pacing: { concurrency: 8, secretsManagerWrites: 2, writesWaited: 0, earlyLogins: 0 },
    notifications: { published: 1, failed: 0 },
    changeEvents: { published: 2, failed: 0 },
    incidents: { state: 'on', opened: 1, worsened: 0, reminded: 0, resolved: 0 },
    runCauses: [],
    targets: [],
    ...extra,
  };
}

describe("a fanned-out run's report", () => {
  it('adds the batches up, keeps the soonest expiries, and counts failed batches by error', () => {
    const report = combineBatches(
      { runId: 'run', startedAtMs: 0, endedAtMs: 90_000 },
      [
        batch({ targets: 500, ok: 499, failed: 1, problems: 1, soonestExpirySeconds: 900 }),
        batch(
          {
            targets: 300,
            ok: 300,
            soonestExpirySeconds: 600,
            soonestSecretIdExpirySeconds: 86_400,
          },
          { runCauses: ['run:deadline'] },
        ),
      ],
      [
        { error: 'States.Timeout' },
        { error: 'States.Timeout' },
        { error: 'Lambda.ServiceException' },
      ],
    );
    expect(report).toMatchObject({
      durationMs: 90_000,
      batches: { succeeded: 2, failed: 3 },
      failedBatches: { 'States.Timeout': 2, 'Lambda.ServiceException': 1 },
      summary: {
        targets: 800,
        ok: 799,
        failed: 1,
        problems: 1,
        soonestExpirySeconds: 600,
        soonestSecretIdExpirySeconds: 86_400,
      },
      notifications: { published: 2, failed: 0 },
      changeEvents: { published: 4, failed: 0 },
      incidents: { opened: 2, resolved: 0 },
      secretsManagerWrites: 4,
      runCauses: ['run:deadline'],
    });
  });
});
