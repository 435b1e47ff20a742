/**
 * The change events of one run (a renewal run, or a rotation step that made
 * a version current): each credential changed is put on the bus in calls of
 * up to 10 while the other targets are still running, and the rest when the
 * run ends. A failure is logged with the credential it concerns (never a
 * value) and counted in the report; it never fails the run: the new version
 * is already current, and a consumer that missed the event still finds it
 * in Secrets Manager.
 */

import pLimit from 'p-limit';
import {
  CHANGE_EVENTS_PER_PUT,
  type ChangeEventPublisher,
  type CredentialChange,
} from '../core/change-events-port.js';
import { describeAnswer } from '../core/wording.js';
import type { TellerDeps } from './teller.js';

export interface ChangeAnnouncerDeps {
  readonly changeEvents: ChangeEventPublisher;
  readonly logger: TellerDeps['logger'];
  readonly now: () => number;
}

/** Longest one group of events may take. */
const PUT_TIMEOUT_MS = 10_000;
/** Groups put at once. */
const PUT_CONCURRENCY = 4;

export interface ChangeAnnouncer {
  /** Queues a target's changes; a full group goes out at once. */
  add(changes: readonly CredentialChange[]): void;
  /** Puts what is queued and waits for every put. */
  settle(): Promise<{ readonly published: number; readonly failed: number }>;
}

export function createChangeAnnouncer(
  deps: ChangeAnnouncerDeps,
  /** Epoch ms by which every put must be over (the run's publish deadline). */
  deadlineAtMs: number,
): ChangeAnnouncer {
  const limit = pLimit(PUT_CONCURRENCY);
  const puts: Promise<void>[] = [];
  let queued: CredentialChange[] = [];
  let published = 0;
  let failed = 0;

  const put = (group: readonly CredentialChange[]): void => {
    puts.push(
      limit(async () => {
        const budgetMs = Math.min(PUT_TIMEOUT_MS, deadlineAtMs - deps.now());
        try {
          const outcome = await deps.changeEvents.publish(group, {
            signal: AbortSignal.timeout(Math.max(1, budgetMs)),
          });
          published += outcome.published;
          failed += outcome.failures.length;
          if (outcome.failures.length > 0) {
            deps.logger.error('could not put change events', {
              failed: outcome.failures.length,
              events: outcome.failures.map(({ change, code, message }) => ({
                target: change.target,
                kind: change.kind,
                name: change.name,
                versionId: change.versionId,
                code,
                message,
              })),
            });
          }
        } catch (error) {
          // The port does not throw; a bug must not fail the run either.
          failed += group.length;
          deps.logger.error('could not put change events', {
            failed: group.length,
            error: describeAnswer(error),
          });
        }
      }),
    );
  };

  return {
    add(changes) {
      queued.push(...changes);
      while (queued.length >= CHANGE_EVENTS_PER_PUT) {
        put(queued.slice(0, CHANGE_EVENTS_PER_PUT));
        queued = queued.slice(CHANGE_EVENTS_PER_PUT);
      }
    },
    async settle() {
      if (queued.length > 0) {
        put(queued);
        queued = [];
      }
      await Promise.all(puts);
      return { published, failed };
    },
  };
}
