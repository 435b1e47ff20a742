/**
 * Which messages a scope's problems are worth, given what was already told
 * (pure). A problem opens an incident the first time, is told again when its
 * severity rises or a reminder is due, and stays quiet otherwise; an open
 * incident no longer among the problems resolves.
 */

import { IncidentState } from '../core/incident.js';
import type { IncidentItem, OpenIncident } from '../core/incident-port.js';
import { severityRank } from '../core/notifier-port.js';
import type { Problem, ProblemCode } from '../core/problems.js';

export { IncidentState };

export interface Transition {
  readonly key: string;
  readonly state: IncidentState;
  /** The problem now; absent for `resolved`. */
  readonly problem?: Problem;
  /** The incident as it was, for `worsened`, `reminder` and `resolved`. */
  readonly previous?: OpenIncident;
}

export interface IncidentPlan {
  /** Messages to publish, in key order. */
  readonly transitions: readonly Transition[];
  /** The item to store; `undefined` when nothing changes (no write). */
  readonly next: IncidentItem | undefined;
}

/**
 * Problems that are incidents: WARNING or worse and not repaired by the run
 * (INFO messages and repaired problems are events, told as they come).
 */
export function isIncident(problem: Problem): boolean {
  return severityRank(problem.severity) > 0 && problem.repaired !== true;
}

/**
 * Codes that are one incident with another: a role locked out after refused
 * logins is the same refusal, worse; it resolves only when a login succeeds.
 */
const SAME_INCIDENT: Readonly<Partial<Record<Problem['code'], Problem['code']>>> = {
  'relogin-locked-out': 'relogin-bad-credentials',
};

export function incidentKey(problem: Problem): string {
  const code = SAME_INCIDENT[problem.code] ?? problem.code;
  return problem.lease === undefined ? code : `${code}/${problem.lease}`;
}

/** What an open incident is about: the code it opened under and its lease. */
export interface OpenedAs {
  readonly code: ProblemCode;
  readonly lease?: string;
}

/**
 * The code and lease an open incident was opened under, as stored with it;
 * for an item stored before they were kept, read from its key (the one
 * place that format is read back).
 */
export function openedAs(key: string, incident: OpenIncident): OpenedAs {
  if (incident.code !== undefined) {
    return {
      code: incident.code as ProblemCode,
      ...(incident.lease === undefined ? {} : { lease: incident.lease }),
    };
  }
  const [code, lease] = key.split('/') as [ProblemCode, string | undefined];
  return { code, ...(lease === undefined ? {} : { lease }) };
}

export function planIncidents(
  scope: string,
  stored: IncidentItem | undefined,
  problems: readonly Problem[],
  nowMs: number,
  reminderMs: number,
  /** False when this run could not check the scope fully (e.g. its Vault was down): nothing resolves. */
  resolveAbsent = true,
  /** The incident a problem belongs to; default its code, with `/<lease>` for a lease's. */
  keyOf: (problem: Problem) => string = incidentKey,
): IncidentPlan {
  const now = new Date(nowMs).toISOString();
  // The worst problem per key: two problems of one code on one lease are one incident.
  const current = new Map<string, Problem>();
  for (const problem of problems.filter(isIncident)) {
    const key = keyOf(problem);
    const earlier = current.get(key);
    if (earlier === undefined || severityRank(problem.severity) > severityRank(earlier.severity)) {
      current.set(key, problem);
    }
  }
  const open = stored?.incidents ?? {};
  const transitions: Transition[] = [];
  const next: Record<string, OpenIncident> = {};
  for (const [key, problem] of [...current].sort(([a], [b]) => a.localeCompare(b))) {
    const previous = open[key];
    if (previous === undefined) {
      transitions.push({ key, state: IncidentState.Opened, problem });
      next[key] = {
        code: SAME_INCIDENT[problem.code] ?? problem.code,
        ...(problem.lease === undefined ? {} : { lease: problem.lease }),
        severity: problem.severity,
        openedAt: now,
        lastPublishedAt: now,
      };
    } else if (severityRank(problem.severity) > severityRank(previous.severity)) {
      transitions.push({ key, state: IncidentState.Worsened, problem, previous });
      next[key] = { ...previous, severity: problem.severity, lastPublishedAt: now };
    } else if (nowMs - Date.parse(previous.lastPublishedAt) >= reminderMs) {
      transitions.push({ key, state: IncidentState.Reminder, problem, previous });
      next[key] = { ...previous, lastPublishedAt: now };
    } else {
      // Quiet: the same or a lower severity, told recently. A lower severity is kept
      // as told, so falling back and rising again is not a new message each time.
      next[key] = previous;
    }
  }
  for (const key of Object.keys(open).sort()) {
    const previous = open[key];
    if (previous === undefined || current.has(key)) continue;
    if (resolveAbsent) {
      transitions.push({ key, state: IncidentState.Resolved, previous });
    } else {
      next[key] = previous;
    }
  }
  if (transitions.length === 0) return { transitions, next: undefined };
  return {
    transitions,
    next: { scope, incidents: next, version: (stored?.version ?? 0) + 1 },
  };
}
