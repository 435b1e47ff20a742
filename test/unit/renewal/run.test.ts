import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../functions/config/types.js';
import { Severity } from '../../../functions/renewal/notifier-port.js';
import { ProblemCode } from '../../../functions/renewal/problems.js';
import { chunkSecretIds, secretIdsOf, shouldPublish } from '../../../functions/renewal/run.js';

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

describe('chunkSecretIds', () => {
  it('packs secret ids 20 per BatchGetSecretValue call across target boundaries, in order', () => {
    const targets = Array.from({ length: 10 }, (_, i) => target(`t${i}`, 1)); // 3 ids each
    const chunks = chunkSecretIds(targets);
    expect(chunks.map((c) => c.length)).toEqual([20, 10]);
    expect(chunks.flat()).toEqual(targets.flatMap(secretIdsOf));
  });

  it('reads a secret shared by two targets once', () => {
    const a = target('a', 0);
    const b = { ...target('b', 0), approle: { secretId: 'a/approle', mount: 'approle' } };
    expect(chunkSecretIds([a, b]).flat()).toEqual(['a/token', 'a/approle', 'b/token']);
  });

  it('returns no chunk for no target', () => {
    expect(chunkSecretIds([])).toEqual([]);
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
