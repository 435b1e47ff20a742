/**
 * What the renewal domain needs to tell humans and machines: publish one
 * message. Wording is the domain's (see `notification.ts`); the SNS adapter
 * only sends it.
 */

import type { ChatNotification } from './chat-notification.js';

export const Severity = {
  Critical: 'CRITICAL',
  Error: 'ERROR',
  Warning: 'WARNING',
  Info: 'INFO',
} as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

const RANK: Readonly<Record<Severity, number>> = {
  [Severity.Info]: 0,
  [Severity.Warning]: 1,
  [Severity.Error]: 2,
  [Severity.Critical]: 3,
};

/** How bad a severity is: INFO 0 (an event, not an incident), WARNING 1, ERROR 2, CRITICAL 3. */
export function severityRank(severity: Severity): number {
  return RANK[severity];
}

/** ERROR or CRITICAL: what fails a target and counts in the `Failures` metric. */
export function isFailureSeverity(severity: Severity): boolean {
  return RANK[severity] >= RANK[Severity.Error];
}

export interface OutgoingMessage {
  /** Printable ASCII, under 100 characters. */
  readonly subject: string;
  /** Human text followed by the machine-readable JSON document. */
  readonly body: string;
  /** SNS String message attributes for subscription filter policies. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * The same notification in Amazon Q's custom-notification schema, for the
   * chat topic (published there with the same attributes); absent for
   * messages chat does not get.
   */
  readonly chat?: ChatNotification;
}

export interface Notifier {
  publish(message: OutgoingMessage, options?: { readonly signal?: AbortSignal }): Promise<void>;
}
