import { describe, expect, it } from 'vitest';
import { type DesiredRotation, decideSetting } from '../../../scripts/rotation/settings-plan.js';

const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:vault-renewer-prod-rotate';
const desired = (rules: DesiredRotation['rules']): DesiredRotation => ({
  secretId: 's',
  target: 'app',
  kind: 'approle',
  rules,
});

describe('decideSetting', () => {
  it('takes rate(N days) and AutomaticallyAfterDays N as the same schedule', () => {
    expect(
      decideSetting(
        desired({ AutomaticallyAfterDays: 30 }),
        {
          rotationEnabled: true,
          rotationLambdaArn: ARN,
          rotationRules: { ScheduleExpression: 'rate(30 days)', Duration: '24h' },
        },
        ARN,
      ),
    ).toEqual({ action: 'in-sync', differences: [] });
  });

  it('says what differs', () => {
    expect(
      decideSetting(
        desired({ ScheduleExpression: 'cron(0 4 ? * SUN *)', Duration: '2h' }),
        { rotationEnabled: false },
        ARN,
      ),
    ).toEqual({
      action: 'apply',
      differences: [
        'rotation not enabled',
        'rotation function',
        'schedule - -> cron(0 4 ? * SUN *)',
        'window - -> 2h',
      ],
    });
  });

  it('never touches a secret another function rotates', () => {
    const other = { rotationEnabled: true, rotationLambdaArn: `${ARN}-other` };
    expect(decideSetting(desired({ AutomaticallyAfterDays: 7 }), other, ARN).action).toBe(
      'foreign',
    );
    expect(decideSetting(desired(undefined), other, ARN).action).toBe('foreign');
    expect(
      decideSetting(desired(undefined), { rotationEnabled: true, rotationLambdaArn: ARN }, ARN)
        .action,
    ).toBe('drift');
  });
});
