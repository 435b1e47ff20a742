/**
 * The real renew handler against the local stack (OpenBao, moto, PostgreSQL),
 * one scenario per failure mode of design.md. Each asserts Secrets Manager
 * contents, Vault state, the exact SNS messages a subscribed queue received,
 * and for database leases that the stored credentials log in.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  canLogin,
  configWith,
  createScenario,
  dbLease,
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
  scenario = await createScenario(stackEnv(), 'fm');
});

describe('renew handler on the local stack', () => {
  it('renews a healthy token and lease and writes nothing', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('healthy', healthyRole, { leases: [dbLease] });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));
    const before = await lookupSelf(fleet, target.token);
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    const result = targetReport(report, 'healthy');
    expect(result).toMatchObject({ status: 'ok', writes: 0, token: { outcome: 'renewed' } });
    expect(result.leases).toMatchObject([{ name: 'db', outcome: 'renewed' }]);
    const after = await lookupSelf(fleet, target.token);
    expect(before.ok && after.ok).toBe(true);
    if (after.ok && before.ok) {
      expect(after.data.last_renewal_time).toBeDefined();
      expect(before.data.last_renewal_time).toBeUndefined();
    }
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect(await fleet.versionCount(target.leases[0]?.secret ?? '')).toBe(1);
    expect(await fleet.secretJson(target.tokenSecret)).toEqual({
      token: target.token,
      owner: 'team-x',
    });
    expect(await alerts.receive(0, 1_000)).toEqual([]);
  });

  it('logs in again when the stored token expired, and re-issues its leases (1: expired)', async () => {
    // Prepare: a token that expires before anyone renews it
    const { fleet, alerts } = scenario;
    const target = await fleet.target(
      'expired',
      { tokenTtl: 2, tokenMaxTtl: 2 },
      { leases: [dbLease] },
    );
    await fleet.vault('POST', `auth/${fleet.approleMount}/role/expired`, {
      token_ttl: HOUR,
      token_max_ttl: 4 * HOUR,
    });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const oldLease = target.leases[0];
    expect(
      await canLogin(fleet.env.DATABASE_URL, oldLease?.username ?? '', oldLease?.password ?? ''),
    ).toBe(false);
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    // The status is the state the run left it in (repaired); the message says what happened.
    const result = targetReport(report, 'expired');
    expect(result).toMatchObject({
      status: 'changed',
      writes: 2,
      token: { outcome: 'relogged-in', reason: 'invalid' },
    });
    expect(result.leases).toMatchObject([
      { name: 'db', outcome: 'reissued', reason: 'token-replaced' },
    ]);
    const stored = await fleet.secretJson(target.tokenSecret);
    expect(stored.owner).toBe('team-x');
    expect(stored.token).not.toBe(target.token);
    const fresh = await lookupSelf(fleet, String(stored.token));
    expect(fresh.ok).toBe(true);
    expect(stored.accessor).toBe(fresh.ok ? fresh.data.accessor : undefined);
    const lease = await fleet.secretJson(oldLease?.secret ?? '');
    expect(lease.lease_id).not.toBe(oldLease?.leaseId);
    expect(lease.token_accessor).toBe(stored.accessor);
    const data = lease.data as { username: string; password: string };
    expect(await canLogin(fleet.env.DATABASE_URL, data.username, data.password)).toBe(true);
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-invalid expired']);
  });

  it('never renews or replaces a stored root token, and reports it (2: root)', async () => {
    const { fleet, alerts } = scenario;
    const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
      auth: { client_token: string };
    };
    const target = await fleet.target('rooted', healthyRole, {
      storedToken: root.auth.client_token,
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'rooted')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'failed', reason: 'root' },
    });
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect((await fleet.secretJson(target.tokenSecret)).token).toBe(root.auth.client_token);
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['ERROR token-root rooted']);
    expect(messages[0]?.body).toContain('npm run vault:bootstrap -- rooted');
  });

  it('logs in again when the stored token is not renewable (3: non-renewable)', async () => {
    const { fleet, alerts } = scenario;
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const target = await fleet.target('fixed', healthyRole, {
      storedToken: created.auth.client_token,
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'fixed')).toMatchObject({
      token: { outcome: 'relogged-in', reason: 'not-renewable' },
      writes: 1,
    });
    const stored = await fleet.secretJson(target.tokenSecret);
    const fresh = await lookupSelf(fleet, String(stored.token));
    expect(fresh.ok && fresh.data.renewable).toBe(true);
    // The old token was not revoked: its consumers still depend on it.
    expect((await lookupSelf(fleet, created.auth.client_token)).ok).toBe(true);
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['WARNING token-not-renewable fixed']);
    expect(messages[0]?.body).toContain(
      `vault write auth/${fleet.approleMount}/role/fixed token_type=service`,
    );
  });

  it('keeps a stored batch token while it outlives the horizon, and says nothing (3: batch)', async () => {
    const { fleet, alerts } = scenario;
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      type: 'batch',
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const target = await fleet.target('batchy', healthyRole, {
      storedToken: created.auth.client_token,
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'batchy')).toMatchObject({
      status: 'ok',
      writes: 0,
      token: { outcome: 'untouched', reason: 'batch' },
    });
    expect((await fleet.secretJson(target.tokenSecret)).token).toBe(created.auth.client_token);
    // Nothing about the batch token; the stored one (default policy only) may not look up
    // the role's secret_id, which is said.
    expect(eventsOf(await alerts.receive(1))).toEqual(['WARNING secret-id-untracked batchy']);
  });

  it('keeps a token that may not renew itself while it outlives the horizon, and says which stanza to add (4: policy)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('denied', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'denied')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'untouched', reason: 'renew-denied' },
    });
    // No login: the stored token is the same, and no secret_id use was spent.
    expect((await fleet.secretJson(target.tokenSecret)).token).toBe(target.token);
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    const messages = (await alerts.receive(2)).filter(
      (m) => m.attributes.event === 'token-renew-denied',
    );
    expect(eventsOf(messages)).toEqual(['ERROR token-renew-denied denied']);
    expect(messages[0]?.body).toContain(
      'path "auth/token/renew-self" { capabilities = ["update"] }',
    );
    expect(messages[0]?.body).toContain(`${fleet.prefix}-denied`);
  });

  it('falls back to a login once a token that may not renew itself is inside the horizon (4: policy)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('denied-soon', {
      tokenTtl: 120,
      tokenMaxTtl: HOUR,
      noDefaultPolicy: true,
      policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'denied-soon').token).toMatchObject({
      outcome: 'relogged-in',
      reason: 'renew-denied',
    });
    const stored = await fleet.secretJson(target.tokenSecret);
    expect(stored.token).not.toBe(target.token);
    expect((await lookupSelf(fleet, String(stored.token))).ok).toBe(true);
    // The new token cannot be extended either (its policy denies renew-self): it
    // dies inside the horizon, and the run says so.
    expect(eventsOf(await alerts.receive(3))).toEqual([
      'ERROR token-renew-denied denied-soon',
      'ERROR token-ttl-below-horizon denied-soon',
      'WARNING secret-id-untracked denied-soon',
    ]);
  });

  it('keeps the tokens of a batch-token role while they outlive the horizon: no login, no version, no alert (3: batch role)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('batch-role', { ...healthyRole, tokenType: 'batch' });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const first = await harness.invoke(SCHEDULED_EVENT);
    const second = await harness.invoke(SCHEDULED_EVENT);

    for (const report of [first, second]) {
      expect(targetReport(report, 'batch-role')).toMatchObject({
        status: 'ok',
        writes: 0,
        token: { outcome: 'untouched', reason: 'batch' },
      });
    }
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect((await fleet.secretJson(target.tokenSecret)).token).toBe(target.token);
    expect(await alerts.receive(0, 1_000)).toEqual([]);
  });

  it('logs in again for a batch-token role once its token would not outlive the horizon, quietly (3: batch role)', async () => {
    const { fleet, alerts } = scenario;
    // Batch tokens of 3 minutes: exactly the horizon of a 1-minute schedule, so never beyond it.
    const target = await fleet.target('batch-short', {
      tokenTtl: 180,
      tokenMaxTtl: HOUR,
      tokenType: 'batch',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'batch-short')).toMatchObject({
      writes: 1,
      token: { outcome: 'relogged-in', reason: 'batch' },
    });
    // Batch tokens have no accessor: the write key must still not collide with the seed's.
    expect(await fleet.versionCount(target.tokenSecret)).toBe(2);
    const stored = await fleet.secretJson(target.tokenSecret);
    expect((await lookupSelf(fleet, String(stored.token))).ok).toBe(true);
    // A fresh batch token cannot be extended: it dies inside the horizon, which is said.
    expect(eventsOf(await alerts.receive(1))).toEqual([
      'ERROR token-ttl-below-horizon batch-short',
    ]);
  });

  it('logs in again before the max TTL once it is inside the horizon, and says a max TTL this short cannot outlive it (5: max TTL)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target(
      'capped',
      { tokenTtl: 60, tokenMaxTtl: 150 },
      { leases: [dbLease] },
    );
    const harness = scenario.harness(
      configWith(fleet.env, [fleet.targetConfig(target, { notify: { onRelogin: true } })]),
    );

    const report = await harness.invoke(SCHEDULED_EVENT);

    const result = targetReport(report, 'capped');
    expect(result).toMatchObject({
      status: 'failed',
      writes: 2,
      token: { outcome: 'relogged-in', reason: 'max-ttl-inside-horizon' },
    });
    expect(result.leases).toMatchObject([{ outcome: 'reissued', reason: 'token-replaced' }]);
    const stored = await fleet.secretJson(target.tokenSecret);
    const fresh = await lookupSelf(fleet, String(stored.token));
    expect(fresh.ok).toBe(true);
    // Issued for 60 s and renewed at once up to the role's max TTL (150 s).
    const freshTtl = fresh.ok ? Number(fresh.data.ttl) : 0;
    expect(freshTtl).toBeGreaterThan(100);
    expect(freshTtl).toBeLessThanOrEqual(150);
    const lease = await fleet.secretJson(target.leases[0]?.secret ?? '');
    const data = lease.data as { username: string; password: string };
    expect(await canLogin(fleet.env.DATABASE_URL, data.username, data.password)).toBe(true);
    // 150 s is more than the next run (60 s) but less than the horizon (180 s): ERROR.
    const messages = await alerts.receive(2);
    expect(eventsOf(messages)).toEqual([
      'ERROR token-ttl-below-horizon capped',
      'INFO relogin capped',
    ]);
    const relogin = messages.find((m) => m.attributes.event === 'relogin');
    expect(relogin?.attributes).toMatchObject({
      severity: 'INFO',
      target: 'capped',
      event: 'relogin',
    });
    const short = messages.find((m) => m.attributes.event === 'token-ttl-below-horizon');
    expect(short?.body).toContain(`vault write auth/${fleet.approleMount}/role/capped`);
  });

  it('logs in again after the token was revoked, and re-issues the leases that died with it (6: revoked)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('revoked', healthyRole, { leases: [dbLease] });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const old = target.leases[0];
    // Vault revokes the token's leases in the background: wait for the database user to go.
    await expect
      .poll(() => canLogin(fleet.env.DATABASE_URL, old?.username ?? '', old?.password ?? ''), {
        timeout: 10_000,
      })
      .toBe(false);
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'revoked').token).toMatchObject({
      outcome: 'relogged-in',
      reason: 'invalid',
    });
    const lease = await fleet.secretJson(old?.secret ?? '');
    const data = lease.data as { username: string; password: string };
    expect(await canLogin(fleet.env.DATABASE_URL, data.username, data.password)).toBe(true);
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-invalid revoked']);
  });

  it('re-issues a lease that is gone and keeps the token (7: lease gone)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('leaky', healthyRole, {
      leases: [dbLease, { ...dbLease, name: 'db2' }],
    });
    const [gone, kept] = target.leases;
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: gone?.leaseId });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    const result = targetReport(report, 'leaky');
    expect(result.token.outcome).toBe('renewed');
    expect(result.leases).toMatchObject([
      { name: 'db', outcome: 'reissued', reason: 'gone' },
      { name: 'db2', outcome: 'renewed' },
    ]);
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect(await fleet.versionCount(kept?.secret ?? '')).toBe(1);
    const lease = await fleet.secretJson(gone?.secret ?? '');
    expect(lease.token_accessor).toBe(target.accessor);
    const data = lease.data as { username: string; password: string };
    expect(await canLogin(fleet.env.DATABASE_URL, data.username, data.password)).toBe(true);
    expect(await canLogin(fleet.env.DATABASE_URL, kept?.username ?? '', kept?.password ?? '')).toBe(
      true,
    );
    expect(eventsOf(await alerts.receive(1))).toEqual(['WARNING lease-orphaned leaky/db']);
  });

  it('re-issues a lease whose max TTL falls inside the horizon, before it dies (7: lease capped)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('short-lease', healthyRole, {
      leases: [{ name: 'db', defaultTtl: 60, maxTtl: 120 }],
    });
    const old = target.leases[0];
    const harness = scenario.harness(
      configWith(fleet.env, [fleet.targetConfig(target, { notify: { onReissue: true } })]),
    );

    const report = await harness.invoke(SCHEDULED_EVENT);

    const result = targetReport(report, 'short-lease');
    expect(result.token.outcome).toBe('renewed');
    expect(result.leases).toMatchObject([
      { name: 'db', outcome: 'reissued', reason: 'max-ttl-inside-horizon' },
    ]);
    const lease = await fleet.secretJson(old?.secret ?? '');
    expect(lease.lease_id).not.toBe(old?.leaseId);
    expect(lease.token_accessor).toBe(target.accessor);
    const data = lease.data as { username: string; password: string };
    expect(await canLogin(fleet.env.DATABASE_URL, data.username, data.password)).toBe(true);
    // The old credentials are left to their own expiry, never revoked.
    expect(await canLogin(fleet.env.DATABASE_URL, old?.username ?? '', old?.password ?? '')).toBe(
      true,
    );
    // The role's max_ttl (120 s) is below the horizon: a new lease cannot outlive it either.
    expect(eventsOf(await alerts.receive(2))).toEqual([
      'ERROR lease-ttl-below-horizon short-lease/db',
      'INFO lease-reissued short-lease/db',
    ]);
  });

  it('reports a used-up secret_id as CRITICAL and leaves the stored token alone (8: secret_id)', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('spent', { ...healthyRole, secretIdNumUses: 1 });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(targetReport(report, 'spent')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'failed', reason: 'invalid' },
    });
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['CRITICAL relogin-bad-credentials spent']);
    expect(messages[0]?.body).toContain('The stored token is invalid (expired or revoked)');
    const critical = messages.find((m) => m.attributes.severity === 'CRITICAL');
    expect(critical?.subject).toMatch(/^\[CRITICAL\] vault-renewer spent: /);
    expect(critical?.body).toContain(
      `vault write -f auth/${fleet.approleMount}/role/spent/secret-id`,
    );
    expect(critical?.body).toContain('invalid role or secret ID');
  });
});
