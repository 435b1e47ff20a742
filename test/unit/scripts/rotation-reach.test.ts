import { describe, expect, it } from 'vitest';
import {
  longestRotationGapSeconds,
  rotationReach,
} from '../../../scripts/bootstrap/rotation-reach.js';

const DAY = 86_400;

describe('whether an AppRole rotation comes round before the secret_id expires', () => {
  it('measures the longest wait: the schedule plus its window', () => {
    expect(longestRotationGapSeconds({ AutomaticallyAfterDays: 30 })).toBe(31 * DAY);
    expect(longestRotationGapSeconds({ AutomaticallyAfterDays: 30, Duration: '3h' })).toBe(
      30 * DAY + 3 * 3600,
    );
    expect(longestRotationGapSeconds({ ScheduleExpression: 'rate(12 hours)' })).toBe(13 * 3600);
    expect(longestRotationGapSeconds({ ScheduleExpression: 'cron(0 4 * * ? *)' })).toBe(2 * DAY);
    expect(longestRotationGapSeconds({ ScheduleExpression: 'cron(0 4 1 * ? *)' })).toMatch(
      /some days only/,
    );
  });

  it('refuses a secret_id_ttl that ends before the next rotation can replace it', () => {
    expect(rotationReach(30 * DAY, { AutomaticallyAfterDays: 30 }).problem).toMatch(
      /secret_id_ttl 2592000 s is shorter than the longest wait for the next AppRole rotation \(2678400 s/,
    );
    expect(rotationReach(45 * DAY, { AutomaticallyAfterDays: 30 })).toEqual({});
  });

  it('has nothing to say when the secret_id never expires or is not rotated, and warns when it cannot tell', () => {
    expect(rotationReach(0, { AutomaticallyAfterDays: 30 })).toEqual({});
    expect(rotationReach(DAY, undefined)).toEqual({});
    expect(rotationReach(DAY, { ScheduleExpression: 'cron(0 4 1 * ? *)' }).warning).toMatch(
      /cannot be checked here/,
    );
  });
});
