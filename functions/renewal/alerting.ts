/**
 * What a renewal run tells its subscribers. With incident state (a table),
 * each target's problems become incidents: a message when one opens, worsens,
 * is due a reminder or resolves, and nothing while it merely lasts. A cause
 * many targets share (their Vault sealed, down, slow or rate-limiting) is
 * one incident of that Vault, told once with the count and the first names.
 * The state is claimed with a conditional write before its message goes
 * out, so overlapping or retried runs tell it once. Without a table, or when
 * it cannot be read or written, every problem is published as it comes:
 * state trouble never silences an alert, and the run says so.
 */

import pLimit from 'p-limit';
import type { RenewerConfig, TargetConfig } from '../config/types.js';
import {
  causeMessage,
  idOf,
  incidentMessage,
  resolvedMessage,
  type SharedCause,
} from '../core/incident-messages.js';
import {
  causeScope,
  INCIDENT_SCOPES_PER_READ,
  type IncidentItem,
  type IncidentStore,
  targetScope,
} from '../core/incident-port.js';
import {
  type IncidentPlan,
  IncidentState,
  incidentKey,
  isIncident,
  planIncidents,
} from '../core/incidents.js';
import { composeMessage, type NotificationContext } from '../core/notification.js';
import type { OutgoingMessage } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import { describeAnswer } from '../core/wording.js';
import type { RenewalDeps, RunRequest } from './run-context.js';

/** Longest a single SNS publish may take. */
const PUBLISH_TIMEOUT_MS = 10_000;
/** Messages published at once. */
const PUBLISH_CONCURRENCY = 8;
/** Incident reads at once (100 scopes each). */
const READ_CONCURRENCY = 4;
/** Secrets Manager answers that are the service's trouble, not one secret's. */
const SERVICE_TROUBLE =
  /^(Throttling|ThrottlingException|TooManyRequestsException|RequestLimitExceeded|InternalServiceError|InternalFailure|ServiceUnavailable|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN|TimeoutError|AbortError|RequestTimeout)\b/;

interface CauseRef {
  readonly id: string;
  readonly label: string;
}

function secretsManagerCause(): CauseRef {
  return { id: 'secretsmanager', label: 'Secrets Manager' };
}

/** The code a cleared cause's incident was opened under (a Vault's otherwise). */
const CLEARED_CODE: Readonly<Record<string, ProblemCode>> = {
  secretsmanager: ProblemCode.SecretUnreadable,
  'run:deadline': ProblemCode.DeadlineSkipped,
  'run:write-budget': ProblemCode.WritesDeferred,
};

/** Causes of a run's own making: what it could not do in its time and budgets. */
const RUN_CAUSES = {
  deadline: { id: 'run:deadline', label: 'Renew runs' },
  writeBudget: { id: 'run:write-budget', label: 'Secrets Manager write budget' },
} as const satisfies Record<string, CauseRef>;

/**
 * The shared cause behind a problem, if it has one: its target's Vault
 * (sealed, down, slow, rate-limiting: every target there sees it), or
 * Secrets Manager itself (throttling, unreachable). Everything else is the
 * target's own.
 */
export function sharedCauseOf(problem: Problem, target: TargetConfig): CauseRef | undefined {
  if (problem.code === ProblemCode.VaultUnreachable) return endpointOf(target);
  if (problem.code === ProblemCode.DeadlineSkipped) return RUN_CAUSES.deadline;
  if (problem.code === ProblemCode.WritesDeferred) return RUN_CAUSES.writeBudget;
  if (problem.code === ProblemCode.SecretUnreadable && SERVICE_TROUBLE.test(problem.answer ?? '')) {
    return secretsManagerCause();
  }
  return undefined;
}

const SEVERITY_RANK: Readonly<Record<string, number>> = { WARNING: 1, ERROR: 2, CRITICAL: 3 };

function rankOf(problem: Problem): number {
  return SEVERITY_RANK[problem.severity] ?? 0;
}

export interface IncidentSummary {
  /** `off`: no table configured; `unavailable`: it could not be read or written this run. */
  readonly state: 'on' | 'off' | 'unavailable';
  readonly opened: number;
  readonly worsened: number;
  readonly reminded: number;
  readonly resolved: number;
}

