/**
 * Lambda returns at most 6 MB to a synchronous caller (the console's Test, the
 * CLI's invoke); a larger result fails the invocation (aws-facts §4.3). A
 * run's report holds about 300 bytes per healthy target and more per problem,
 * so a fleet of tens of thousands, or a large fleet during an outage, would
 * pass it. The result is then cut to fit: the healthy targets go first, then
 * targets from the end, and `omitted` says how many and where the rest is
 * (every target that is not ok is also logged on its own line).
 */

/** Under Lambda's 6 MB, with room for the runtime's envelope. */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

export interface Omitted {
  readonly omitted?: { readonly targets: number; readonly reason: string };
}

interface WithTargets<Target> {
  readonly targets: readonly Target[];
}

function bytesOf(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * `result` as is when it fits `maxBytes`, else with fewer `targets`: first
 * without those `keep` says are not worth returning, then halved until it fits.
 */
export function fitResponse<Target, Result extends WithTargets<Target>>(
  result: Result,
  keep: (target: Target) => boolean,
  maxBytes: number = MAX_RESPONSE_BYTES,
): Result & Omitted {
  if (bytesOf(result) <= maxBytes) return result;
  const all = result.targets.length;
  let targets = result.targets.filter(keep);
  const cut = (): Result & Omitted => ({
    ...result,
    targets,
    omitted: {
      targets: all - targets.length,
      reason: `the full result is larger than Lambda returns (${maxBytes} bytes); every target that is not ok is in the function's logs`,
    },
  });
  while (targets.length > 0 && bytesOf(cut()) > maxBytes) {
    targets = targets.slice(0, Math.floor(targets.length / 2));
  }
  return cut();
}
