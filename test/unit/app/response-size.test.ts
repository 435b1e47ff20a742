import { describe, expect, it } from 'vitest';
import { fitResponse, MAX_RESPONSE_BYTES } from '../../../functions/app/response-size.js';

interface Target {
  readonly target: string;
  readonly status: 'ok' | 'failed';
  readonly problems: readonly { readonly summary: string }[];
}

function report(healthy: number, failed: number) {
  const targets: Target[] = [
    ...Array.from({ length: failed }, (_, i) => ({
      target: `broken-${i}`,
      status: 'failed' as const,
      problems: [
        { summary: `Vault did not renew the token (sealed, down or slow) ${'.'.repeat(300)}` },
      ],
    })),
    ...Array.from({ length: healthy }, (_, i) => ({
      target: `fine-${i}`,
      status: 'ok' as const,
      problems: [],
    })),
  ];
  return { runId: 'r', summary: { targets: targets.length }, targets };
}

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value));
const notOk = (t: Target) => t.status !== 'ok';

describe('fitResponse: a result Lambda can return', () => {
  it('returns a result that fits as it is', () => {
    const small = report(3, 1);
    expect(fitResponse(small, notOk, 10_000)).toBe(small);
  });

  it('drops the healthy targets first and says how many are left out', () => {
    const fitted = fitResponse(report(100, 5), notOk, 5_000);
    expect(fitted.targets.map((t) => t.status)).toEqual(Array(5).fill('failed'));
    expect(fitted.omitted?.targets).toBe(100);
    expect(fitted.summary).toEqual({ targets: 105 });
    expect(bytes(fitted)).toBeLessThanOrEqual(5_000);
  });

  it('keeps as many failed targets as fit when they alone are too many', () => {
    const fitted = fitResponse(report(0, 200), notOk, 20_000);
    expect(bytes(fitted)).toBeLessThanOrEqual(20_000);
    expect(fitted.targets.length).toBeGreaterThan(10);
    expect(fitted.omitted?.targets).toBe(200 - fitted.targets.length);
    expect(fitted.omitted?.reason).toMatch(/every target that is not ok is in the function's logs/);
  });

  it("keeps a 20,000-target outage under Lambda's 6 MB", () => {
    const outage = report(0, 20_000);
    expect(bytes(outage)).toBeGreaterThan(6 * 1024 * 1024);
    const fitted = fitResponse(outage, notOk);
    expect(bytes(fitted)).toBeLessThanOrEqual(MAX_RESPONSE_BYTES);
    expect(fitted.targets.length).toBeGreaterThan(5_000);
  });
});
