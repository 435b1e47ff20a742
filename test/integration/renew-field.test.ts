/**
 * A real fleet's conditions on the local stack: a secret_id Vault refuses
 * (never tried again until it changes, so the role is never locked out), and
 * a slow Vault with a deadline too short for the fleet (the run finishes what
 * fits, says what it left, tells it once, and the next run starts there).
 */

import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../functions/renewal/report.js';
import { type FaultProxy, startFaultProxy } from '../support/fault-proxy.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  eventsOf,
  healthyRole,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const INTERVAL_MS = 15 * 60_000;

let scenario: Scenario;
let table: string;
let proxy: FaultProxy;
beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'field');
  table = await scenario.fleet.incidentTable();
  proxy = await startFaultProxy(scenario.fleet.env.VAULT_ADDR);
});
afterAll(async () => {
  await proxy?.close();
});

describe('a secret_id Vault refuses (8: secret_id)', () => {
  it('is tried once, not every run: the incident stays open, the role is never locked out, and a new version is tried at once', async () => {
    // Prepare: a dead token and a stored secret_id Vault does not know
    const { fleet, alerts } = scenario;
    const target = await fleet.target('refused', healthyRole, {
      storedSecretId: '6f1e0c3a-0000-4000-8000-000000000000',
    });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const config = configWith(fleet.env, [fleet.targetConfig(target)], {
      schedule: { intervalMinutes: 15 },
      vault: { address: proxy.url },
    });
    let offsetMs = 0;
    const renew = scenario.harness(config, {
      incidentTable: table,
      now: () => Date.now() + offsetMs,
    });
    proxy.clearRequests();
    const logins = () => proxy.requests.filter((r) => r.path.endsWith('/login')).length;

    // Act: six scheduled runs, fifteen minutes apart
    const reports: RunReport[] = [];
    for (let run = 0; run < 6; run += 1) {
      offsetMs = run * INTERVAL_MS;
      reports.push(await renew.invoke(SCHEDULED_EVENT));
    }

    // Assess: one refused login in six runs, told once, never RESOLVED
    expect(logins()).toBe(1);
    expect(eventsOf(await alerts.receive(1))).toEqual(['CRITICAL relogin-bad-credentials refused']);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
    const last = reports[5] as RunReport;
    expect(targetReport(last, 'refused')).toMatchObject({
      status: 'failed',
      token: { outcome: 'failed', reason: 'invalid' },
    });
    expect(last.carriedOver?.refusedLogin).toEqual({ count: 1, targets: ['refused'] });
    const held = targetReport(last, 'refused').problems.find(
      (p) => p.code === 'relogin-bad-credentials',
    );
    expect(held?.summary).toMatch(
      /^Not logged in again: Vault refused this AppRole secret version/,
    );
    // Not locked out: the workload's own login with the real secret_id still works.
    await expect(fleet.login(target.roleId, target.secretId)).resolves.toMatchObject({
      token: expect.any(String),
    });

    // Act: the operator stores a working secret_id (a new version)
    await fleet.putSecret(
      target.approleSecret,
      JSON.stringify({ role_id: target.roleId, secret_id: target.secretId }),
    );
    offsetMs = 6 * INTERVAL_MS;
    const healed = await renew.invoke(SCHEDULED_EVENT);

    // Assess: logged in at once with it; the refusal resolves, and the dead token it
    // replaced is told as what happened
    expect(logins()).toBe(2);
    expect(targetReport(healed, 'refused').token).toMatchObject({ outcome: 'relogged-in' });
    expect(healed.carriedOver).toBeUndefined();
    expect(eventsOf(await alerts.receive(2))).toEqual([
      'ERROR token-invalid refused',
      'OK relogin-bad-credentials refused',
    ]);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
  }, 120_000);
});

describe('a slow Vault and a deadline too short for the fleet (9: slow)', () => {
  it('finishes what fits, says what it left, tells it once, and starts the next run with what was left', async () => {
    // Prepare: 300 targets, 100 ms per Vault request, two workers at most
    const { fleet, alerts } = scenario;
    await fleet.role('slow', healthyRole);
    const seed = pLimit(8);
    const targets = await Promise.all(
      Array.from({ length: 300 }, (_, i) => seed(() => fleet.target(`slow-${i}`, healthyRole))),
    );
    const config = configWith(
      fleet.env,
      targets.map((t) => fleet.targetConfig(t)),
      {
        schedule: { intervalMinutes: 15 },
        concurrency: 2,
        pacing: { maxConcurrency: 2 },
        vault: { address: proxy.url },
      },
    );
    const slow = proxy.addFault({ latencyMs: 100 });
    let offsetMs = 0;
    const renew = scenario.harness(config, {
      incidentTable: table,
      now: () => Date.now() + offsetMs,
    });

    // Act: a run with 14 s left (5 s kept back to publish and return)
    const first = await renew.invoke(SCHEDULED_EVENT, 14_000);

    // Assess: it reached some, left the rest, and said so once
    const left = first.targets.filter((t) => t.status === 'skipped').map((t) => t.target);
    expect(left.length).toBeGreaterThan(100);
    expect(first.summary.ok).toBeGreaterThan(10);
    expect(first.carriedOver?.deadline).toEqual({ count: left.length, targets: left.slice(0, 10) });
    const told = await alerts.receive(1);
    expect(eventsOf(told)).toEqual(['ERROR deadline-skipped run:deadline']);
    expect(told[0]?.body).toContain(`for ${left.length} targets`);
    expect(await alerts.receive(0, 1_500)).toEqual([]);

    // Act: the next run, as short
    offsetMs = INTERVAL_MS;
    const second = await renew.invoke(SCHEDULED_EVENT, 14_000);

    // Assess: it started with what the first left, and told nothing new
    const reachedFirst = second.targets.slice(0, 20).map((t) => t.target);
    expect(reachedFirst).toEqual(left.slice(0, 20));
    expect(second.targets.filter((t) => t.status === 'ok').map((t) => t.target)).toEqual(
      expect.arrayContaining(left.slice(0, 20)),
    );
    expect(await alerts.receive(0, 1_500)).toEqual([]);

    // Act: Vault fast again, a run with time for all
    slow.remove();
    offsetMs = 2 * INTERVAL_MS;
    const third = await renew.invoke(SCHEDULED_EVENT, 120_000);

    // Assess: nothing left, and the deadline incident resolves
    expect(third.summary).toMatchObject({ targets: 300, ok: 300, skipped: 0 });
    expect(third.carriedOver).toBeUndefined();
    expect(eventsOf(await alerts.receive(1))).toEqual(['OK deadline-skipped run:deadline']);
  }, 300_000);
});
