import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../functions/config/types.js';
import { Severity } from '../../../functions/core/notifier-port.js';
import { ProblemCode } from '../../../functions/core/problems.js';
import {
  chunkSecretIds,
  readAllSecrets,
  SecretReads,
  secretIdsOf,
} from '../../../functions/core/secret-reads.js';
import { shouldPublish } from '../../../functions/renewal/run.js';
import { targetConfig } from '../../support/targets.js';

function target(
  name: string,
  leases: number,
  notify = { onRelogin: false, onReissue: false },
): TargetConfig {
  return targetConfig(name, { leases, notify });
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

describe('SecretReads', () => {
  it('hands each target its secrets and lets go of a call once its last target is done', async () => {
    const targets = Array.from({ length: 10 }, (_, i) => target(`t${i}`, 1));
    const calls: string[][] = [];
    const reads = new SecretReads(targets, async (ids) => {
      calls.push([...ids]);
      return new Map(
        ids.map(
          (id) =>
            [id, { ok: true, secret: { secretId: id, value: '{}', versionId: 'v' } }] as const,
        ),
      );
    });
    const t6 = targets[6] as TargetConfig; // its secrets straddle the two calls
    const lookup = await reads.forTarget(t6);
    expect(calls.map((c) => c.length)).toEqual([20, 10]);
    expect(secretIdsOf(t6).map((id) => lookup?.get(id)?.ok)).toEqual([true, true, true]);
    for (const t of targets.slice(0, 7)) reads.release(t);
    // The first call served t0..t6 only: gone now; the second still serves t7..t9.
    expect(await reads.forTarget(targets[8] as TargetConfig)).toBeDefined();
  });

  it('gives no secrets when the call holding them was not made (deadline)', async () => {
    const reads = new SecretReads([target('a', 0)], async () => undefined);
    expect(await reads.forTarget(target('a', 0))).toBeUndefined();
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

describe('readAllSecrets', () => {
  it('reads every secret in calls of at most 20 ids, never more calls in flight than asked', async () => {
    const targets = Array.from({ length: 30 }, (_, i) => target(`t${i}`, 1)); // 90 ids
    let inFlight = 0;
    let maxInFlight = 0;
    const sizes: number[] = [];
    const all = await readAllSecrets(
      targets,
      async (ids) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        sizes.push(ids.length);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight -= 1;
        return new Map(
          ids.map(
            (id) =>
              [id, { ok: true, secret: { secretId: id, value: '{}', versionId: 'v' } }] as const,
          ),
        );
      },
      3,
    );
    expect(sizes).toEqual([20, 20, 20, 20, 10]);
    expect(maxInFlight).toBe(3);
    expect([...all.keys()]).toEqual(targets.flatMap(secretIdsOf));
  });
});
