import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';
import type { StackEnv } from '../../tools/local-stack/stack.js';

declare module 'vitest' {
  interface ProvidedContext {
    stack: StackEnv;
  }
}

export type { StackEnv };

/** The local stack (or the external services) started by test/stack/global-setup.ts. */
export function stackEnv(): StackEnv {
  const stack = inject('stack');
  if (!stack) {
    throw new Error(
      'no stack provided: run the tests with vitest (vitest.config.ts registers ' +
        'test/stack/global-setup.ts as globalSetup)',
    );
  }
  return stack;
}

let counter = 0;

/**
 * A name no other test (or earlier run against the same services) uses: lower-case letters,
 * digits and dashes, valid as a Vault mount path, role name, secret, topic and queue name.
 */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid.toString(36)}${counter.toString(36)}-${randomBytes(3).toString('hex')}`;
}
