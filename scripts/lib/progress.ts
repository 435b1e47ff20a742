/**
 * A progress line for long commands, on stderr: rewritten in place on a
 * terminal, otherwise a line at most every `everyMs` (and the last one), so
 * a log file of a 10,000-target run stays short.
 */

export interface ProgressLine {
  /** `done` of `total` finished; `detail` says how it is going. */
  update(done: number, total: number, detail: string): void;
  /** Prints the last state, ends the line. */
  end(): void;
}

export function progressLine(
  label: string,
  stream: NodeJS.WriteStream = process.stderr,
  everyMs = 2000,
  now: () => number = Date.now,
): ProgressLine {
  const startedMs = now();
  let lastMs = Number.NEGATIVE_INFINITY;
  let last = '';
  let pending = false;
  const render = (done: number, total: number, detail: string) => {
    const seconds = ((now() - startedMs) / 1000).toFixed(0);
    return `${label}: ${done}/${total} (${detail}), ${seconds} s`;
  };
  const print = (line: string) => {
    if (stream.isTTY) stream.write(`\r\x1b[2K${line}`);
    else stream.write(`${line}\n`);
    pending = false;
  };
  return {
    update(done, total, detail) {
      last = render(done, total, detail);
      pending = true;
      if (stream.isTTY || now() - lastMs >= everyMs || done === total) {
        lastMs = now();
        print(last);
      }
    },
    end() {
      if (pending) print(last);
      if (stream.isTTY && last !== '') stream.write('\n');
    },
  };
}
