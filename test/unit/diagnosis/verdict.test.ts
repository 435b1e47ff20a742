import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Check, CheckId, CheckStatus } from '../../../functions/diagnosis/check.js';
import { Verdict, verdictOf } from '../../../functions/diagnosis/verdict.js';
import { at, NOW_MS } from './observations-builder.js';

function c(status: CheckStatus, breaksAt?: string, lease?: string): Check {
  return {
    id: lease === undefined ? CheckId.TokenTtl : CheckId.LeasePresent,
    ...(lease === undefined ? {} : { lease }),
    status,
    expected: 'e',
    actual: 'a',
    ...(breaksAt === undefined ? {} : { breaksAt }),
  };
}

const { Pass, Warn, Fail, Skip } = CheckStatus;

describe('verdictOf', () => {
  it.each<[string, Check[], Verdict, string | undefined]>([
    ['every check passed', [c(Pass), c(Pass)], Verdict.Healthy, undefined],
    ['only passes and skips', [c(Pass), c(Skip)], Verdict.Healthy, undefined],
    ['no checks at all', [], Verdict.Healthy, undefined],
    ['a failure with no date: broken now', [c(Pass), c(Fail)], Verdict.Broken, undefined],
    ['a failure whose date has passed', [c(Fail, at(-1))], Verdict.Broken, undefined],
    ['a failure at a future date: at risk until then', [c(Fail, at(600))], Verdict.AtRisk, at(600)],
    ['a warning with a date', [c(Warn, at(900))], Verdict.AtRisk, at(900)],
    ['a warning without a date', [c(Warn)], Verdict.AtRisk, undefined],
    [
      'several dates: the earliest',
      [c(Warn, at(900)), c(Fail, at(300)), c(Warn)],
      Verdict.AtRisk,
      at(300),
    ],
    [
      'a dated failure beside an undated one: broken',
      [c(Fail, at(600)), c(Fail)],
      Verdict.Broken,
      undefined,
    ],
  ])('%s', (_case, checks, verdict, breaksAt) => {
    const result = verdictOf(checks, NOW_MS);

    expect(result.verdict).toBe(verdict);
    expect(result.breaksAt).toBe(breaksAt);
  });

  it('names the checks behind the verdict, with their lease', () => {
    expect(verdictOf([c(Pass), c(Fail, undefined, 'db'), c(Warn)], NOW_MS).because).toEqual([
      'lease.present/db',
    ]);
    expect(verdictOf([c(Warn), c(Pass), c(Fail, at(60), 'db')], NOW_MS).because).toEqual([
      'token.ttl',
      'lease.present/db',
    ]);
  });

  it('is broken by an undated or past failure, at risk until the earliest date otherwise (property)', () => {
    const status = fc.constantFrom(Pass, Warn, Fail, Skip);
    const offset = fc.option(fc.integer({ min: -86_400, max: 86_400 }), { nil: undefined });
    fc.assert(
      fc.property(fc.array(fc.tuple(status, offset)), (rows) => {
        const checks = rows.map(([s, o]) => c(s, o === undefined ? undefined : at(o)));
        const { verdict, breaksAt } = verdictOf(checks, NOW_MS);
        const troubled = rows.filter(([s]) => s === Warn || s === Fail);
        const brokenNow = rows.some(([s, o]) => s === Fail && (o === undefined || o <= 0));
        const dates = troubled.flatMap(([, o]) => (o === undefined ? [] : [o]));
        const expected = brokenNow
          ? Verdict.Broken
          : troubled.length > 0
            ? Verdict.AtRisk
            : Verdict.Healthy;
        expect(verdict).toBe(expected);
        expect(breaksAt).toBe(
          expected === Verdict.AtRisk && dates.length > 0 ? at(Math.min(...dates)) : undefined,
        );
      }),
    );
  });
});
