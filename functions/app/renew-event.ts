/**
 * The events the renew function accepts: the EventBridge schedule, and the
 * JSON test events an operator types in the Lambda console. Anything else is
 * refused with an error that lists what is accepted.
 */

import * as z from 'zod/mini';
import type { RenewalRequest } from '../renewal/run-context.js';
import '../config/zod-locale.js';

export const ACCEPTED_EVENTS = [
  'the EventBridge scheduled event ({"source": "aws.events", "detail-type": "Scheduled Event", ...})',
  '{} (renew every target)',
  '{"targets": ["<name>", ...]} (renew these targets only)',
  '{"dryRun": true} (report what would be done; change nothing, publish nothing), optionally with "targets" and "notify": true (publish what it found, marked "(dry run)")',
  '{"action": "relogin", "targets": ["<name>", ...]} (log in again now and re-issue leases), optionally with "dryRun"',
] as const;

export class InvalidEventError extends Error {
  public constructor(problem: string) {
    super(`${problem}. Accepted events: ${ACCEPTED_EVENTS.join('; ')}.`);
    this.name = 'InvalidEventError';
  }
}

/** What the event asks of the run, and what triggered it. */
export interface RenewEvent extends RenewalRequest {
  readonly trigger: 'schedule' | 'manual';
}

const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

const manualEvent = z.strictObject({
  targets: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  dryRun: z.optional(z.boolean()),
  notify: z.optional(z.boolean()),
  action: z.optional(z.enum(['renew', 'relogin'])),
});

/** Target names as the config allows them; anything else is not echoed (it may be a pasted secret). */
const TARGET_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function quoteName(name: string): string {
  return TARGET_NAME.test(name) ? JSON.stringify(name) : '(a value that is not a target name)';
}

/** Parses an incoming event; `knownTargets` are the configured names. */
export function parseRenewEvent(event: unknown, knownTargets: readonly string[]): RenewEvent {
  if (z.safeParse(scheduledEvent, event).success) {
    return { trigger: 'schedule', dryRun: false, forceRelogin: false };
  }
  const parsed = z.safeParse(manualEvent, event);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map(
        (issue) => `${issue.path.length === 0 ? 'event' : issue.path.join('.')}: ${issue.message}`,
      )
      .join('; ');
    throw new InvalidEventError(`Unrecognised event (${problems})`);
  }
  const { targets, dryRun = false, action = 'renew', notify } = parsed.data;
  if (notify !== undefined && !dryRun) {
    throw new InvalidEventError(
      '"notify" goes with "dryRun": true (a real run always publishes what it finds)',
    );
  }
  if (action === 'relogin' && targets === undefined) {
    throw new InvalidEventError(
      '"action": "relogin" needs "targets": logging every target in again spends a secret_id use each',
    );
  }
  if (targets !== undefined) {
    const unknown = targets.filter((name) => !knownTargets.includes(name));
    if (unknown.length > 0) {
      const known = knownTargets.slice(0, 20).join(', ');
      throw new InvalidEventError(
        `Unknown target(s): ${unknown.map(quoteName).join(', ')} (configured: ${known}${knownTargets.length > 20 ? ', ...' : ''})`,
      );
    }
  }
  return {
    trigger: 'manual',
    ...(targets === undefined ? {} : { targets: [...new Set(targets)] }),
    dryRun,
    forceRelogin: action === 'relogin',
    ...(notify === undefined ? {} : { notify }),
  };
}
