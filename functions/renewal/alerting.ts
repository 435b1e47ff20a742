/**
 * What a renewal run tells its subscribers. With incident state (a table),
 * each target's problems become incidents: a message when one opens, worsens,
 * is due a reminder or resolves, and nothing while it merely lasts. A cause
 * many targets share (their Vault sealed, down, slow or rate-limiting) is
 * one incident of that Vault, told once with the count and the first names;
 * so are a run's own causes (targets left for the deadline, writes deferred
 * for the write budget). What to tell is decided here; how it is told
 * (claimed before it goes out, published within the deadline, told as it
 * comes when the state is unavailable) is the teller's (telling/teller.ts).
 */

import type { RenewerConfig, TargetConfig } from '../config/types.js';
import { causeScope, type IncidentStore, targetScope } from '../core/incident-port.js';
import { composeMessage, type NotificationContext } from '../core/notification.js';
import { type OutgoingMessage, Severity, severityRank } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import {
  causeMessage,
  idOf,
  type SharedCause,
  transitionMessage,
} from '../telling/incident-messages.js';
import { IncidentState, incidentKey, isIncident, planIncidents } from '../telling/incident-plan.js';
import { createTeller, type StoredItems, type TellingSummary } from '../telling/teller.js';
import type { RenewalDeps, RunRequest } from './run-context.js';

interface CauseRef {
  readonly id: string;
  readonly label: string;
}

function secretsManagerCause(): CauseRef {
  return { id: 'secretsmanager', label: 'Secrets Manager' };
}

/** STS refusing every jwt target alike: federation off, throttling, a denied role. */
function stsCause(): CauseRef {
  return { id: 'sts', label: 'STS GetWebIdentityToken' };
}

/** The code a cleared cause's incident was opened under (a Vault's otherwise). */
const CLEARED_CODE: Readonly<Record<string, ProblemCode>> = {
  secretsmanager: ProblemCode.SecretUnreadable,
  sts: ProblemCode.WebIdentityUnavailable,
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
  if (problem.sharedCause === 'secretsmanager') return secretsManagerCause();
  if (problem.sharedCause === 'sts') return stsCause();
  return undefined;
}

function rankOf(problem: Problem): number {
  return severityRank(problem.severity);
}

export interface AlertingDeps
  extends Pick<RenewalDeps, 'notifier' | 'logger' | 'now' | 'serviceName'> {
  readonly incidents?: IncidentStore;
}

export interface Alerting {
  /** A target's problems, as soon as it is done; `checked` false when it was not processed. */
  target(target: TargetConfig, problems: readonly Problem[], checked: boolean): void;
  /** Shared causes, then every publish; answers the counts. */
  finish(): Promise<TellingSummary>;
}

/** INFO problems are only published when the target's config asks for them. */
export function shouldPublish(problem: Problem, target: TargetConfig): boolean {
  if (problem.severity !== Severity.Info) return true;
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
  /**
   * Run causes the run's batches hit (a fanned-out run's last step): those
   * stay open; the others resolve as after a full run that hit none.
   */
  readonly runCausesHit?: ReadonlySet<string>;
}

