/**
 * The messages of an incident's life: opened, worsened and reminder are the
 * problem's own message (core/notification.ts) marked with the incident's
 * state; a RESOLVED message has the same subject pattern with severity `OK`.
 * A shared cause (a Vault cluster down for many targets) is one message that
 * counts and names the affected targets. Every message carries the `state`
 * and `incident` attributes, so subscribers can filter and thread on them.
 */

import type { TargetConfig } from '../config/types.js';
import { type ChatAlert, composeChatNotification } from '../core/chat-notification.js';
import { explain } from '../core/explain.js';
import { type IncidentRef, IncidentState, incidentId } from '../core/incident.js';
import type { OpenIncident } from '../core/incident-port.js';
import {
  composeMessage,
  MACHINE_READABLE_MARKER,
  NOTIFICATION_SCHEMA,
  type NotificationContext,
  parseMessageDocument,
} from '../core/notification.js';
import { type OutgoingMessage, Severity } from '../core/notifier-port.js';
import type { Problem, ProblemCode } from '../core/problems.js';
import { toSubject } from '../core/wording.js';
import { openedAs, type Transition } from './incident-plan.js';

/** Severity of a RESOLVED message. */
export const RESOLVED_SEVERITY = 'OK';
/** How many affected targets a shared-cause message names. */
export const NAMED_TARGETS = 10;

/**
 * The incident's id (what threads its messages together in chat): the
 * deployment, the target or shared cause, and the incident's key (the event
 * code, with `/<lease>` for a lease's).
 */
export function idOf(context: NotificationContext, subject: string, key: string): string {
  return incidentId({ service: context.service, subject, event: key });
}

/** Which incident a message is about, where in its life, and how it stood before. */
export interface IncidentTelling extends IncidentRef {
  readonly previous?: OpenIncident;
}

/** A problem's message, marked with the incident's state (opened, worsened, reminder). */
export function incidentMessage(
  problem: Problem,
  target: TargetConfig,
  context: NotificationContext,
  incident: IncidentTelling,
): OutgoingMessage {
  const message = composeMessage(problem, target, {
    ...context,
    incident: { id: incident.id, state: incident.state },
  });
  const note =
    incident.state === IncidentState.Reminder
      ? `Reminder: open since ${incident.previous?.openedAt ?? '?'}, still ${problem.severity}.`
      : incident.state === IncidentState.Worsened
        ? `Worse: was ${incident.previous?.severity ?? '?'} since ${incident.previous?.openedAt ?? '?'}.`
        : undefined;
  return withIncident(message, incident.id, incident.state, note, {
    ...(incident.previous === undefined ? {} : { openSince: incident.previous.openedAt }),
  });
}

/** RESOLVED: the incident is no longer among the problems of a run that checked it. */
export function resolvedMessage(
  code: ProblemCode,
  lease: string | undefined,
  target: TargetConfig,
  context: NotificationContext,
  incident: { readonly id: string; readonly previous: OpenIncident },
): OutgoingMessage {
  const title = explain(
    { code, severity: Severity.Warning, summary: '', ...(lease === undefined ? {} : { lease }) },
    target,
    context.intervalSeconds,
  ).title;
  const subject = toSubject(
    `[${RESOLVED_SEVERITY}] vault-renewer ${target.name}: ${title} resolved`,
  );
  const lines = [
    `${RESOLVED_SEVERITY}: ${title} for target "${target.name}"${lease === undefined ? '' : `, lease "${lease}"`} is resolved.`,
    '',
    `Open since ${incident.previous.openedAt} (${incident.previous.severity}); this run found it cleared.`,
    `Run: ${context.runId} at ${context.occurredAt}`,
  ];
  const document = {
    schema: NOTIFICATION_SCHEMA,
    severity: RESOLVED_SEVERITY,
    event: code,
    state: IncidentState.Resolved,
    incident: incident.id,
    target: target.name,
    ...(target.owner === undefined ? {} : { owner: target.owner }),
    ...(lease === undefined ? {} : { lease }),
    openedAt: incident.previous.openedAt,
    resolvedAt: context.occurredAt,
    runId: context.runId,
  };
  return {
    subject,
    body: `${lines.join('\n')}\n\n${MACHINE_READABLE_MARKER}\n${JSON.stringify(document, null, 2)}\n`,
    attributes: {
      severity: RESOLVED_SEVERITY,
      target: target.name,
      ...(target.owner === undefined ? {} : { owner: target.owner }),
      event: code,
      schema: NOTIFICATION_SCHEMA,
      state: IncidentState.Resolved,
      incident: incident.id,
    },
    chat: composeChatNotification({
      ...chatBase(context, target.vault),
      severity: RESOLVED_SEVERITY,
      incident: { id: incident.id, state: IncidentState.Resolved },
      title,
      target: target.name,
      ...(lease === undefined ? {} : { lease }),
      event: code,
      summary: `Open since ${incident.previous.openedAt} (${incident.previous.severity}); this run found it cleared.`,
      likelyCause: '',
      fix: '',
    }),
  };
}

function chatBase(
  context: NotificationContext,
  vault: TargetConfig['vault'],
): Pick<ChatAlert, 'vault' | 'dryRun' | 'runId' | 'occurredAt'> {
  return {
    vault: `${vault.address}${vault.namespace === undefined ? '' : ` namespace ${vault.namespace}`}`,
    dryRun: context.dryRun,
    runId: context.runId,
    occurredAt: context.occurredAt,
  };
}

