/**
 * How often an EventBridge `cron(...)` schedule runs the renewer, so the
 * package can check it against the config's interval: the planner's horizon,
 * the lifetime alerts and the heartbeat period are all computed from that
 * interval, and a schedule that leaves longer gaps would let tokens die
 * between runs unannounced (pure).
 *
 * EventBridge cron has six fields: minutes hours day-of-month month
 * day-of-week year. Only schedules that run every day are accepted here: one
 * that skips days (a weekday list, a day of the month) leaves a gap of a day
 * or more, longer than any interval the config allows for a renewal schedule
 * to keep tokens alive.
 */

const MINUTES_PER_DAY = 1440;

/** The values a cron field (`*`, `n`, `a-b`, `a/n`, `a-b/n`, `*\/n`, lists) selects within [min, max]. */
function expand(field: string, min: number, max: number): number[] | undefined {
  const values = new Set<number>();
  for (const part of field.split(',')) {
    const match = /^(\*|\d+)(?:-(\d+))?(?:\/(\d+))?$/.exec(part);
    if (match === null) return undefined;
    const [, start = '', end, step] = match;
    const from = start === '*' ? min : Number(start);
    // `a/n` runs from a to the end of the range; `a` alone is one value.
    const to = end !== undefined ? Number(end) : start === '*' || step !== undefined ? max : from;
    const by = step === undefined ? 1 : Number(step);
    if (from < min || to > max || from > to || by < 1) return undefined;
    for (let value = from; value <= to; value += by) values.add(value);
  }
  return [...values].sort((a, b) => a - b);
}

/**
 * The longest gap between two runs of `expression`, in seconds; a string
 * saying why when it is not a daily cron schedule this can read.
 */
export function cronLongestGapSeconds(expression: string): number | string {
  const body = /^cron\((.+)\)$/.exec(expression.trim())?.[1];
  const fields = body?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) return 'must be cron(...) with 6 fields';
  const [minutes = '', hours = '', dayOfMonth = '', month = '', dayOfWeek = '', year = ''] = fields;
  const everyDay =
    (dayOfMonth === '*' || dayOfMonth === '?') &&
    month === '*' &&
    (dayOfWeek === '*' || dayOfWeek === '?') &&
    year === '*';
  if (!everyDay) {
    return 'runs on some days only (day-of-month, month, day-of-week and year must be * or ?): tokens would go unrenewed for a day or more';
  }
  const minuteValues = expand(minutes, 0, 59);
  const hourValues = expand(hours, 0, 23);
  if (minuteValues === undefined || hourValues === undefined) {
    return 'has a minutes or hours field this check cannot read (use numbers, ranges, steps and lists)';
  }
  const times = hourValues.flatMap((h) => minuteValues.map((m) => h * 60 + m));
  let longest = 0;
  times.forEach((time, i) => {
    const following = times[i + 1] ?? (times[0] ?? 0) + MINUTES_PER_DAY;
    longest = Math.max(longest, following - time);
  });
  return longest * 60;
}