export interface AlertingDeps
  extends Pick<RenewalDeps, 'notifier' | 'logger' | 'now' | 'serviceName'> {
  readonly incidents?: IncidentStore;
}

export interface Alerting {
  /** A target's problems, as soon as it is done; `checked` false when it was not processed. */
  target(target: TargetConfig, problems: readonly Problem[], checked: boolean): void;
  /** Shared causes, then every publish; answers the counts. */
  finish(): Promise<{ published: number; failed: number; incidents: IncidentSummary }>;
}

/** INFO problems are only published when the target's config asks for them. */
export function shouldPublish(problem: Problem, target: TargetConfig): boolean {
  if (problem.severity !== 'INFO') return true;
  if (problem.code === ProblemCode.Relogin) return target.notify.onRelogin;
  if (problem.code === ProblemCode.LeaseReissued) return target.notify.onReissue;
  return false;
}

function endpointOf(target: TargetConfig): CauseRef {
  const ns = target.vault.namespace === undefined ? '' : ` namespace ${target.vault.namespace}`;
  return {
    id: `vault:${target.vault.address}${target.vault.namespace === undefined ? '' : `/${target.vault.namespace}`}`,
    label: `Vault ${target.vault.address}${ns}`,
  };
}

export interface AlertingOptions {
  /** The last run left targets behind: its run causes may be open, and resolve when this one leaves none. */
  readonly runCausesMayBeOpen: boolean;
  /** Every target is in this run (a scheduled run, not a console run naming a few). */
  readonly fullRun: boolean;
}

