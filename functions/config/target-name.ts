/**
 * What a target (or lease) name may be: 1-64 characters of a-z, 0-9, `.`,
 * `_`, `-`, starting with a letter or digit. One rule for the config schema,
 * the bootstrap command and every place that names a target.
 */

export const TARGET_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** The same, as a part of a larger pattern (no anchors). */
export const TARGET_NAME_SOURCE = '[a-z0-9][a-z0-9._-]{0,63}';

export const TARGET_NAME_RULE = '1-64 characters of a-z, 0-9, ".", "_", "-"';

/** Edit distance between two short strings (for "did you mean"). */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** The configured name closest to `name` (at most two edits away), to suggest in its place. */
export function closestTargetName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) > 2) continue;
    const d = distance(name, candidate);
    if (d <= 2 && (best === undefined || d < best.distance))
      best = { name: candidate, distance: d };
  }
  return best?.name;
}
