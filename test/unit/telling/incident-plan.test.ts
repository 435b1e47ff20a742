import { describe, expect, it } from 'vitest';
import type { IncidentItem } from '../../../functions/core/incident-port.js';
import type { Problem } from '../../../functions/core/problems.js';
import { planIncidents } from '../../../functions/telling/incident-plan.js';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-12-01T00:00:00Z');
const problem = (
  code: Problem['code'],
  severity: Problem['severity'],
  lease?: string,
): Problem => ({
  code,
  severity,
  summary: 's',
  ...(lease === undefined ? {} : { lease }),
});
const plan = (stored: IncidentItem | undefined, problems: Problem[], nowMs = T0) =>
  planIncidents('target#app', stored, problems, nowMs, 24 * HOUR);

describe('planIncidents', () => {
  it('opens, stays quiet, reminds after reminderHours, worsens and resolves', () => {
    const opened = plan(undefined, [problem('token-renew-denied', 'WARNING')]);
    expect(opened.transitions.map((t) => t.state)).toEqual(['opened']);
    expect(opened.next?.version).toBe(1);

    const quiet = plan(opened.next, [problem('token-renew-denied', 'WARNING')], T0 + HOUR);
    expect(quiet).toEqual({ transitions: [], next: undefined });

    const reminded = plan(opened.next, [problem('token-renew-denied', 'WARNING')], T0 + 24 * HOUR);
    expect(reminded.transitions.map((t) => t.state)).toEqual(['reminder']);
    expect(reminded.next?.incidents['token-renew-denied']?.openedAt).toBe(
      new Date(T0).toISOString(),
    );

    const worse = plan(opened.next, [problem('token-renew-denied', 'CRITICAL')], T0 + HOUR);
    expect(worse.transitions.map((t) => t.state)).toEqual(['worsened']);

    const lower = plan(worse.next, [problem('token-renew-denied', 'WARNING')], T0 + 2 * HOUR);
    expect(lower.transitions).toEqual([]);

    const resolved = plan(worse.next, [], T0 + 3 * HOUR);
    expect(resolved.transitions.map((t) => `${t.key} ${t.state}`)).toEqual([
      'token-renew-denied resolved',
    ]);
    expect(resolved.next?.incidents).toEqual({});
  });

  it('keys lease incidents by lease, ignores INFO, and writes nothing for a healthy target', () => {
    const both = plan(undefined, [
      problem('lease-renew-failed', 'ERROR', 'db'),
      problem('lease-renew-failed', 'ERROR', 'db2'),
      problem('relogin', 'INFO'),
    ]);
    expect(both.transitions.map((t) => t.key)).toEqual([
      'lease-renew-failed/db',
      'lease-renew-failed/db2',
    ]);
    expect(plan(undefined, [problem('relogin', 'INFO')])).toEqual({
      transitions: [],
      next: undefined,
    });
    expect(plan(undefined, [])).toEqual({ transitions: [], next: undefined });
  });
});
