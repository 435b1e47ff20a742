import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequestPacer } from '../../../functions/core/request-pacer.js';

const VAULT = 'https://vault.example:8200';

describe('the Vault request pacer', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 5_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lets every request go at once when no ceiling is set and no 429 was seen', () => {
    const pacer = createRequestPacer();
    const signal = new AbortController().signal;
    for (let i = 0; i < 10_000; i += 1) expect(pacer.acquire(VAULT, signal)).toBeUndefined();
    expect(pacer.figures()).toEqual({ throttled: 0, delayed: 0 });
  });

  it('holds a configured ceiling per cluster: 100 requests at 20/s take about 5 s, never more than 20 in a second', async () => {
    // Prepare
    const pacer = createRequestPacer({ ceilings: new Map([[VAULT, 20]]) });
    const signal = new AbortController().signal;
    const sentAt: number[] = [];

    // Act
    const all = Array.from({ length: 100 }, async () => {
      await pacer.acquire(VAULT, signal);
      sentAt.push(Date.now());
    });
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(all);

    // Assess: one at once, then one every 50 ms
    const elapsedMs = Math.max(...sentAt) - 5_000_000;
    expect(elapsedMs).toBeGreaterThanOrEqual(4_900);
    expect(elapsedMs).toBeLessThanOrEqual(5_100);
    const worstSecond = Math.max(
      ...sentAt.map((start) => sentAt.filter((t) => t >= start && t < start + 1000).length),
    );
    expect(worstSecond).toBeLessThanOrEqual(21);
    // Another cluster is not held by it.
    expect(pacer.acquire('https://other:8200', signal)).toBeUndefined();
  });

  it('pauses the whole cluster until Retry-After after a 429, then sends at half the rate it saw', async () => {
    // Prepare: 300 requests went out in the last second
    const pacer = createRequestPacer();
    const signal = new AbortController().signal;
    for (let i = 0; i < 300; i += 1) pacer.acquire(VAULT, signal);

    // Act
    pacer.throttled(VAULT, 2_000);
    const sentAt: number[] = [];
    const all = Array.from({ length: 300 }, async () => {
      await pacer.acquire(VAULT, signal);
      sentAt.push(Date.now() - 5_000_000);
    });
    await vi.advanceTimersByTimeAsync(5_000);
    await Promise.all(all);

    // Assess: nothing before the pause ends; then about 150/s (recovering by a tenth a second)
    expect(Math.min(...sentAt)).toBeGreaterThanOrEqual(2_000);
    const inFirstSecond = sentAt.filter((t) => t < 3_000).length;
    expect(inFirstSecond).toBeGreaterThan(100);
    expect(inFirstSecond).toBeLessThanOrEqual(200);
    expect(pacer.figures().throttled).toBe(1);
  });

  it('counts a wave of 429s from requests already in flight as one slow-down', async () => {
    // Prepare: 100 requests in the last second, three of them answered 429
    const pacer = createRequestPacer();
    const signal = new AbortController().signal;
    for (let i = 0; i < 100; i += 1) pacer.acquire(VAULT, signal);
    pacer.throttled(VAULT, 1_000);
    pacer.throttled(VAULT, 1_000);
    pacer.throttled(VAULT, 1_000);

    // Act
    const sentAt: number[] = [];
    const all = Array.from({ length: 100 }, async () => {
      await pacer.acquire(VAULT, signal);
      sentAt.push(Date.now() - 5_000_000);
    });
    await vi.advanceTimersByTimeAsync(4_000);
    await Promise.all(all);

    // Assess: halved once (50/s), not three times (12/s)
    const inFirstSecond = sentAt.filter((t) => t < 2_000).length;
    expect(inFirstSecond).toBeGreaterThanOrEqual(45);
    expect(inFirstSecond).toBeLessThanOrEqual(60);
    expect(pacer.figures().throttled).toBe(3);
  });

  it('rejects a waiting request when its signal aborts', async () => {
    const pacer = createRequestPacer({ ceilings: new Map([[VAULT, 1]]) });
    pacer.acquire(VAULT, new AbortController().signal);
    const aborted = new AbortController();
    const waiting = pacer.acquire(VAULT, aborted.signal);
    aborted.abort(new Error('deadline'));
    await expect(waiting).rejects.toThrow('deadline');
  });
});
