import { describe, expect, it } from 'vitest';
import { cronLongestGapSeconds } from '../../../infra/cron-schedule.js';

describe('the longest gap of an EventBridge cron schedule', () => {
  it.each([
    ['cron(0/15 * * * ? *)', 900],
    ['cron(*/15 * * * ? *)', 900],
    ['cron(5,20,35,50 * * * ? *)', 900],
    ['cron(0 * * * ? *)', 3600],
    ['cron(0,10,30 * * * ? *)', 1800],
    ['cron(0/15 8-17 * * ? *)', 14 * 3600 + 900],
    ['cron(0 0/6 * * ? *)', 6 * 3600],
  ])('reads %s as at most %i s between runs', (expression, seconds) => {
    expect(cronLongestGapSeconds(expression)).toBe(seconds);
  });

  it.each([
    ['cron(0/15 * ? * MON-FRI *)', /runs on some days only/],
    ['cron(0/15 * 1 * ? *)', /runs on some days only/],
    ['cron(0/15 * * *)', /6 fields/],
    ['cron(L * * * ? *)', /cannot read/],
    ['cron(0/15 25 * * ? *)', /cannot read/],
  ])('refuses %s, saying why', (expression, why) => {
    expect(cronLongestGapSeconds(expression)).toMatch(why);
  });
});
