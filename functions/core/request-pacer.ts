/**
 * A request-rate budget per Vault cluster, shared by every call a container
 * makes to it. Vault's rate-limit quotas count per client address, and a
 * renewer behind a NAT gateway is one client for the whole fleet
 * (vault-facts "rate limit quotas"): a burst of 429s would end targets as
 * failed, so the renewer paces itself instead.
 *
 * - A configured ceiling (`vault.maxRequestsPerSecond`) is a token bucket
 *   holding a fiftieth of a second's worth: requests wait for a slot, never
 *   fail for it, and no second sees more than the ceiling and that.
 * - A 429 halves the rate seen in the last second and pauses every request
 *   to that cluster until its `Retry-After` (1 s when it gives none); each
 *   second after the pause then raises the rate by a tenth, until it no
 *   longer binds. Vault's quotas are opt-in and unknown to a client: this learns
 *   them instead of guessing a default that would slow every healthy fleet.
 *
 * `acquire` answers `undefined` when the request may go at once, so the
 * common case (no ceiling, no 429) costs no promise.
 */

/** Requests per second at and above which a learnt rate stops binding. */
const UNBOUNDED_RATE = 100_000;
/** The pause after a 429 that names no `Retry-After`. */
const DEFAULT_PAUSE_MS = 1_000;
/** A learnt rate never drops below this: the run must still make progress. */
const MIN_RATE = 1;

export interface PacerFigures {
  /** 429 answers seen. */
  readonly throttled: number;
  /** Requests that had to wait for a slot or a pause. */
  readonly delayed: number;
}

export interface RequestPacer {
  /** Waits for this cluster's next slot; `undefined` when the request may go now. */
  acquire(cluster: string, signal: AbortSignal): Promise<void> | undefined;
  /** The cluster answered 429: slow down, and pause until `retryAfterMs` has passed. */
  throttled(cluster: string, retryAfterMs: number | undefined): void;
  figures(): PacerFigures;
}

interface Bucket {
  /** The configured ceiling, requests per second (Infinity: none). */
  readonly ceiling: number;
  /** The rate learnt from 429s (Infinity until the first). */
  learnt: number;
  tokens: number;
  refilledAtMs: number;
  pausedUntilMs: number;
  /** Sends in the current one-second window, and the window before it. */
  windowStartMs: number;
  sentThisWindow: number;
  sentLastWindow: number;
  lastThrottleMs: number;
  /** Requests waiting, in arrival order. */
  readonly waiting: Array<() => void>;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface RequestPacerOptions {
  /** Ceilings by cluster (its address); clusters not named have none until a 429. */
  readonly ceilings?: ReadonlyMap<string, number>;
  readonly now?: () => number;
}

export function createRequestPacer(options: RequestPacerOptions = {}): RequestPacer {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  let throttled = 0;
  let delayed = 0;

  const bucketOf = (cluster: string): Bucket => {
    let bucket = buckets.get(cluster);
    if (bucket === undefined) {
      const ceiling = options.ceilings?.get(cluster) ?? Number.POSITIVE_INFINITY;
      bucket = {
        ceiling,
        learnt: Number.POSITIVE_INFINITY,
        tokens: Number.isFinite(ceiling) ? Math.max(1, ceiling / 50) : 0,
        refilledAtMs: now(),
        pausedUntilMs: 0,
        windowStartMs: now(),
        sentThisWindow: 0,
        sentLastWindow: 0,
        lastThrottleMs: 0,
        waiting: [],
        timer: undefined,
      };
      buckets.set(cluster, bucket);
    }
    return bucket;
  };

  const rateOf = (bucket: Bucket, atMs: number): number => {
    if (Number.isFinite(bucket.learnt)) {
      // Additive recovery: a tenth more per second since the last 429.
      const seconds = Math.max(0, Math.floor((atMs - bucket.pausedUntilMs) / 1000));
      const recovered = bucket.learnt * 1.1 ** seconds;
      if (recovered >= Math.min(bucket.ceiling, UNBOUNDED_RATE)) {
        bucket.learnt = Number.POSITIVE_INFINITY;
      } else {
        return Math.min(bucket.ceiling, recovered);
      }
    }
    return bucket.ceiling;
  };

  const count = (bucket: Bucket, atMs: number): void => {
    if (atMs - bucket.windowStartMs >= 1000) {
      bucket.sentLastWindow = atMs - bucket.windowStartMs >= 2000 ? 0 : bucket.sentThisWindow;
      bucket.sentThisWindow = 0;
      bucket.windowStartMs = atMs;
    }
    bucket.sentThisWindow += 1;
  };

  /** Takes a slot now if one is free; otherwise answers how long until one is. */
  const take = (bucket: Bucket): number => {
    const atMs = now();
    if (atMs < bucket.pausedUntilMs) return bucket.pausedUntilMs - atMs;
    const rate = rateOf(bucket, atMs);
    if (!Number.isFinite(rate)) {
      count(bucket, atMs);
      return 0;
    }
    // A fiftieth of a second's worth at most: a quota counts per second, and a
    // burst of a whole second's worth on top of the rate would break it.
    const burst = Math.max(1, rate / 50);
    bucket.tokens = Math.min(burst, bucket.tokens + ((atMs - bucket.refilledAtMs) / 1000) * rate);
    bucket.refilledAtMs = atMs;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      count(bucket, atMs);
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) / rate) * 1000));
  };

  const drain = (bucket: Bucket): void => {
    bucket.timer = undefined;
    while (bucket.waiting.length > 0) {
      const waitMs = take(bucket);
      if (waitMs > 0) {
        bucket.timer = setTimeout(() => drain(bucket), waitMs);
        return;
      }
      bucket.waiting.shift()?.();
    }
  };

  return {
    acquire(cluster, signal) {
      const bucket = bucketOf(cluster);
      if (bucket.waiting.length === 0 && take(bucket) === 0) return undefined;
      delayed += 1;
      return new Promise<void>((resolve, reject) => {
        const go = (): void => {
          signal.removeEventListener('abort', abort);
          resolve();
        };
        const abort = (): void => {
          const at = bucket.waiting.indexOf(go);
          if (at >= 0) bucket.waiting.splice(at, 1);
          reject(signal.reason);
        };
        if (signal.aborted) {
          reject(signal.reason);
          return;
        }
        signal.addEventListener('abort', abort, { once: true });
        bucket.waiting.push(go);
        if (bucket.timer === undefined) drain(bucket);
      });
    },

    throttled(cluster, retryAfterMs) {
      throttled += 1;
      const bucket = bucketOf(cluster);
      const atMs = now();
      // One wave of 429s is one slow-down: requests already in flight answer 429 too.
      if (atMs - bucket.lastThrottleMs >= DEFAULT_PAUSE_MS) {
        const seen = Math.max(bucket.sentThisWindow, bucket.sentLastWindow);
        const current = Math.min(rateOf(bucket, atMs), seen > 0 ? seen : MIN_RATE * 2);
        bucket.learnt = Math.max(MIN_RATE, current / 2);
        bucket.lastThrottleMs = atMs;
        bucket.tokens = 0;
      }
      bucket.pausedUntilMs = Math.max(
        bucket.pausedUntilMs,
        atMs + (retryAfterMs ?? DEFAULT_PAUSE_MS),
      );
      // Nothing accrues while paused.
      bucket.refilledAtMs = bucket.pausedUntilMs;
    },

    figures() {
      return { throttled, delayed };
    },
  };
}