/** A cause many targets share, told once with the count and the first names. */
export interface SharedCause {
  /** e.g. `vault:https://vault.example.com:8200` */
  readonly id: string;
  /** e.g. `Vault https://vault.example.com:8200` */
  readonly label: string;
  readonly problem: Problem;
  readonly targets: readonly string[];
}

export function causeMessage(
  cause: SharedCause,
  representative: TargetConfig,
  context: NotificationContext,
  incident: IncidentTelling,
): OutgoingMessage {
  const count = cause.targets.length;
  const named = [...cause.targets].sort().slice(0, NAMED_TARGETS);
  const more = count > named.length ? ` and ${count - named.length} more` : '';
  const explanation = explain(cause.problem, representative, context.intervalSeconds);
  const resolved = incident.state === IncidentState.Resolved;
  const severity = resolved ? RESOLVED_SEVERITY : cause.problem.severity;
  const subject = toSubject(
    `[${severity}] vault-renewer ${cause.label}: ${explanation.title}${resolved ? ' resolved' : ` (${count} target${count === 1 ? '' : 's'})`}`,
  );
  const lines = resolved
    ? [
        `${RESOLVED_SEVERITY}: ${explanation.title} at ${cause.label} is resolved.`,
        '',
        `Open since ${incident.previous?.openedAt ?? '?'}; this run reached it again.`,
      ]
    : [
        `${severity}: ${explanation.title} at ${cause.label}, for ${count} target${count === 1 ? '' : 's'}: ${named.join(', ')}${more}.`,
        ...(incident.state === IncidentState.Reminder
          ? [`Reminder: open since ${incident.previous?.openedAt ?? '?'}.`]
          : []),
        '',
        `What happened: ${cause.problem.summary}`,
        ...(cause.problem.answer === undefined
          ? []
          : [`Vault/AWS answered: ${cause.problem.answer}`]),
        `Likely cause: ${explanation.likelyCause}`,
        `Fix: ${explanation.fix}`,
      ];
  lines.push(`Run: ${context.runId} at ${context.occurredAt}`);
  const document = {
    schema: NOTIFICATION_SCHEMA,
    severity,
    event: cause.problem.code,
    state: incident.state,
    incident: incident.id,
    cause: cause.id,
    affectedTargets: count,
    targets: named,
    summary: cause.problem.summary,
    ...(cause.problem.answer === undefined || resolved ? {} : { answer: cause.problem.answer }),
    ...(resolved ? {} : { likelyCause: explanation.likelyCause, fix: explanation.fix }),
    ...(incident.previous === undefined ? {} : { openSince: incident.previous.openedAt }),
    dryRun: context.dryRun,
    runId: context.runId,
    occurredAt: context.occurredAt,
  };
  return {
    subject,
    body: `${lines.join('\n')}\n\n${MACHINE_READABLE_MARKER}\n${JSON.stringify(document, null, 2)}\n`,
    attributes: {
      severity,
      event: cause.problem.code,
      schema: NOTIFICATION_SCHEMA,
      cause: cause.id,
      state: incident.state,
      incident: incident.id,
      ...(context.dryRun ? { dryRun: 'true' } : {}),
    },
    chat: composeChatNotification({
      ...chatBase(context, representative.vault),
      severity: severity as ChatAlert['severity'],
      incident: { id: incident.id, state: incident.state },
      title: `${explanation.title} at ${cause.label}`,
      target: resolved
        ? cause.label
        : `${count} target${count === 1 ? '' : 's'}: ${named.join(', ')}${more}`,
      event: cause.problem.code,
      summary: resolved
        ? `Open since ${incident.previous?.openedAt ?? '?'}; this run reached it again.`
        : cause.problem.summary,
      ...(cause.problem.answer === undefined || resolved ? {} : { answer: cause.problem.answer }),
      likelyCause: explanation.likelyCause,
      fix: explanation.fix,
    }),
  };
}

function withIncident(
  message: OutgoingMessage,
  id: string,
  state: IncidentState,
  note: string | undefined,
  extra: Readonly<Record<string, string>>,
): OutgoingMessage {
  const marker = message.body.indexOf(MACHINE_READABLE_MARKER);
  const human = message.body.slice(0, marker).trimEnd();
  const document = { ...parseMessageDocument(message.body), state, incident: id, ...extra };
  const text = note === undefined ? human : human.replace('\n\n', `\n${note}\n\n`);
  return {
    subject:
      state === IncidentState.Reminder
        ? toSubject(`${message.subject} (reminder)`)
        : message.subject,
    body: `${text}\n\n${MACHINE_READABLE_MARKER}\n${JSON.stringify(document, null, 2)}\n`,
    attributes: { ...message.attributes, state, incident: id },
  };
}

/**
 * The message of one claimed transition of a target's own incident: RESOLVED
 * naming what it opened under, or the problem marked with the incident's
 * state. `idFor` turns the incident's key into its id (the thread in chat).
 */
export function transitionMessage(
  transition: Transition,
  target: TargetConfig,
  context: NotificationContext,
  idFor: (key: string) => string,
): OutgoingMessage | undefined {
  const id = idFor(transition.key);
  if (transition.state === IncidentState.Resolved && transition.previous !== undefined) {
    const { code, lease } = openedAs(transition.key, transition.previous);
    return resolvedMessage(code, lease, target, context, { id, previous: transition.previous });
  }
  if (transition.problem === undefined) return undefined;
  return incidentMessage(transition.problem, target, context, {
    id,
    state: transition.state,
    ...(transition.previous === undefined ? {} : { previous: transition.previous }),
  });
}
