import { describe, expect, it } from 'vitest';
import { CheckId, CheckStatus, check } from '../../../functions/diagnosis/check.js';
import { renderFleetLines } from '../../../functions/diagnosis/render-text.js';
import { DIAGNOSIS_SCHEMA, type TargetDiagnosis } from '../../../functions/diagnosis/report.js';
import { Verdict } from '../../../functions/diagnosis/verdict.js';

function target(name: string, verdict: Verdict, extra: Partial<TargetDiagnosis> = {}) {
  return {
    target: name,
    verdict,
    because: [],
    vault: { address: 'https://vault:8200' },
    checks: [],
    durationMs: 1,
    ...extra,
  } satisfies TargetDiagnosis;
}

describe('the fleet at a glance', () => {
  it('is one line per target, problems first, with its token, secret_id, leases and open incidents', () => {
    const lines = renderFleetLines({
      schema: DIAGNOSIS_SCHEMA,
      runId: 'r',
      diagnosedAt: '2026-12-06T12:00:00Z',
      durationMs: 5,
      login: false,
      summary: { targets: 3, healthy: 1, atRisk: 1, broken: 1, unknown: 0 },
      targets: [
        target('a-healthy', Verdict.Healthy, {
          checks: [
            check({
              id: CheckId.TokenTtl,
              status: CheckStatus.Pass,
              expected: '',
              actual: '59m left, expires x',
            }),
            check({
              id: CheckId.LeaseTtl,
              lease: 'db',
              status: CheckStatus.Pass,
              expected: '',
              actual: 'ok',
            }),
          ],
          incidents: [],
        }),
        target('b-at-risk', Verdict.AtRisk, {
          checks: [
            check({
              id: CheckId.AppRoleSecretId,
              status: CheckStatus.Warn,
              expected: '',
              actual: 'expires soon, 3 uses left',
            }),
          ],
        }),
        target('c-broken', Verdict.Broken, {
          checks: [
            check({
              id: CheckId.TokenValid,
              status: CheckStatus.Fail,
              expected: '',
              actual: 'revoked',
            }),
          ],
          incidents: [
            { key: 'token-invalid', severity: 'ERROR', openedAt: 'x', lastPublishedAt: 'x' },
          ],
        }),
      ],
    });

    expect(lines[0]).toMatch(/^target +verdict +token +secret_id +leases +open incidents$/);
    const rows = lines.slice(2, 5);
    expect(rows.map((r) => r.split(/ {2,}/)[0])).toEqual(['c-broken', 'b-at-risk', 'a-healthy']);
    expect(rows[0]).toMatch(/BROKEN +FAIL revoked +- +none +token-invalid/);
    expect(rows[1]).toMatch(/AT RISK +- +WARN expires soon/);
    expect(rows[2]).toMatch(/healthy +59m left +- +1\/1 ok +-/);
    expect(lines.at(-1)).toMatch(/^3 target\(s\): 1 healthy, 1 at risk, 1 broken/);
  });
});
