/**
 * Runs a Lambda entry point once, the way Lambda would: a context whose
 * remaining time counts down from `timeoutMs`. The entry point's JSON logs and
 * EMF metrics go to `logFile`, not the terminal.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Context } from 'aws-lambda';

type LambdaContext = Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'>;

export async function invokeEntryPoint<T>(
  load: () => Promise<{ handler: (event: unknown, context: LambdaContext) => Promise<T> }>,
  event: unknown,
  options: { readonly timeoutMs: number; readonly logFile: string },
): Promise<T> {
  mkdirSync(dirname(options.logFile), { recursive: true });
  const lines: string[] = [];
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const capture = ((chunk: string | Uint8Array) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
  try {
    const { handler } = await load();
    const deadline = Date.now() + options.timeoutMs;
    return await handler(event, {
      awsRequestId: `local-${Date.now().toString(36)}`,
      getRemainingTimeInMillis: () => deadline - Date.now(),
    });
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
    writeFileSync(options.logFile, lines.join(''));
  }
}
