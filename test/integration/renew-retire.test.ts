/**
 * Replaced credentials retired, on the local stack: a fleet that logs in
 * again on every run (a role whose max TTL is inside the horizon) keeps
 * Vault's tokens and the database's leases flat, because each run revokes
 * the token the last login replaced (`retireReplaced`), with the leases it
 * still held; and nothing is revoked when the config turns it off.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  HOUR,
  lookupSelf,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

let scenario: Scenario;
let table: string;
beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'ret');
  table = await scenario.fleet.incidentTable();
});

/** The leases Vault holds under a re-issue path (LIST needs sudo: the stack's root token). */
async function liveLeases(path: string): Promise<number> {
  const answer = (await scenario.fleet
    .vault('GET', `sys/leases/lookup/${path}?list=true`)
    .catch(() => ({ data: { keys: [] } }))) as { data?: { keys?: string[] } };
  return answer.data?.keys?.length ?? 0;
}

describe('replaced credentials retired', () => {
  it("keeps the target's live tokens and leases flat over 10 runs that each log in again", async () => {
    // Prepare: every run logs in again (max TTL 150 s, inside the 3-minute horizon of a 1-minute schedule)
    const { fleet } = scenario;
    const target = await fleet.target(
      'churn',
      { tokenTtl: 60, tokenMaxTtl: 150 },
      { leases: [{ name: 'db', defaultTtl: HOUR, maxTtl: 24 * HOUR }] },
    );
    const reissuePath = target.leases[0]?.reissuePath ?? '';
    const config = configWith(fleet.env, [fleet.targetConfig(target)], {
      retireReplaced: { afterMinutes: 0 },
    });
    const renew = scenario.harness(config, { incidentTable: table });
    const tokens: string[] = [target.token];
    const leaseCounts: number[] = [];
    let retired = 0;

    // Act
    for (let run = 1; run <= 10; run += 1) {
      const report = await renew.invoke(SCHEDULED_EVENT);
      expect(report.targets[0]?.token.outcome, `run ${run}`).toBe('relogged-in');
      if (report.targets[0]?.retiredToken === true) retired += 1;
      tokens.push(String((await fleet.secretJson(target.tokenSecret)).token));
      leaseCounts.push(await liveLeases(reissuePath));
    }

    // Assess: 11 tokens were issued; only the current one and the one its login
    // replaced this run (retired by the next run) are alive
    const alive = [];
    for (const token of tokens) alive.push((await lookupSelf(fleet, token)).ok);
    expect(alive).toEqual([...Array(9).fill(false), true, true]);
    expect(retired).toBe(9);
    // Leases: the new one and the one still held by the token the next run retires
    expect(Math.max(...leaseCounts)).toBeLessThanOrEqual(2);
    expect(leaseCounts.at(-1)).toBe(2);
  }, 120_000);

  it('retires nothing when retireReplaced is false', async () => {
    const { fleet } = scenario;
    const target = await fleet.target(
      'kept',
      { tokenTtl: 60, tokenMaxTtl: 150 },
      { leases: [{ name: 'db', defaultTtl: HOUR, maxTtl: 24 * HOUR }] },
    );
    const off = configWith(fleet.env, [fleet.targetConfig(target)], { retireReplaced: false });
    const renew = scenario.harness(off, { incidentTable: table });

    for (let run = 1; run <= 3; run += 1) await renew.invoke(SCHEDULED_EVENT);

    expect((await lookupSelf(fleet, target.token)).ok).toBe(true);
  }, 60_000);
});