export function createAlerting(
  config: RenewerConfig,
  deps: AlertingDeps,
  request: RunRequest,
  selected: readonly TargetConfig[],
  options: AlertingOptions = { runCausesMayBeOpen: false, fullRun: false },
): Alerting {
  const quiet = request.dryRun && request.notify !== true;
  const reminderMs = config.reminderHours * 3_600_000;
  let published = 0;
  let failed = 0;
  const counts = { opened: 0, worsened: 0, reminded: 0, resolved: 0 };
  let state: IncidentSummary['state'] =
    deps.incidents === undefined || request.dryRun ? 'off' : 'on';
  const publishLimit = pLimit(PUBLISH_CONCURRENCY);
  const work: Promise<void>[] = [];

  const context = (): NotificationContext => ({
    service: deps.serviceName,
    runId: request.runId,
    occurredAt: new Date(deps.now()).toISOString(),
    intervalSeconds: config.scheduleIntervalSeconds,
    dryRun: request.dryRun,
  });

  const send = (message: OutgoingMessage, about: Record<string, string>): Promise<void> =>
    publishLimit(async () => {
      try {
        // Publishing gets its own short budget: a message about a slow Vault
        // must still go out when the run's deadline has passed.
        const budgetMs = Math.min(PUBLISH_TIMEOUT_MS, request.publishDeadlineAtMs - deps.now());
        await deps.notifier.publish(message, {
          signal: AbortSignal.timeout(Math.max(1, budgetMs)),
        });
        published += 1;
      } catch (error) {
        failed += 1;
        deps.logger.error('could not publish notification', {
          ...(message.attributes.target === undefined ? {} : { target: message.attributes.target }),
          event: message.attributes.event,
          severity: message.attributes.severity,
          ...about,
          error: describeAnswer(error),
        });
      }
    });

  const unavailable = (error: unknown): void => {
    if (state !== 'unavailable') {
      deps.logger.error('incident state unavailable: publishing every problem as it comes', {
        error: describeAnswer(error),
      });
    }
    state = 'unavailable';
  };

  // Every target's item, read in batches of 100 while the targets run. A
  // shared cause's item is read only in a run that needs it: one that hits
  // the cause, or one whose targets got past it again (their items remember
  // the cause they were caught in).
  const scopes = selected.map((t) => targetScope(t.name));
  const readLimit = pLimit(READ_CONCURRENCY);
  const items: Promise<ReadonlyMap<string, IncidentItem> | undefined> =
    deps.incidents === undefined || request.dryRun
      ? Promise.resolve(undefined)
      : Promise.all(
          Array.from({ length: Math.ceil(scopes.length / INCIDENT_SCOPES_PER_READ) }, (_, i) =>
            readLimit(() =>
              (deps.incidents as IncidentStore).readBatch(
                scopes.slice(i * INCIDENT_SCOPES_PER_READ, (i + 1) * INCIDENT_SCOPES_PER_READ),
              ),
            ),
          ),
        ).then(
          (maps) => new Map(maps.flatMap((m) => [...m])),
          (error: unknown) => {
            unavailable(error);
            return undefined;
          },
        );

  /**
   * Claims the plan's new state, then publishes its transitions. A lost race
   * (another run wrote first) is planned again once from what it wrote.
   */
  const settle = async (
    scope: string,
    plan: (stored: IncidentItem | undefined) => IncidentPlan,
    message: (transition: IncidentPlan['transitions'][number]) => OutgoingMessage | undefined,
    fallback: () => OutgoingMessage[],
    about: Record<string, string>,
    source: Promise<ReadonlyMap<string, IncidentItem> | undefined> = items,
  ): Promise<void> => {
    // A dry run changes nothing, incident state included: what it was asked to tell, it tells.
    const store = request.dryRun ? undefined : deps.incidents;
    const read = await source;
    if (store === undefined || read === undefined || state === 'unavailable') {
      await Promise.all(fallback().map((m) => send(m, about)));
      return;
    }
    let stored = read.get(scope);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const next = plan(stored);
      if (next.next === undefined) return;
      let claimed: boolean;
      try {
        claimed = await store.write(next.next, stored?.version);
      } catch (error) {
        unavailable(error);
        await Promise.all(fallback().map((m) => send(m, about)));
        return;
      }
      if (claimed) {
        const told = next.transitions.flatMap((t) => {
          const m = message(t);
          return m === undefined ? [] : [{ t, m }];
        });
        for (const { t } of told) {
          if (t.state === IncidentState.Opened) counts.opened += 1;
          if (t.state === IncidentState.Worsened) counts.worsened += 1;
          if (t.state === IncidentState.Reminder) counts.reminded += 1;
          if (t.state === IncidentState.Resolved) counts.resolved += 1;
        }
        await Promise.all(told.map(({ m }) => send(m, about)));
        return;
      }
      try {
        stored = (await store.readBatch([scope])).get(scope);
      } catch (error) {
        unavailable(error);
        await Promise.all(fallback().map((m) => send(m, about)));
        return;
      }
    }
  };

  const shared = new Map<string, { cause: SharedCause; representative: TargetConfig }>();
  /** Causes some target was caught in before and got past in this run: maybe resolved. */
  const cleared = new Map<string, { cause: CauseRef; representative: TargetConfig }>();
  /** The key under which a target's item remembers a shared cause (never told per target). */
  const CAUSE_KEY = 'cause:';
  const targetWork: Promise<void>[] = [];

  /** A problem told as it comes, without incident state. */
  const tell = (target: TargetConfig, problem: Problem): void => {
    work.push(
      send(composeMessage(problem, target, context()), {
        target: target.name,
        event: problem.code,
      }),
    );
  };

  /** Settles a shared cause's incident from what this run found of it. */
  const settleCause = (
    cause: SharedCause,
    representative: TargetConfig,
    problems: readonly Problem[],
    fallback: () => OutgoingMessage[],
    causeItems: Promise<ReadonlyMap<string, IncidentItem> | undefined>,
  ): void => {
    const scope = causeScope(cause.id);
    work.push(
      settle(
        scope,
        (stored) => planIncidents(scope, stored, problems, deps.now(), reminderMs),
        (t) =>
          causeMessage(cause, representative, context(), {
            id: idOf(context(), cause.id, t.key),
            state: t.state,
            ...(t.previous === undefined ? {} : { previous: t.previous }),
          }),
        fallback,
        { cause: cause.id },
        causeItems,
      ),
    );
  };

  return {
    target(target, problems, checked) {
      if (quiet) return;
      const publishable = problems.filter((p) => shouldPublish(p, target));
      const own: Problem[] = [];
      const hit = new Set<string>();
      for (const problem of publishable) {
        const cause = sharedCauseOf(problem, target);
        if (cause === undefined) {
          own.push(problem);
          continue;
        }
        hit.add(cause.id);
        const entry = shared.get(cause.id) ?? {
          cause: { ...cause, problem, targets: [] },
          representative: target,
        };
        if (!entry.cause.targets.includes(target.name)) {
          // The cause is as bad as its worst target: a deferred login that dies first is CRITICAL.
          const worst =
            rankOf(problem) > rankOf(entry.cause.problem) ? problem : entry.cause.problem;
          shared.set(cause.id, {
            ...entry,
            cause: {
              ...entry.cause,
              problem: worst,
              targets: [...entry.cause.targets, target.name],
            },
          });
        }
      }
      // Events are told as they come: INFO, and what the run repaired.
      for (const problem of own.filter((p) => !isIncident(p))) tell(target, problem);
      const incidents = own.filter(isIncident);
      if (!checked) {
        // Not processed (deadline): told as it comes; its incidents are left as they are.
        for (const problem of incidents) tell(target, problem);
        return;
      }
      const scope = targetScope(target.name);
      // The shared causes it is caught in, remembered in its own item (told once, by the cause).
      const markers = new Map<Problem, string>();
      for (const id of hit) {
        const entry = shared.get(id);
        if (entry !== undefined) markers.set({ ...entry.cause.problem }, `${CAUSE_KEY}${id}`);
      }
      targetWork.push(
        settle(
          scope,
          // A run that could not reach the target's Vault or secrets checked nothing else: nothing resolves.
          (stored) =>
            planIncidents(
              scope,
              stored,
              [...incidents, ...markers.keys()],
              deps.now(),
              reminderMs,
              hit.size === 0,
              (p) => markers.get(p) ?? incidentKey(p),
            ),
          (t) => {
            if (t.key.startsWith(CAUSE_KEY)) {
              const ref = [endpointOf(target), secretsManagerCause()].find(
                (r) => `${CAUSE_KEY}${r.id}` === t.key,
              );
              if (t.state === IncidentState.Resolved && ref !== undefined) {
                cleared.set(ref.id, { cause: ref, representative: target });
              }
              return undefined;
            }
            const key = idOf(context(), target.name, t.key);
            if (t.state === IncidentState.Resolved && t.previous !== undefined) {
              const [code, lease] = t.key.split('/') as [ProblemCode, string | undefined];
              return resolvedMessage(code, lease, target, context(), {
                id: key,
                previous: t.previous,
              });
            }
            return incidentMessage(t.problem as Problem, target, context(), {
              id: key,
              state: t.state,
              ...(t.previous === undefined ? {} : { previous: t.previous }),
            });
          },
          () => incidents.map((p) => composeMessage(p, target, context())),
          { target: target.name },
        ),
      );
    },

    async finish() {
      await Promise.all(targetWork);
      if (!quiet && options.fullRun && options.runCausesMayBeOpen && selected.length > 0) {
        // A run cause resolves when a whole run no longer hits it.
        for (const cause of Object.values(RUN_CAUSES)) {
          if (!shared.has(cause.id)) {
            cleared.set(cause.id, { cause, representative: selected[0] as TargetConfig });
          }
        }
      }
      if (!quiet) {
        // Only the causes this run needs: hit now, or maybe cleared now.
        const needed = [...new Set([...shared.keys(), ...cleared.keys()])].map(causeScope);
        const causeItems: Promise<ReadonlyMap<string, IncidentItem> | undefined> =
          deps.incidents === undefined || request.dryRun || needed.length === 0
            ? Promise.resolve(undefined)
            : (deps.incidents as IncidentStore)
                .readBatch(needed.slice(0, INCIDENT_SCOPES_PER_READ))
                .catch((error: unknown) => {
                  unavailable(error);
                  return undefined;
                });
        for (const { cause, representative } of shared.values()) {
          settleCause(
            cause,
            representative,
            [cause.problem],
            () => [
              causeMessage(cause, representative, context(), {
                id: idOf(context(), cause.id, cause.problem.code),
                state: IncidentState.Opened,
              }),
            ],
            causeItems,
          );
        }
        for (const [id, { cause: ref, representative }] of cleared) {
          if (shared.has(id)) continue;
          const problem: Problem = {
            code: CLEARED_CODE[id] ?? ProblemCode.VaultUnreachable,
            severity: 'ERROR',
            summary: `${ref.label} answers again.`,
          };
          settleCause({ ...ref, problem, targets: [] }, representative, [], () => [], causeItems);
        }
      }
      await Promise.all(work);
      return { published, failed, incidents: { state, ...counts } };
    },
  };
}
