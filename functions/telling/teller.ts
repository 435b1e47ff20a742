/**
 * How every feature tells its subscribers: the one room for publishing and
 * incident state. Messages go out a few at a time, each within its own
 * deadline; an incident's new state is claimed with a conditional write
 * before its message goes out, so overlapping or retried runs (or
 * concurrent rotation steps) tell it once, and a lost race is planned again
 * once from what the winner wrote. Without a table, or when it cannot be
 * read or written, every message is published as it comes: state trouble
 * never silences an alert, and the summary says so.
 *
 * What to tell is the features' (problems as values, planned by
 * incident-plan.ts, worded by core/notification.ts); how it is told is here.
 */

import pLimit from 'p-limit';
import type { IncidentItem, IncidentStore } from '../core/incident-port.js';
import type { Notifier, OutgoingMessage } from '../core/notifier-port.js';
import { describeAnswer } from '../core/wording.js';
import { type IncidentPlan, IncidentState, type Transition } from './incident-plan.js';
import { readIncidentItems } from './incident-reads.js';

/** Longest a single SNS publish may take. */
export const PUBLISH_TIMEOUT_MS = 10_000;
/** Messages published at once. */
const PUBLISH_CONCURRENCY = 8;

export interface IncidentSummary {
  /** `off`: no table configured; `unavailable`: it could not be read or written this run. */
  readonly state: 'on' | 'off' | 'unavailable';
  readonly opened: number;
  readonly worsened: number;
  readonly reminded: number;
  readonly resolved: number;
}

export interface TellingSummary {
  readonly published: number;
  readonly failed: number;
  readonly incidents: IncidentSummary;
}

export interface TellerDeps {
  readonly notifier: Notifier;
  readonly logger: {
    error(message: string, ...fields: Record<string, unknown>[]): void;
  };
  readonly now: () => number;
  readonly incidents?: IncidentStore;
}

export interface TellerOptions {
  /** No publish may end later than this (epoch ms). */
  readonly publishDeadlineAtMs: number;
  /** Incident state is neither read nor written (a dry run changes nothing). */
  readonly stateless?: boolean;
  /** Told of each message that could not be published, after it was logged. */
  readonly publishFailed?: (message: OutgoingMessage, error: unknown) => void;
}

/** Names what a message is about in the log line of a failed publish (no values). */
export type About = Readonly<Record<string, string>>;

/** What one scope's settling tells: a message per transition worth one. */
export interface Settlement {
  readonly scope: string;
  /** The plan, from the item as stored (`undefined`: none stored). */
  readonly plan: (stored: IncidentItem | undefined) => IncidentPlan;
  /** The message of one claimed transition; `undefined` for one told elsewhere. */
  readonly message: (transition: Transition) => OutgoingMessage | undefined;
  /** What to publish when incident state is unavailable: every current problem, as it comes. */
  readonly fallback: () => readonly OutgoingMessage[];
  readonly about: About;
}

export type StoredItems = ReadonlyMap<string, IncidentItem> | undefined;

export interface Teller {
  /** Whether incident state is read and written (a table, not stateless, not failed). */
  readonly stateful: boolean;
  /** Publishes one message (bounded, within the deadline); never throws. */
  send(message: OutgoingMessage, about: About): Promise<void>;
  /**
   * The stored items of `scopes`, in batches of 100 read a few at a time;
   * `undefined` (state unavailable from then on) when a read fails or there
   * is no state.
   */
  read(scopes: readonly string[]): Promise<StoredItems>;
  /** Claims the settlement's new state, then publishes its transitions. Never throws. */
  settle(settlement: Settlement, items: StoredItems | Promise<StoredItems>): Promise<void>;
  summary(): TellingSummary;
}

export function createTeller(deps: TellerDeps, options: TellerOptions): Teller {
  const store = options.stateless === true ? undefined : deps.incidents;
  let state: IncidentSummary['state'] = store === undefined ? 'off' : 'on';
  let published = 0;
  let failed = 0;
  const counts = { opened: 0, worsened: 0, reminded: 0, resolved: 0 };
  const publishLimit = pLimit(PUBLISH_CONCURRENCY);

  const unavailable = (error: unknown): void => {
    if (state !== 'unavailable') {
      deps.logger.error('incident state unavailable: publishing every problem as it comes', {
        error: describeAnswer(error),
      });
    }
    state = 'unavailable';
  };

  const send = (message: OutgoingMessage, about: About): Promise<void> =>
    publishLimit(async () => {
      try {
        // Publishing gets its own short budget: a message about a slow Vault
        // must still go out when the run's deadline has passed.
        const budgetMs = Math.min(PUBLISH_TIMEOUT_MS, options.publishDeadlineAtMs - deps.now());
        await deps.notifier.publish(message, {
          signal: AbortSignal.timeout(Math.max(1, budgetMs)),
        });
        published += 1;
      } catch (error) {
        failed += 1;
        deps.logger.error('could not publish notification', {
          ...about,
          event: message.attributes.event,
          severity: message.attributes.severity,
          error: describeAnswer(error),
        });
        options.publishFailed?.(message, error);
      }
    });

  const sendAll = async (messages: readonly OutgoingMessage[], about: About): Promise<void> => {
    await Promise.all(messages.map((m) => send(m, about)));
  };

  const count = (transition: Transition): void => {
    if (transition.state === IncidentState.Opened) counts.opened += 1;
    if (transition.state === IncidentState.Worsened) counts.worsened += 1;
    if (transition.state === IncidentState.Reminder) counts.reminded += 1;
    if (transition.state === IncidentState.Resolved) counts.resolved += 1;
  };

  return {
    get stateful() {
      return store !== undefined && state === 'on';
    },

    send,

    async read(scopes) {
      if (store === undefined || state === 'unavailable') return undefined;
      if (scopes.length === 0) return new Map();
      try {
        return await readIncidentItems(store, scopes);
      } catch (error) {
        unavailable(error);
        return undefined;
      }
    },

    async settle(settlement, items) {
      const { scope, plan, message, fallback, about } = settlement;
      const read = await items;
      if (store === undefined || read === undefined || state === 'unavailable') {
        await sendAll(fallback(), about);
        return;
      }
      let stored = read.get(scope);
      // Claim, and on a lost race plan once more from what the other run wrote.
      for (let attempt = 0; attempt < 2; attempt += 1) {
        const next = plan(stored);
        if (next.next === undefined) return;
        let claimed: boolean;
        try {
          claimed = await store.write(next.next, stored?.version);
        } catch (error) {
          unavailable(error);
          await sendAll(fallback(), about);
          return;
        }
        if (claimed) {
          const told = next.transitions.flatMap((t) => {
            const m = message(t);
            return m === undefined ? [] : [{ t, m }];
          });
          for (const { t } of told) count(t);
          await sendAll(
            told.map(({ m }) => m),
            about,
          );
          return;
        }
        try {
          stored = (await store.readBatch([scope])).get(scope);
        } catch (error) {
          unavailable(error);
          await sendAll(fallback(), about);
          return;
        }
      }
    },

    summary() {
      return { published, failed, incidents: { state, ...counts } };
    },
  };
}
