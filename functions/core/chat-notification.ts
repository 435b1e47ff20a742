/**
 * Words a notification in the custom-notification schema of Amazon Q
 * Developer in chat applications (formerly AWS Chatbot), which shows nothing
 * else in Slack or Microsoft Teams: `version` "1.0", `source` "custom",
 * `content` (title, description, nextSteps, keywords) and `metadata`
 * (threadId, summary, eventType, relatedResources, additionalContext).
 * Docs: "Custom notifications using Amazon Q Developer in chat applications"
 * (docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html).
 *
 * `threadId` is the incident's id, so an incident's opening, reminders and
 * resolution thread together (when the channel allows threaded updates).
 * Pure, and built only from the data of a notification, which never holds a
 * secret.
 */

import { createHash } from 'node:crypto';
import { type IncidentRef, IncidentState } from './incident.js';
import type { Severity } from './notifier-port.js';
import { humanSeconds } from './wording.js';

/** The severity of a RESOLVED message; the chat form accepts it before any caller sends it. */
export const RESOLVED_SEVERITY = 'OK';
export type ChatSeverity = Severity | typeof RESOLVED_SEVERITY;

/**
 * Bounds of each field. The parts of AWS's page that could be read for this
 * work (event schema, required fields, `textType`) give no lengths, so these
 * are Slack Block Kit's (header text 150, section text 3,000, at most 10
 * context elements), the stricter of the two platforms Amazon Q renders to.
 * Longer text is cut, never refused: a chat message that says less beats one
 * that is not sent. The e-mail keeps the full text.
 */
export const CHAT_LIMITS = {
  titleChars: 150,
  descriptionChars: 3_000,
  nextSteps: 5,
  nextStepChars: 1_000,
  keywords: 10,
  keywordChars: 50,
  summaryChars: 150,
  /** Longer ids are shortened to a prefix and a hash: still one thread per incident. */
  threadIdChars: 128,
  relatedResources: 10,
  additionalContextValueChars: 256,
} as const;

export interface ChatNotification {
  readonly version: '1.0';
  readonly source: 'custom';
  readonly id: string;
  readonly content: {
    readonly textType: 'client-markdown';
    readonly title: string;
    readonly description: string;
    readonly nextSteps: readonly string[];
    readonly keywords: readonly string[];
  };
  readonly metadata: {
    readonly threadId: string;
    readonly summary: string;
    readonly eventType: string;
    readonly relatedResources: readonly string[];
    readonly additionalContext: Readonly<Record<string, string>>;
  };
}

/** What the chat form is made of: the notification's facts, already worded. */
export interface ChatAlert {
  readonly severity: ChatSeverity;
  readonly incident: IncidentRef;
  /** Short statement of the problem, e.g. "AppRole login refused". */
  readonly title: string;
  readonly target: string;
  readonly lease?: string;
  readonly event: string;
  readonly summary: string;
  readonly answer?: string;
  readonly likelyCause: string;
  readonly fix: string;
  readonly secondsUntilExpiry?: number;
  readonly expiresAt?: string;
  /** Vault address, with the namespace when there is one. */
  readonly vault: string;
  readonly dryRun: boolean;
  readonly runId: string;
  readonly occurredAt: string;
}

const MARKS: Readonly<Record<ChatSeverity, string>> = {
  CRITICAL: '🔴',
  ERROR: '🟠',
  WARNING: '🟡',
  INFO: 'ℹ️',
  OK: '✅',
};

/** Said after the severity: `CRITICAL, still open: ...`. */
const STATE_WORDS: Readonly<Record<IncidentState, string>> = {
  opened: '',
  worsened: ', worse',
  reminder: ', still open',
  resolved: '',
};

export function composeChatNotification(alert: ChatAlert): ChatNotification {
  const resolved =
    alert.incident.state === IncidentState.Resolved || alert.severity === RESOLVED_SEVERITY;
  const mark = resolved ? MARKS.OK : MARKS[alert.severity];
  const severityWord = resolved ? 'RESOLVED' : alert.severity;
  const label = `${severityWord}${resolved ? '' : STATE_WORDS[alert.incident.state]}`;
  const dry = alert.dryRun ? ' (dry run)' : '';
  const where = alert.lease === undefined ? alert.target : `${alert.target} [${alert.lease}]`;

  const description = [
    `What happened: ${alert.summary}`,
    ...(alert.answer === undefined ? [] : [`Vault/AWS answered: ${alert.answer}`]),
    ...(resolved ? [] : [`Likely cause: ${alert.likelyCause}`]),
    ...(alert.secondsUntilExpiry === undefined || resolved
      ? []
      : [
          `Time until the credential dies: ${humanSeconds(alert.secondsUntilExpiry)}${alert.expiresAt === undefined ? '' : ` (${alert.expiresAt})`}`,
        ]),
    `Vault: ${alert.vault}`,
    `Run: ${alert.runId} at ${alert.occurredAt}`,
  ].join('\n');

  const nextSteps = resolved
    ? []
    : [
        `Fix: ${alert.fix}`,
        `Runbook: docs/runbook.md, event ${alert.event}; the e-mail has the full text`,
      ];
  const keywords = [severityWord, alert.target, alert.event, ...(alert.dryRun ? ['dry-run'] : [])];

  return {
    version: '1.0',
    source: 'custom',
    id: `${alert.incident.id}:${alert.runId}`,
    content: {
      textType: 'client-markdown',
      title: cut(`${mark} ${label}: ${alert.title} · ${where}${dry}`, CHAT_LIMITS.titleChars),
      description: cut(description, CHAT_LIMITS.descriptionChars),
      nextSteps: nextSteps
        .slice(0, CHAT_LIMITS.nextSteps)
        .map((step) => cut(step, CHAT_LIMITS.nextStepChars)),
      keywords: keywords
        .slice(0, CHAT_LIMITS.keywords)
        .map((word) => cut(word, CHAT_LIMITS.keywordChars)),
    },
    metadata: {
      threadId: threadIdOf(alert.incident.id),
      summary: cut(`${label} ${where}: ${alert.title}${dry}`, CHAT_LIMITS.summaryChars),
      eventType: alert.event,
      relatedResources: [alert.target, ...(alert.lease === undefined ? [] : [alert.lease])].slice(
        0,
        CHAT_LIMITS.relatedResources,
      ),
      additionalContext: Object.fromEntries(
        Object.entries({
          severity: severityWord,
          target: alert.target,
          event: alert.event,
          incidentState: resolved ? IncidentState.Resolved : alert.incident.state,
          runId: alert.runId,
          ...(alert.dryRun ? { dryRun: 'true' } : {}),
        }).map(([key, value]) => [key, cut(value, CHAT_LIMITS.additionalContextValueChars)]),
      ),
    },
  };
}

/** At most `max` characters (code points, so an emoji is never split), the cut marked with `…`. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}

/** Cutting an id would merge threads: a long one keeps its start and gains a hash of the whole. */
function threadIdOf(id: string): string {
  if (id.length <= CHAT_LIMITS.threadIdChars) return id;
  const hash = createHash('sha256').update(id).digest('hex').slice(0, 16);
  return `${id.slice(0, CHAT_LIMITS.threadIdChars - hash.length - 1)}#${hash}`;
}
