import { describe, expect, it } from 'vitest';
import type { IncidentItem } from '../../../functions/core/incident-port.js';
import { incidentScopesOf, readIncidentItems } from '../../../functions/telling/incident-reads.js';
import { targetConfig } from '../../support/targets.js';

const rules = { AutomaticallyAfterDays: 30 };

describe('where a target keeps its incidents', () => {
  it("is its renewals' scope, plus one scope per rotated secret", () => {
    expect(incidentScopesOf(targetConfig('app'))).toEqual([{ scope: 'target#app' }]);
    expect(incidentScopesOf(targetConfig('app', { rotation: { approle: rules } }))).toEqual([
      { scope: 'target#app' },
      { scope: 'rotation#app/approle', rotation: 'approle' },
    ]);
    expect(
      incidentScopesOf(targetConfig('app', { rotation: { approle: rules, token: rules } })).map(
        (s) => s.scope,
      ),
    ).toEqual(['target#app', 'rotation#app/approle', 'rotation#app/token']);
  });

  it('is read 100 scopes a call, and a failed call fails the read', async () => {
    const calls: number[] = [];
    const items = await readIncidentItems(
      {
        async readBatch(scopes) {
          calls.push(scopes.length);
          return new Map<string, IncidentItem>(
            scopes.map((scope) => [scope, { scope, incidents: {}, version: 1 }]),
          );
        },
      },
      Array.from({ length: 230 }, (_, i) => `target#t${i}`),
    );
    expect(calls).toEqual([100, 100, 30]);
    expect(items.size).toBe(230);
    await expect(
      readIncidentItems(
        {
          readBatch: async () => {
            throw new Error('ResourceNotFoundException: no table');
          },
        },
        ['target#a'],
      ),
    ).rejects.toThrow('ResourceNotFoundException');
  });
});
