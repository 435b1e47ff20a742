/**
 * The events the renew function accepts: the EventBridge schedule, and the
 * JSON test events an operator types in the Lambda console. Anything else is
 * refused with an error that lists what is accepted.
 */

import * as z from 'zod/mini';
import { resolvedTargetSchema } from '../config/resolved-schema.js';
import { closestTargetName } from '../config/target-name.js';
import type { TargetConfig } from '../config/types.js';
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

/** One batch of a run fanned out by Step Functions' Distributed Map. */
export interface BatchRequest {
  /** The batch's targets, resolved as in the targets object. */
  readonly items: readonly TargetConfig[];
  /** The run's id, shared by its batches (the execution's name). */
  readonly runId: string;
  /** Batches running at once: each takes this share of the run's budgets. */
  readonly concurrency: number;
}

/** What the event asks of the run, and what triggered it. */
export interface RenewEvent extends RenewalRequest {
  readonly trigger: 'schedule' | 'manual';
}

const scheduledEvent = z.looseObject({
  source: z.literal('aws.events'),
  'detail-type': z.literal('Scheduled Event'),
});

const batchEvent = z.strictObject({
  Items: z.array(z.unknown()).check(z.minLength(1)),
  BatchInput: z.strictObject({
    runId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,80}$/)),
    concurrency: z.number().check(z.int(), z.positive()),
  }),
});

const manualEvent = z.strictObject({
  targets: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  dryRun: z.optional(z.boolean()),
  notify: z.optional(z.boolean()),
  action: z.optional(z.enum(['renew', 'relogin'])),
});

/**
 * Refused names are never repeated: any string may be a pasted secret (a
 * UUID-shaped secret_id is a valid target name). Only configured names,
 * known not to be secrets, are named back.
 */
function unknownTargets(unknown: readonly string[], knownTargets: readonly string[]): string {
  const suggestions = [
    ...new Set(unknown.flatMap((name) => closestTargetName(name, knownTargets) ?? [])),
  ];
  const known = knownTargets.slice(0, 20).join(', ');
  return `Unknown target(s): ${unknown.length} name(s) not in the config (refused values are not repeated)${
    suggestions.length === 0
      ? ''
      : `; did you mean ${suggestions.map((n) => JSON.stringify(n)).join(', ')}?`
  } (configured: ${known}${knownTargets.length > 20 ? ', ...' : ''})`;
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
    if (unknown.length > 0) throw new InvalidEventError(unknownTargets(unknown, knownTargets));
  }
  return {
    trigger: 'manual',
    ...(targets === undefined ? {} : { targets: [...new Set(targets)] }),
    dryRun,
    forceRelogin: action === 'relogin',
    ...(notify === undefined ? {} : { notify }),
  };
}

/** What the batch function accepts: the Distributed Map's batch of the targets object. */
export const BATCH_EVENT =
  '{"Items": [<target as in the targets object>, ...], "BatchInput": {"runId": "<execution name>", "concurrency": <batches at once>}}';

/**
 * A batch's items are targets as the targets object holds them; a bad one
 * is named by its index and field, never by its value.
 */
export function parseBatchEvent(event: unknown): BatchRequest {
  const parsed = z.safeParse(batchEvent, event);
  if (!parsed.success) {
    throw new InvalidEventError(
      `Unrecognised batch (${parsed.error.issues.map((i) => `${i.path.join('.') || 'event'}: ${i.message}`).join('; ')}); a batch is ${BATCH_EVENT}`,
    );
  }
  const items: TargetConfig[] = [];
  const problems: string[] = [];
  const names = new Set<string>();
  parsed.data.Items.forEach((item, index) => {
    const target = z.safeParse(resolvedTargetSchema, item);
    if (!target.success) {
      const first = target.error.issues[0];
      problems.push(
        `Items.${index}.${first?.path.join('.') ?? ''}: ${first?.message ?? 'invalid'}`,
      );
      return;
    }
    if (names.has(target.data.name))
      problems.push(`Items.${index}.name: appears twice in the batch`);
    names.add(target.data.name);
    items.push(target.data as TargetConfig);
  });
  if (problems.length > 0) {
    throw new InvalidEventError(
      `Unrecognised batch (${problems.slice(0, 10).join('; ')}); a batch is ${BATCH_EVENT}`,
    );
  }
  return { items, ...parsed.data.BatchInput };
}