/** The run causes a run's (or a batch's) targets hit, by id: what a fanned-out run's last step needs. */
export function runCausesOf(
  targets: readonly { readonly problems: readonly Problem[] }[],
): string[] {
  const hit = new Set<string>();
  for (const target of targets) {
    for (const problem of target.problems) {
      if (problem.code === ProblemCode.DeadlineSkipped) hit.add(RUN_CAUSES.deadline.id);
      if (problem.code === ProblemCode.WritesDeferred) hit.add(RUN_CAUSES.writeBudget.id);
    }
  }
  return [...hit];
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
  // A dry run changes nothing, incident state included: what it was asked to tell, it tells.
  const teller = createTeller(deps, {
    publishDeadlineAtMs: request.publishDeadlineAtMs,
    stateless: request.dryRun,
  });
  const work: Promise<void>[] = [];

  const context = (): NotificationContext => ({
    service: deps.serviceName,
    runId: request.runId,
    occurredAt: new Date(deps.now()).toISOString(),
    intervalSeconds: config.scheduleIntervalSeconds,
    dryRun: request.dryRun,
  });

  // Every target's item, read in batches of 100 while the targets run. A
  // shared cause's item is read only in a run that needs it: one that hits
  // the cause, or one whose targets got past it again (their items remember
  // the cause they were caught in).
  const items: Promise<StoredItems> = teller.read(selected.map((t) => targetScope(t.name)));

  const shared = new Map<string, { cause: SharedCause; representative: TargetConfig }>();
  /** Causes some target was caught in before and got past in this run: maybe resolved. */
  const cleared = new Map<string, { cause: CauseRef; representative: TargetConfig }>();
  /** The key under which a target's item remembers a shared cause (never told per target). */
  const CAUSE_KEY = 'cause:';
  const targetWork: Promise<void>[] = [];

  /** A problem told as it comes, without incident state. */
  const tell = (target: TargetConfig, problem: Problem): void => {
    work.push(teller.send(composeMessage(problem, target, context()), { target: target.name }));
  };

  /** Settles a shared cause's incident from what this run found of it. */
  const settleCause = (
    cause: SharedCause,
    representative: TargetConfig,
    problems: readonly Problem[],
    fallback: () => OutgoingMessage[],
    causeItems: Promise<StoredItems>,
  ): void => {
    const scope = causeScope(cause.id);
    work.push(
      teller.settle(
        {
          scope,
          plan: (stored) => planIncidents(scope, stored, problems, deps.now(), reminderMs),
          message: (t) =>
            causeMessage(cause, representative, context(), {
              id: idOf(context(), cause.id, t.key),
              state: t.state,
              ...(t.previous === undefined ? {} : { previous: t.previous }),
            }),
          fallback,
          about: { cause: cause.id },
        },
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
        teller.settle(
          {
            scope,
            // A run that could not reach the target's Vault or secrets checked nothing else: nothing resolves.
            plan: (stored) =>
              planIncidents(
                scope,
                stored,
                [...incidents, ...markers.keys()],
                deps.now(),
                reminderMs,
                hit.size === 0,
                (p) => markers.get(p) ?? incidentKey(p),
              ),
            message: (t) => {
              if (t.key.startsWith(CAUSE_KEY)) {
                const ref = [endpointOf(target), secretsManagerCause(), stsCause()].find(
                  (r) => `${CAUSE_KEY}${r.id}` === t.key,
                );
                if (t.state === IncidentState.Resolved && ref !== undefined) {
                  cleared.set(ref.id, { cause: ref, representative: target });
                }
                return undefined;
              }
              return transitionMessage(t, target, context(), (key) =>
                idOf(context(), target.name, key),
              );
            },
            fallback: () => incidents.map((p) => composeMessage(p, target, context())),
            about: { target: target.name },
          },
          items,
        ),
      );
    },

    async finish() {
      await Promise.all(targetWork);
      if (!quiet && options.fullRun && options.runCausesMayBeOpen && selected.length > 0) {
        // A run cause resolves when a whole run no longer hits it.
        for (const cause of Object.values(RUN_CAUSES)) {
          if (!shared.has(cause.id) && options.runCausesHit?.has(cause.id) !== true) {
            cleared.set(cause.id, { cause, representative: selected[0] as TargetConfig });
          }
        }
      }
      if (!quiet) {
        // Only the causes this run needs: hit now, or maybe cleared now.
        const needed = [...new Set([...shared.keys(), ...cleared.keys()])].map(causeScope);
        const causeItems = teller.read(needed);
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
            severity: Severity.Error,
            summary: `${ref.label} answers again.`,
          };
          settleCause({ ...ref, problem, targets: [] }, representative, [], () => [], causeItems);
        }
      }
      await Promise.all(work);
      return teller.summary();
    },
  };
}
