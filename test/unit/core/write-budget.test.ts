import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWriteBudget } from '../../../functions/core/write-budget.js';

describe('the run write budget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('spaces writes evenly: never more than the rate plus one in any one-second window', async () => {
    // Prepare
    const budget = createWriteBudget(40, Date.now);
    const grantedAt: number[] = [];
    const signal = new AbortController().signal;

    // Act: 200 writes asked for at once
    const waits = Array.from({ length: 200 }, async () => {
      await budget.take(Date.now(), signal);
      grantedAt.push(Date.now());
    });
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(waits);

    // Assess
    expect(grantedAt).toHaveLength(200);
    const worstWindow = Math.max(
      ...grantedAt.map((start) => grantedAt.filter((t) => t >= start && t < start + 1000).length),
    );
    expect(worstWindow).toBeLessThanOrEqual(41);
    expect(budget.figures()).toEqual({ granted: 200, waited: 199 });
  });

  it('sends writes within the rate even when the work between slot and send bunches them', async () => {
    // Prepare: slots granted evenly, then a Vault login of varying length
    // before each write (a slow, then a fast answer), which bunches the sends
    const budget = createWriteBudget(40, Date.now);
    const signal = new AbortController().signal;
    const sentAt: number[] = [];

    // Act
    const writes = Array.from({ length: 120 }, async (_, i) => {
      await budget.take(Date.now(), signal);
      await new Promise((resolve) => setTimeout(resolve, i < 60 ? 2_000 - i * 25 : 10));
      await budget.send(signal);
      sentAt.push(Date.now());
    });
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all(writes);

    // Assess: the first 60 would all leave at once without the send pacing
    expect(sentAt).toHaveLength(120);
    const worstWindow = Math.max(
      ...sentAt.map((start) => sentAt.filter((t) => t >= start && t < start + 1000).length),
    );
    expect(worstWindow).toBeLessThanOrEqual(41);
  });

  it('grants waiting writes earliest death first, whatever the order they asked in', async () => {
    // Prepare: the one free slot spent, so every later write waits
    const budget = createWriteBudget(10, Date.now);
    const signal = new AbortController().signal;
    expect(budget.take(0, signal)).toBeUndefined();
    const order: string[] = [];

    // Act
    const late = budget.take(9_000_000, signal)?.then(() => order.push('late'));
    const soon = budget.take(2_000_000, signal)?.then(() => order.push('soon'));
    const sooner = budget.take(1_500_000, signal)?.then(() => order.push('sooner'));
    await vi.advanceTimersByTimeAsync(2_000);
    await Promise.all([late, soon, sooner]);

    // Assess
    expect(order).toEqual(['sooner', 'soon', 'late']);
  });

  it('says a login does not fit when the writes queued ahead of it outlast the deadline', () => {
    // Prepare: 10 writes/s, the free slot spent, 20 urgent writes waiting
    const budget = createWriteBudget(10, Date.now);
    const signal = new AbortController().signal;
    budget.take(0, signal);
    for (let i = 0; i < 20; i += 1) budget.take(1_000, signal)?.catch(() => undefined);

    // Act / Assess: 20 ahead + 2 of its own at 10/s is 2.2 s
    expect(budget.fits(2, 5_000_000, Date.now() + 2_000)).toBe(false);
    expect(budget.fits(2, 5_000_000, Date.now() + 2_300)).toBe(true);
    // More urgent than the queue: it goes first, so it fits at once.
    expect(budget.fits(2, 0, Date.now() + 300)).toBe(true);
  });

  it('drops a waiting write when its signal aborts, and grants the next one', async () => {
    // Prepare
    const budget = createWriteBudget(1, Date.now);
    const signal = new AbortController().signal;
    budget.take(0, signal);
    const aborted = new AbortController();

    // Act
    const dropped = budget.take(1, aborted.signal);
    const kept = budget.take(2, signal);
    aborted.abort(new Error('deadline'));

    // Assess
    await expect(dropped).rejects.toThrow('deadline');
    await vi.advanceTimersByTimeAsync(1_100);
    await expect(kept).resolves.toBeUndefined();
  });

  it('refuses a rate that is not a positive number', () => {
    expect(() => createWriteBudget(0, Date.now)).toThrow(/positive number/);
  });
});
