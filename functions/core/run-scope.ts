/** What one invocation works on, and until when: shared by renew and diagnose runs. */

import { setMaxListeners } from 'node:events';
import type { RenewerConfig, TargetConfig } from '../config/types.js';

/** A target is not started when less than this is left before the deadline. */
export const MIN_TARGET_BUDGET_MS = 3_000;

/** The configured targets named in the event, in config order; all of them when none are named. */
export function selectTargets(
  config: RenewerConfig,
  names: readonly string[] | undefined,
): readonly TargetConfig[] {
  return names === undefined
    ? config.targets
    : config.targets.filter((t) => names.includes(t.name));
}

/** One signal for every call of the run, aborting at the invocation's deadline. */
export function runSignal(deadlineAtMs: number, nowMs: number): AbortSignal {
  const signal = AbortSignal.timeout(Math.max(1, deadlineAtMs - nowMs));
  // Every call in flight listens on it: thousands, by design.
  setMaxListeners(0, signal);
  return signal;
}

export interface RunStart {
  readonly startedMs: number;
  readonly selected: readonly TargetConfig[];
  readonly signal: AbortSignal;
}

/** The start of a run: when it began, its targets, and the signal that ends its calls at the deadline. */
export function startRun(
  config: RenewerConfig,
  request: { readonly targets?: readonly string[]; readonly deadlineAtMs: number },
  nowMs: number,
): RunStart {
  return {
    startedMs: nowMs,
    selected: selectTargets(config, request.targets),
    signal: runSignal(request.deadlineAtMs, nowMs),
  };
}
