/**
 * The start of `npm start` and `npm run diagnose` on the local stack: the
 * servers, a fleet with a unique prefix, and a queue subscribed to its alert
 * topic, with the progress said as it goes. The caller stops the stack.
 */

import { type AlertSubscriber, Fleet } from '../../tools/local-stack/fleet.js';
import { type Stack, startStack } from '../../tools/local-stack/stack.js';

export interface DemoStack {
  readonly stack: Stack;
  readonly fleet: Fleet;
  readonly alerts: AlertSubscriber;
}

export async function startDemoStack(
  fleetPrefix: string,
  say: (text: string) => void,
): Promise<DemoStack> {
  const started = Date.now();
  say('Starting the local stack (OpenBao, moto, PostgreSQL)...');
  const stack = await startStack();
  try {
    say(
      `Stack up in ${Date.now() - started} ms. Seeding a fleet through the Vault and AWS APIs...`,
    );
    const fleet = new Fleet(stack.env, fleetPrefix);
    return { stack, fleet, alerts: await fleet.subscriber() };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}
