/**
 * The events the diagnose function accepts: the JSON test events an operator
 * types in the Lambda console or passes to `npm run diagnose`. Anything else
 * is refused with an error that lists what is accepted.
 */

import * as z from 'zod/mini';
import '../config/zod-locale.js';

export const ACCEPTED_DIAGNOSE_EVENTS = [
  '{} (diagnose every target, read-only)',
  '{"targets": ["<name>", ...]} (these targets only)',
  '{"login": true} (also test a real AppRole login per target: it spends a secret_id use, and a failure counts toward lockout; the test token is revoked)',
  '{"notify": true} (also publish one summary message to the SNS topic)',
  'any combination of "targets", "login" and "notify"',
] as const;

export class InvalidDiagnoseEventError extends Error {
  public constructor(problem: string) {
    super(`${problem}. Accepted events: ${ACCEPTED_DIAGNOSE_EVENTS.join('; ')}.`);
    this.name = 'InvalidDiagnoseEventError';
  }
}

export interface DiagnoseEvent {
  readonly targets?: readonly string[];
  readonly login: boolean;
  readonly notify: boolean;
}

const diagnoseEvent = z.strictObject({
  targets: z.optional(z.array(z.string().check(z.minLength(1))).check(z.minLength(1))),
  login: z.optional(z.boolean()),
  notify: z.optional(z.boolean()),
});

/** A key as typed when it looks like one; anything else (a pasted value?) is not repeated. */
function keyName(key: string): string {
  return /^[A-Za-z][A-Za-z0-9_-]{0,19}$/.test(key)
    ? JSON.stringify(key)
    : '(a key that is not a name)';
}

/**
 * One schema problem in words, by key and expected type, never the value sent.
 * Worded here: zod/mini ships no message locale, so its own messages read
 * "Invalid input" in the bundle.
 */
function describeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length === 0 ? 'event' : issue.path.map(String).join('.');
  switch (issue.code) {
    case 'unrecognized_keys':
      return `${where}: unknown key(s) ${issue.keys.map(keyName).join(', ')}`;
    case 'invalid_type':
      return `${where}: expected ${issue.expected === 'object' ? 'a JSON object' : issue.expected}`;
    case 'too_small':
      return `${where}: must not be empty`;
    default:
      return `${where}: invalid`;
  }
}

/** Parses an incoming event; `knownTargets` are the configured names. */
export function parseDiagnoseEvent(event: unknown, knownTargets: readonly string[]): DiagnoseEvent {
  const parsed = z.safeParse(diagnoseEvent, event);
  if (!parsed.success) {
    throw new InvalidDiagnoseEventError(
      `Unrecognised event (${parsed.error.issues.map(describeIssue).join('; ')})`,
    );
  }
  const { targets, login = false, notify = false } = parsed.data;
  if (targets !== undefined) {
    // Named by position, not repeated: a value pasted by mistake (a secret_id is a UUID,
    // which looks like a name) must not travel on in an error.
    const unknown = targets.flatMap((name, i) =>
      knownTargets.includes(name) ? [] : [`targets[${i}]`],
    );
    if (unknown.length > 0) {
      const known = knownTargets.slice(0, 20).join(', ');
      throw new InvalidDiagnoseEventError(
        `Not a configured target: ${unknown.join(', ')} (configured: ${known}${knownTargets.length > 20 ? ', ...' : ''})`,
      );
    }
  }
  return {
    ...(targets === undefined ? {} : { targets: [...new Set(targets)] }),
    login,
    notify,
  };
}
