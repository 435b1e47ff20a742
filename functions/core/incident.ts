/**
 * What identifies an incident: the deployment that saw it, the target (or the
 * shared cause) it is about, and the event code. Every message about the same
 * incident carries the same id, so a chat channel threads its opening,
 * reminders and resolution together (Amazon Q's `metadata.threadId`).
 */

export const IncidentState = {
  Opened: 'opened',
  Worsened: 'worsened',
  Reminder: 'reminder',
  Resolved: 'resolved',
} as const;
export type IncidentState = (typeof IncidentState)[keyof typeof IncidentState];

/** The incident a message belongs to, and where in its life the message is. */
export interface IncidentRef {
  readonly id: string;
  readonly state: IncidentState;
}

export interface IncidentKey {
  /** The deployment, e.g. `vault-renewer-prod` (POWERTOOLS_SERVICE_NAME): stages never share a thread. */
  readonly service: string;
  /** A target's name, or the name of a cause several targets share. */
  readonly subject: string;
  /** The problem code (`event` attribute). */
  readonly event: string;
}

/**
 * `vault-renewer-prod:billing-api:relogin-bad-credentials`. Stable across runs
 * and cold starts: a pure function of the key. Service names, target names and
 * problem codes hold no `:`, so the parts never run into each other.
 */
export function incidentId(key: IncidentKey): string {
  return `${key.service}:${key.subject}:${key.event}`;
}
