import { describe, expect, it } from 'vitest';
import { findMessageProblems } from '../../../functions/aws/sns-notifier.js';
import { CheckId, CheckStatus } from '../../../functions/diagnosis/check.js';
import {
  renderDiagnosis,
  renderWrappedTable,
  wrap,
} from '../../../functions/diagnosis/render-text.js';
import {
  DIAGNOSIS_SCHEMA,
  type DiagnosisReport,
  type TargetDiagnosis,
} from '../../../functions/diagnosis/report.js';
import { summarise } from '../../../functions/diagnosis/run-diagnosis.js';
import {
  composeDiagnosisSummary,
  parseDiagnosisSummary,
  SUMMARY_MAX_BODY_BYTES,
} from '../../../functions/diagnosis/summary-message.js';
import { Verdict } from '../../../functions/diagnosis/verdict.js';

const vault = { address: 'https://vault.example.com' };

function healthyTarget(name: string): TargetDiagnosis {
  return {
    target: name,
    verdict: Verdict.Healthy,
    because: [],
    vault,
    durationMs: 3,
    checks: [
      {
        id: CheckId.VaultHealth,
        status: CheckStatus.Pass,
        expected: 'reachable, initialized, unsealed',
        actual: 'initialized, unsealed, active, version 1.17.2',
      },
    ],
  };
}

function brokenTarget(name: string): TargetDiagnosis {
  return {
    target: name,
    verdict: Verdict.Broken,
    because: ['capability.renew-self'],
    vault,
    durationMs: 5,
    checks: [
      {
        id: CheckId.CapabilityRenewSelf,
        status: CheckStatus.Fail,
        expected: 'update on auth/token/renew-self',
        actual: 'deny',
        fix: 'Add to one of its policies (app): path "auth/token/renew-self" { capabilities = ["update"] }',
      },
    ],
  };
}

function report(targets: TargetDiagnosis[]): DiagnosisReport {
  return {
    schema: DIAGNOSIS_SCHEMA,
    runId: 'run-1',
    diagnosedAt: '2026-11-26T12:00:00.000Z',
    durationMs: 42,
    login: false,
    summary: summarise(targets),
    targets,
  };
}

describe('wrap', () => {
  it.each<[string, number, string[]]>([
    ['short', 10, ['short']],
    ['one two three four', 9, ['one two', 'three', 'four']],
    [
      'auth/approle/role/a-very-long-role-name',
      12,
      ['auth/approle', '/role/a-very', '-long-role-n', 'ame'],
    ],
    ['', 5, ['']],
  ])('wraps %j at %i', (text, width, lines) => {
    expect(wrap(text, width)).toEqual(lines);
  });
});

describe('renderWrappedTable', () => {
  it('pads columns and continues long cells on the next lines', () => {
    const lines = renderWrappedTable(
      [
        { header: 'check', width: 10 },
        { header: 'actual', width: 12 },
      ],
      [['token TTL', 'one two three four five']],
    );

    expect(lines).toEqual([
      'check      actual',
      '---------  ----------',
      'token TTL  one two',
      '           three four',
      '           five',
    ]);
  });
});

describe('renderDiagnosis', () => {
  it('shows each verdict, the check table, the fixes and a summary', () => {
    const text = renderDiagnosis(report([healthyTarget('billing-api'), brokenTarget('orders')]));

    expect(text).toContain('billing-api: HEALTHY');
    expect(text).toContain('orders: BROKEN (capability.renew-self)');
    expect(text).toMatch(/may renew itself\s+FAIL\s+update on auth\/token\/renew-self\s+deny/);
    expect(text).toContain('- may renew itself: Add to one of its policies (app): path');
    expect(text).toContain('2 target(s): 1 healthy, 0 at risk, 1 broken');
  });
});

describe('composeDiagnosisSummary', () => {
  it('is an ERROR when a target is broken, with the fixes and a parseable document', () => {
    const message = composeDiagnosisSummary(report([healthyTarget('a'), brokenTarget('b')]));

    expect(message.subject).toBe('[ERROR] vault-renewer diagnose: 1 broken, 0 at risk, 1 healthy');
    expect(message.attributes).toEqual({
      severity: 'ERROR',
      event: 'diagnosis',
      schema: 'vault-renewer/diagnosis-summary/v1',
    });
    expect(message.body).toContain('fix: Add to one of its policies (app)');
    const document = parseDiagnosisSummary(message.body);
    expect(document).toMatchObject({
      schema: 'vault-renewer/diagnosis-summary/v1',
      severity: 'ERROR',
      summary: { targets: 2, healthy: 1, broken: 1 },
      targets: [{ target: 'b', verdict: 'broken', checks: [{ id: 'capability.renew-self' }] }],
      omittedTargets: 0,
    });
    expect(findMessageProblems(message)).toEqual([]);
  });

  it('is INFO when every target is healthy', () => {
    const message = composeDiagnosisSummary(report([healthyTarget('a')]));

    expect(message.attributes.severity).toBe('INFO');
    expect(message.body).toContain('Every target is healthy.');
  });

  it('stays under the SNS size limit for a fleet of broken targets, counting what it leaves out', () => {
    const targets = Array.from({ length: 3_000 }, (_, i) => brokenTarget(`target-${i}`));

    const message = composeDiagnosisSummary(report(targets));

    expect(Buffer.byteLength(message.body, 'utf8')).toBeLessThanOrEqual(SUMMARY_MAX_BODY_BYTES);
    expect(findMessageProblems(message)).toEqual([]);
    const document = parseDiagnosisSummary(message.body) as {
      targets: unknown[];
      omittedTargets: number;
    };
    expect(document.targets.length + document.omittedTargets).toBe(3_000);
    expect(document.omittedTargets).toBeGreaterThan(0);
    expect(message.body).toContain(`... and ${document.omittedTargets} more unhealthy target(s)`);
  });
});
