/**
 * The lifetime invariant on the local stack: after a real run, every
 * credential the renewer keeps outlives the horizon (two schedule intervals
 * plus a minute; 180 s on the tests' 1-minute schedule), or a published alert
 * says when it dies, why, and the fix. Fresh tokens and leases are extended
 * with the increment as soon as they are issued.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  eventsOf,
  HOUR,
  healthyRole,
  lookupSelf,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

let scenario: Scenario;
beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'lt');
});

/** A target whose stored token has expired; new tokens get `role`'s settings. */
async function expiredTarget(name: string, role: { tokenTtl: number; tokenMaxTtl: number }) {
  const { fleet } = scenario;
  const target = await fleet.target(name, { tokenTtl: 2, tokenMaxTtl: 2 });
  await fleet.vault('POST', `auth/${fleet.approleMount}/role/${name}`, {
    token_ttl: role.tokenTtl,
    token_max_ttl: role.tokenMaxTtl,
  });
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  return target;
}

async function leaseTtl(leaseId: string): Promise<number> {
  const answer = (await scenario.fleet.vault('POST', 'sys/leases/lookup', {
    lease_id: leaseId,
  })) as { data: { ttl: number } };
  return answer.data.ttl;
}

describe('fresh credentials are extended at once', () => {
  it('renews a new token issued for less than the horizon up to the increment, and stores the TTL granted', async () => {
    // Prepare: the role issues 60 s tokens that may live an hour
    const { fleet, alerts } = scenario;
    const target = await expiredTarget('short-ttl', { tokenTtl: 60, tokenMaxTtl: HOUR });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess: the default increment is 3600 s, capped by the role's hour
    const result = targetReport(report, 'short-ttl');
    expect(result.token).toMatchObject({ outcome: 'relogged-in', reason: 'invalid' });
    expect(result.token.ttlSeconds).toBeGreaterThan(3_000);
    const stored = await fleet.secretJson(target.tokenSecret);
    expect(stored.ttl_seconds_at_issue).toBeGreaterThan(3_000);
    const fresh = await lookupSelf(fleet, String(stored.token));
    expect(fresh.ok && Number(fresh.data.ttl)).toBeGreaterThan(3_000);
    // The expired token is worth an alert; the fresh one, which lasts, is not.
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-invalid short-ttl']);
  });

  it('renews a new lease issued for less than the horizon up to the increment', async () => {
    // Prepare: the database role issues 60 s leases that may live an hour; one is gone
    const { fleet, alerts } = scenario;
    const target = await fleet.target('short-lease-ttl', healthyRole, {
      leases: [{ name: 'db', defaultTtl: 60, maxTtl: HOUR }],
    });
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: target.leases[0]?.leaseId });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    const [lease] = targetReport(report, 'short-lease-ttl').leases;
    expect(lease).toMatchObject({ name: 'db', outcome: 'reissued', reason: 'gone' });
    expect(lease?.ttlSeconds).toBeGreaterThan(3_000);
    const stored = await fleet.secretJson(target.leases[0]?.secret ?? '');
    expect(stored.lease_duration).toBeGreaterThan(3_000);
    expect(await leaseTtl(String(stored.lease_id))).toBeGreaterThan(3_000);
    expect(eventsOf(await alerts.receive(1))).toEqual([
      'WARNING lease-orphaned short-lease-ttl/db',
    ]);
  });
});

describe('a credential that cannot outlive the horizon is announced', () => {
  it('says CRITICAL when the new token dies before the next run, with the role fix', async () => {
    // Prepare: the role caps every token at 50 s, less than the 60 s schedule
    const { fleet, alerts } = scenario;
    const target = await expiredTarget('doomed', { tokenTtl: 50, tokenMaxTtl: 50 });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    expect(targetReport(report, 'doomed')).toMatchObject({
      status: 'failed',
      token: { outcome: 'relogged-in' },
    });
    const messages = await alerts.receive(2);
    expect(eventsOf(messages)).toEqual([
      'CRITICAL token-ttl-below-horizon doomed',
      'ERROR token-invalid doomed',
    ]);
    const short = messages.find((m) => m.attributes.event === 'token-ttl-below-horizon');
    expect(short?.body).toMatch(/before the next run/);
    expect(short?.body).toContain(`vault write auth/${fleet.approleMount}/role/doomed`);
  });
});

describe('the AppRole secret_id is tracked every run', () => {
  it('warns days ahead when the stored secret_id expires within secretIdWarnDays', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('sid-soon', { ...healthyRole, secretIdTtl: 2 * 86_400 });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    const result = targetReport(report, 'sid-soon');
    expect(result.status).toBe('ok');
    expect(result.secretIdExpiresInSeconds).toBeGreaterThan(2 * 86_400 - 300);
    expect(report.summary.soonestSecretIdExpirySeconds).toBe(result.secretIdExpiresInSeconds);
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['WARNING secret-id-expiring sid-soon']);
    expect(messages[0]?.body).toContain(
      `vault write -f auth/${fleet.approleMount}/role/sid-soon/secret-id`,
    );
  });

  it('says CRITICAL when Vault no longer knows the stored secret_id: the next login would fail', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('sid-gone', healthyRole, {
      storedSecretId: '00000000-0000-4000-8000-000000000000',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    // The token itself is fine: nothing else changed.
    expect(targetReport(report, 'sid-gone')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'renewed' },
    });
    expect(eventsOf(await alerts.receive(1))).toEqual(['CRITICAL secret-id-expiring sid-gone']);
  });

  it('says when the policy does not let the token look its secret_id up, with the line to add', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('sid-blind', {
      ...healthyRole,
      policy: 'path "auth/token/renew-self" { capabilities = ["update"] }',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'sid-blind').status).toBe('ok');
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['WARNING secret-id-untracked sid-blind']);
    expect(messages[0]?.body).toContain(
      `path "auth/${fleet.approleMount}/role/sid-blind/secret-id/lookup" { capabilities = ["update"] }`,
    );
  });
});

describe('a dry run that predicts a login', () => {
  it('looks the secret_id up and says the predicted login would fail', async () => {
    // Prepare: a stored token that cannot be renewed (the real run would log in)
    // but may look the role's secret_id up; the stored secret_id is wrong.
    const { fleet, alerts } = scenario;
    const target = await fleet.target('dry-login', healthyRole, {
      storedSecretId: '00000000-0000-4000-8000-000000000000',
    });
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: [`${fleet.prefix}-dry-login`],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    await fleet.putSecret(target.tokenSecret, JSON.stringify({ token: created.auth.client_token }));
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke({ dryRun: true, notify: true });

    // Assess
    expect(targetReport(report, 'dry-login')).toMatchObject({
      status: 'failed',
      token: { outcome: 'would-relogin', reason: 'not-renewable' },
    });
    const messages = await alerts.receive(2);
    expect(eventsOf(messages)).toEqual([
      'CRITICAL secret-id-expiring dry-login',
      'WARNING token-not-renewable dry-login',
    ]);
    expect(messages.every((m) => m.subject.endsWith('(dry run)'))).toBe(true);
    expect(messages.find((m) => m.attributes.event === 'token-not-renewable')?.body).toContain(
      'A real run would log in again.',
    );
  });
});
