/**
 * One run's budget of Secrets Manager writes. PutSecretValue, UpdateSecret
 * and UpdateSecretVersionStage share 50 requests per second per account and
 * region, not adjustable (aws-facts "quotas"): a wave of re-logins that
 * writes faster is throttled, and a token whose write fails after the SDK's
 * retries is lost. So writes are paced by a token bucket below the quota,
 * and a write that has to wait waits in order of urgency: the credential
 * that dies first writes first.
 *
 * A slot is taken before the work that ends in a write (a login, a lease
 * issue), so the budget never admits more writes than it can send. That
 * work takes as long as Vault does: slots granted evenly can end in writes
 * that bunch up. So each write also waits for its turn to be sent
 * ({@link WriteBudget.send}): sends are spaced evenly (25 ms apart at the
 * default 40/s), and no one-second window sees more than the rate plus one.
 */

export interface WriteFigures {
  /** Writes granted. */
  readonly granted: number;
  /** Writes that had to wait for a slot. */
  readonly waited: number;
}

export interface WriteBudget {
  /** Writes per second this budget grants. */
  readonly ratePerSecond: number;
  /**
   * Whether `count` writes, queued behind every waiting write at least as
   * urgent, would be granted by `byMs`. Decides whether to start a login
   * whose new token must be stored in this run.
   */
  fits(count: number, priorityMs: number, byMs: number): boolean;
  /** Takes a slot if one is free now and nobody waits; answers whether it did. */
  tryTake(): boolean;
  /**
   * One write slot; `undefined` when it is free now. Waiting writes go
   * earliest `priorityMs` first; one not granted by `byMs` is rejected with
   * {@link WriteSlotMissed}.
   */
  take(priorityMs: number, signal: AbortSignal, byMs?: number): Promise<void> | undefined;
  /**
   * Waits for the turn to send a write whose slot was taken: sends leave
   * 1 / rate apart, in the order they ask. Rejects when `signal` aborts.
   */
  send(signal: AbortSignal): Promise<void>;
  /** Whether writes are waiting for a slot: the run is bound by its write budget. */
  busy(): boolean;
  figures(): WriteFigures;
}

/** A write slot that could not be granted before its caller's deadline. */
export class WriteSlotMissed extends Error {
  override name = 'WriteSlotMissed';
}

interface Waiter {
  readonly priorityMs: number;
  readonly byMs: number;
  readonly go: () => void;
  readonly miss: () => void;
}

export function createWriteBudget(ratePerSecond: number, now: () => number): WriteBudget {
  if (!(Number.isFinite(ratePerSecond) && ratePerSecond > 0)) {
    throw new RangeError(`writes per second must be a positive number, got ${ratePerSecond}`);
  }
  const burst = 1;
  let tokens = burst;
  let refilledAtMs = now();
  let granted = 0;
  let waited = 0;
  const waiting: Waiter[] = [];
  const spacingMs = 1000 / ratePerSecond;
  let nextSendAtMs = Number.NEGATIVE_INFINITY;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const refill = (): void => {
    const atMs = now();
    tokens = Math.min(burst, tokens + ((atMs - refilledAtMs) / 1000) * ratePerSecond);
    refilledAtMs = atMs;
  };

  const drain = (): void => {
    timer = undefined;
    refill();
    // Drops the waiters whose deadline passed (checked every slot while anyone waits).
    const atMs = now();
    for (let i = waiting.length - 1; i >= 0; i -= 1) {
      const waiter = waiting[i] as Waiter;
      if (waiter.byMs < atMs) {
        waiting.splice(i, 1);
        waiter.miss();
      }
    }
    while (waiting.length > 0 && tokens >= 1) {
      tokens -= 1;
      granted += 1;
      waiting.shift()?.go();
    }
    if (waiting.length > 0) {
      timer = setTimeout(drain, Math.max(1, Math.ceil(((1 - tokens) / ratePerSecond) * 1000)));
    }
  };

  /** Where a waiter of this priority goes: after every one at least as urgent. */
  const placeOf = (priorityMs: number): number => {
    let low = 0;
    let high = waiting.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((waiting[mid] as Waiter).priorityMs <= priorityMs) low = mid + 1;
      else high = mid;
    }
    return low;
  };

  return {
    ratePerSecond,

    fits(count, priorityMs, byMs) {
      refill();
      const ahead = placeOf(priorityMs);
      const short = ahead + count - Math.floor(tokens);
      return short <= 0 || now() + (short / ratePerSecond) * 1000 <= byMs;
    },

    tryTake() {
      refill();
      if (waiting.length > 0 || tokens < 1) return false;
      tokens -= 1;
      granted += 1;
      return true;
    },

    take(priorityMs, signal, byMs = Number.POSITIVE_INFINITY) {
      refill();
      if (waiting.length === 0 && tokens >= 1) {
        tokens -= 1;
        granted += 1;
        return undefined;
      }
      waited += 1;
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const waiter: Waiter = {
          priorityMs,
          byMs,
          go: () => {
            signal.removeEventListener('abort', abort);
            resolve();
          },
          miss: () => {
            signal.removeEventListener('abort', abort);
            reject(new WriteSlotMissed('no write slot before the deadline'));
          },
        };
        const abort = (): void => {
          const at = waiting.indexOf(waiter);
          if (at >= 0) waiting.splice(at, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', abort, { once: true });
        waiting.splice(placeOf(priorityMs), 0, waiter);
        if (timer === undefined) drain();
      });
    },

    send(signal) {
      const atMs = now();
      const turnMs = Math.max(atMs, nextSendAtMs);
      nextSendAtMs = turnMs + spacingMs;
      if (turnMs <= atMs) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        const abort = (): void => {
          clearTimeout(wait);
          reject(signal.reason);
        };
        const wait = setTimeout(
          () => {
            signal.removeEventListener('abort', abort);
            resolve();
          },
          Math.ceil(turnMs - atMs),
        );
        signal.addEventListener('abort', abort, { once: true });
      });
    },

    busy() {
      return waiting.length > 0;
    },

    figures() {
      return { granted, waited };
    },
  };
}
