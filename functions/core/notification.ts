/**
 * Words a problem as one SNS message: readable in an e-mail, parseable by
 * machines (a versioned JSON document after a marker line), filterable by
 * message attributes, and in Amazon Q's chat form for the chat topic
 * (`chat-notification.ts`). Built only from the {@link Problem} and the
 * target's configuration, neither of which ever holds a secret.
 */

import type { TargetConfig } from '../config/types.js';
import { composeChatNotification } from './chat-notification.js';
import { explain } from './explain.js';
import { type IncidentRef, IncidentState, incidentId } from './incident.js';
import type { OutgoingMessage } from './notifier-port.js';
import type { Problem } from './problems.js';
import { humanSeconds, toSubject } from './wording.js';

export const NOTIFICATION_SCHEMA = 'vault-renewer/notification/v1';
/** Subscribers split the body at this line; the JSON document follows it. */
export const MACHINE_READABLE_MARKER = `--- machine-readable (${NOTIFICATION_SCHEMA}) ---`;

export interface NotificationContext {
  /** The deployment (POWERTOOLS_SERVICE_NAME): part of the incident id. */
  readonly service: string;
  readonly runId: string;
  readonly occurredAt: string;
  readonly intervalSeconds: number;
  readonly dryRun: boolean;
  /**
   * The incident this message belongs to. Absent: a new one, identified by
   * service, target and event ({@link incidentId}).
   */
  readonly incident?: IncidentRef;
}

export function composeMessage(
  problem: Problem,
  target: TargetConfig,
  context: NotificationContext,
): OutgoingMessage {
  const explanation = explain(problem, target, context.intervalSeconds);
  const expiresAt =
    problem.secondsUntilExpiry === undefined
      ? undefined
      : new Date(Date.parse(context.occurredAt) + problem.secondsUntilExpiry * 1000).toISOString();
  const dry = context.dryRun ? ' (dry run)' : '';
  const subject = toSubject(
    `[${problem.severity}] vault-renewer ${target.name}: ${explanation.title}${dry}`,
  );
  const vault = `${target.vault.address}${target.vault.namespace === undefined ? '' : ` namespace ${target.vault.namespace}`}`;
  const lines = [
    `${problem.severity}: ${explanation.title} for target "${target.name}"${problem.lease === undefined ? '' : `, lease "${problem.lease}"`}${dry}`,
    '',
    `What happened: ${problem.summary}`,
    ...(problem.answer === undefined ? [] : [`Vault/AWS answered: ${problem.answer}`]),
    `Likely cause: ${explanation.likelyCause}`,
    `Fix: ${explanation.fix}`,
    ...(problem.secondsUntilExpiry === undefined
      ? []
      : [
          `Time until the credential dies: ${humanSeconds(problem.secondsUntilExpiry)} (${expiresAt})`,
        ]),
    `Vault: ${vault}`,
    `Run: ${context.runId} at ${context.occurredAt}`,
  ];
  const document = {
    schema: NOTIFICATION_SCHEMA,
    severity: problem.severity,
    event: problem.code,
    target: target.name,
    ...(target.owner === undefined ? {} : { owner: target.owner }),
    ...(problem.lease === undefined ? {} : { lease: problem.lease }),
    summary: problem.summary,
    ...(problem.answer === undefined ? {} : { answer: problem.answer }),
    likelyCause: explanation.likelyCause,
    fix: explanation.fix,
    ...(problem.secondsUntilExpiry === undefined
      ? {}
      : { secondsUntilExpiry: problem.secondsUntilExpiry, expiresAt }),
    vaultAddress: target.vault.address,
    ...(target.vault.namespace === undefined ? {} : { vaultNamespace: target.vault.namespace }),
    dryRun: context.dryRun,
    runId: context.runId,
    occurredAt: context.occurredAt,
  };
  const incident = context.incident ?? {
    id: incidentId({ service: context.service, subject: target.name, event: problem.code }),
    state: IncidentState.Opened,
  };
  return {
    subject,
    body: `${lines.join('\n')}\n\n${MACHINE_READABLE_MARKER}\n${JSON.stringify(document, null, 2)}\n`,
    attributes: {
      severity: problem.severity,
      target: target.name,
      // Each team subscribes to its own targets with a filter policy on `owner`.
      ...(target.owner === undefined ? {} : { owner: target.owner }),
      event: problem.code,
      schema: NOTIFICATION_SCHEMA,
      // Subscribers that page can drop dry runs with a filter policy.
      ...(context.dryRun ? { dryRun: 'true' } : {}),
    },
    chat: composeChatNotification({
      severity: problem.severity,
      incident,
      title: explanation.title,
      target: target.name,
      ...(problem.lease === undefined ? {} : { lease: problem.lease }),
      event: problem.code,
      summary: problem.summary,
      ...(problem.answer === undefined ? {} : { answer: problem.answer }),
      likelyCause: explanation.likelyCause,
      fix: explanation.fix,
      ...(problem.secondsUntilExpiry === undefined
        ? {}
        : { secondsUntilExpiry: problem.secondsUntilExpiry }),
      ...(expiresAt === undefined ? {} : { expiresAt }),
      vault,
      dryRun: context.dryRun,
      runId: context.runId,
      occurredAt: context.occurredAt,
    }),
  };
}

/** Reads the JSON document back out of a message body (for subscribers and tests). */
export function parseMessageDocument(body: string): Record<string, unknown> {
  const index = body.indexOf(MACHINE_READABLE_MARKER);
  if (index < 0) {
    throw new Error('not a vault-renewer notification: marker line missing');
  }
  return JSON.parse(body.slice(index + MACHINE_READABLE_MARKER.length)) as Record<string, unknown>;
}
