import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../functions/config/types.js';
import { Severity } from '../../../functions/renewal/notifier-port.js';
import { ProblemCode } from '../../../functions/renewal/problems.js';
import { pagesOf, secretIdsOf, shouldPublish } from '../../../functions/renewal/run.js';

function target(
  name: string,
  leases: number,
  notify = { onRelogin: false, onReissue: false },
): TargetConfig {
  return {
    name,
    vault: { address: 'http://127.0.0.1:8200' },
    tokenSecretId: `${name}/token`,
    approle: { secretId: `${name}/approle`, mount: 'approle' },
    incrementSeconds: 3600,
    leases: Array.from({ length: leases }, (_, i) => ({
      name: `l${i}`,
      secretId: `${name}/l${i}`,
      reissuePath: `database/creds/${name}`,
      incrementSeconds: 3600,
    })),
    notify,
  };
}

describe('pagesOf', () => {
  it('fills each BatchGetSecretValue call with up to 20 secret ids, keeping target order', () => {
    const targets = Array.from({ length: 10 }, (_, i) => target(`t${i}`, 1)); // 3 ids each
    const pages = pagesOf(targets);
    expect(pages.map((p) => p.length)).toEqual([6, 4]);
    expect(pages.flat().map((t) => t.name)).toEqual(targets.map((t) => t.name));
    for (const page of pages) {
      expect(page.flatMap(secretIdsOf).length).toBeLessThanOrEqual(20);
    }
  });

  it('gives a target with more than 20 secrets a page of its own', () => {
    const pages = pagesOf([target('a', 1), target('big', 25), target('b', 1)]);
    expect(pages.map((p) => p.map((t) => t.name))).toEqual([['a'], ['big'], ['b']]);
  });

  it('returns no page for no target', () => {
    expect(pagesOf([])).toEqual([]);
  });
});

describe('shouldPublish', () => {
  const problem = (code: ProblemCode, severity: Severity) => ({ code, severity, summary: 's' });

  it('publishes every warning, error and critical problem', () => {
    for (const severity of [Severity.Warning, Severity.Error, Severity.Critical]) {
      expect(shouldPublish(problem(ProblemCode.TokenInvalid, severity), target('a', 0))).toBe(true);
    }
  });

  it('publishes re-login and re-issue notes only when the target asks for them', () => {
    const quiet = target('a', 0);
    const chatty = target('b', 0, { onRelogin: true, onReissue: true });
    const relogin = problem(ProblemCode.Relogin, Severity.Info);
    const reissued = problem(ProblemCode.LeaseReissued, Severity.Info);
    expect([shouldPublish(relogin, quiet), shouldPublish(reissued, quiet)]).toEqual([false, false]);
    expect([shouldPublish(relogin, chatty), shouldPublish(reissued, chatty)]).toEqual([true, true]);
  });
});
