/**
 * The real renew handler on the local stack (OpenBao, moto, PostgreSQL) in the
 * situations an operator meets besides Vault failures: secrets that are
 * missing, empty or malformed; events typed in the Lambda console (dry run,
 * forced re-login, a subset of targets, and events that are refused); a large
 * fleet with one broken target; and two runs overlapping on one target.
 * Each scenario asserts Secrets Manager contents, Vault state and the exact
 * SNS messages a subscribed queue received.
 */

import pLimit from 'p-limit';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACCEPTED_EVENTS, InvalidEventError } from '../../functions/app/renew-event.js';
import { parseMessageDocument } from '../../functions/core/notification.js';
import type { RunReport } from '../../functions/renewal/report.js';
import { shippedWorkloadPolicy } from '../../infra/vault/workload-policy.js';
import type { Fleet, SeededTarget } from '../../tools/local-stack/fleet.js';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { Harness } from '../support/renewer-harness.js';
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
  scenario = await createScenario(stackEnv(), 'ops');
  // Mounts the fleet's AppRole backend once: Fleet mounts it lazily, and
  // targets seeded in parallel would otherwise race to mount it.
  await scenario.fleet.role('warm-up', healthyRole);
});

/** Credentials a lease secret hands to the workload. */
function credentialsOf(lease: Record<string, unknown>): { username: string; password: string } {
  return lease.data as { username: string; password: string };
}

/** Vault's view of a lease (root token), or undefined when Vault no longer knows it. */
async function leaseInVault(
  fleet: Fleet,
  leaseId: string,
): Promise<{ ttl: number; last_renewal: string | null } | undefined> {
  try {
    const answer = (await fleet.vault('POST', 'sys/leases/lookup', { lease_id: leaseId })) as {
      data: { ttl: number; last_renewal: string | null };
    };
    return answer.data;
  } catch {
    return undefined;
  }
}

/** What lookup-self says about a token that must still be alive. */
async function tokenInVault(fleet: Fleet, token: string): Promise<Record<string, unknown>> {
  const looked = await lookupSelf(fleet, token);
  if (!looked.ok) {
    throw new Error(`the token is no longer valid: ${looked.error}`);
  }
  return looked.data;
}

/** Uses left on an AppRole secret_id (0 = unlimited). */
async function secretIdUsesLeft(fleet: Fleet, role: string, secretId: string): Promise<number> {
  const answer = (await fleet.vault(
    'POST',
    `auth/${fleet.approleMount}/role/${role}/secret-id/lookup`,
    { secret_id: secretId },
  )) as { data: { secret_id_num_uses: number } };
  return answer.data.secret_id_num_uses;
}

/** Version counts of every secret a seeded target owns, by secret name. */
async function versionCounts(
  fleet: Fleet,
  targets: readonly SeededTarget[],
): Promise<Record<string, number>> {
  const names = targets.flatMap((t) => [
    t.tokenSecret,
    t.approleSecret,
    ...t.leases.map((l) => l.secret),
  ]);
  const counts = await Promise.all(
    names.map(async (name) => [name, await fleet.versionCount(name)] as const),
  );
  return Object.fromEntries(counts);
}

/**
 * A role, a first login, and secrets whose contents the test chooses: the
 * token secret (not created when `tokenSecret` returns undefined), the AppRole
 * secret, and lease secrets with a real re-issue path each.
 */
async function seedWithContents(
  fleet: Fleet,
  name: string,
  contents: {
    readonly tokenSecret: (login: { token: string }) => string | undefined;
    readonly approleSecret?: (role: { roleId: string; secretId: string }) => string;
    readonly leaseSecrets?: Readonly<Record<string, string>>;
  },
) {
  const leaseNames = Object.keys(contents.leaseSecrets ?? {});
  const paths: string[] = [];
  for (const lease of leaseNames) {
    paths.push(await fleet.databaseRole(`${name}-${lease}`, HOUR, 4 * HOUR));
  }
  const role = await fleet.role(name, healthyRole, paths);
  const login = await fleet.login(role.roleId, role.secretId);
  const tokenSecret = `${fleet.prefix}/${name}/token`;
  const approleSecret = `${fleet.prefix}/${name}/approle`;
  const tokenValue = contents.tokenSecret(login);
  if (tokenValue !== undefined) {
    await fleet.createSecret(tokenSecret, tokenValue);
  }
  await fleet.createSecret(
    approleSecret,
    contents.approleSecret?.(role) ??
      JSON.stringify({ role_id: role.roleId, secret_id: role.secretId }),
  );
  const leases = leaseNames.map((lease, i) => ({
    name: lease,
    secret: `${fleet.prefix}/${name}/${lease}`,
    reissuePath: paths[i] ?? '',
  }));
  for (const lease of leases) {
    await fleet.createSecret(lease.secret, contents.leaseSecrets?.[lease.name] ?? '');
  }
  return {
    ...login,
    tokenSecret,
    approleSecret,
    leases,
    config: {
      name,
      tokenSecret,
      approle: { secret: approleSecret, mount: fleet.approleMount, role: name },
      leases,
    },
  };
}

/** Runs overlapping invocations (the harness shares one output capture between them). */
function invokeOverlapping(harnesses: readonly Harness[], event: unknown) {
  return Promise.all(harnesses.map((harness) => harness.invoke(event)));
}

function outcomes(report: RunReport): Record<string, string> {
  return Object.fromEntries(report.targets.map((t) => [t.target, t.status]));
}

describe('renew handler: secrets that are missing, empty or malformed', () => {
  it('reports each bad secret on its own target, fills empty ones, and keeps the other targets healthy', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const control = await fleet.target('sm-ok', healthyRole, { leases: [dbLease] });
    const notJson = await seedWithContents(fleet, 'sm-notjson', {
      tokenSecret: ({ token }) => `token=${token}`,
    });
    const missing = await seedWithContents(fleet, 'sm-missing', {
      tokenSecret: () => undefined,
    });
    const emptyLease = await seedWithContents(fleet, 'sm-emptylease', {
      tokenSecret: ({ token }) => JSON.stringify({ token }),
      leaseSecrets: { db: '{}' },
    });
    const emptyToken = await seedWithContents(fleet, 'sm-emptytoken', {
      tokenSecret: () => '{}',
    });
    const noSecretId = await seedWithContents(fleet, 'sm-nosecretid', {
      tokenSecret: ({ token }) => JSON.stringify({ token }),
      approleSecret: ({ roleId }) => JSON.stringify({ role_id: roleId }),
    });
    const harness = scenario.harness(
      configWith(fleet.env, [
        fleet.targetConfig(control),
        notJson.config,
        missing.config,
        emptyLease.config,
        emptyToken.config,
        noSecretId.config,
      ]),
    );

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess: the healthy target did not notice its neighbours
    expect(targetReport(report, 'sm-ok')).toMatchObject({
      status: 'ok',
      writes: 0,
      token: { outcome: 'renewed', reason: 'healthy' },
      leases: [{ name: 'db', outcome: 'renewed' }],
      problems: [],
    });
    expect((await tokenInVault(fleet, control.token)).last_renewal_time).toBeDefined();

    // A token secret that is not JSON: ERROR, left exactly as it was
    expect(targetReport(report, 'sm-notjson')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'failed', reason: 'secret-malformed' },
    });
    expect(await fleet.secretValue(notJson.tokenSecret)).toBe(`token=${notJson.token}`);
    expect(await fleet.versionCount(notJson.tokenSecret)).toBe(1);

    // A token secret that does not exist
    expect(targetReport(report, 'sm-missing')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'failed', reason: 'secret-unreadable' },
    });
    expect(targetReport(report, 'sm-missing').problems).toMatchObject([
      { code: 'secret-unreadable', answer: expect.stringContaining('ResourceNotFoundException') },
    ]);

    // A lease secret created empty: a lease is issued into it
    const emptyLeaseReport = targetReport(report, 'sm-emptylease');
    expect(emptyLeaseReport).toMatchObject({
      status: 'changed',
      writes: 1,
      token: { outcome: 'renewed' },
      leases: [{ name: 'db', outcome: 'reissued', reason: 'absent' }],
    });
    const filledLease = await fleet.secretJson(emptyLease.leases[0]?.secret ?? '');
    expect(filledLease).toMatchObject({
      token_accessor: emptyLease.accessor,
      path: emptyLease.leases[0]?.reissuePath,
      renewable: true,
    });
    expect(await leaseInVault(fleet, String(filledLease.lease_id))).toBeDefined();
    const filledCredentials = credentialsOf(filledLease);
    expect(
      await canLogin(
        fleet.env.DATABASE_URL,
        filledCredentials.username,
        filledCredentials.password,
      ),
    ).toBe(true);

    // A token secret created empty: the renewer logs in and fills it
    expect(targetReport(report, 'sm-emptytoken')).toMatchObject({
      status: 'changed',
      writes: 1,
      token: { outcome: 'relogged-in', reason: 'absent' },
    });
    const filledToken = await fleet.secretJson(emptyToken.tokenSecret);
    expect(filledToken).toMatchObject({ managed_by: 'vault-renewer', renewable: true });
    expect(await tokenInVault(fleet, String(filledToken.token))).toMatchObject({
      accessor: filledToken.accessor,
    });

    // An AppRole secret without secret_id: a WARNING, and the token is still renewed
    expect(targetReport(report, 'sm-nosecretid')).toMatchObject({
      status: 'ok',
      writes: 0,
      token: { outcome: 'renewed', reason: 'healthy' },
    });
    expect((await tokenInVault(fleet, noSecretId.token)).last_renewal_time).toBeDefined();
    expect(await fleet.versionCount(noSecretId.tokenSecret)).toBe(1);

    expect(report.summary).toMatchObject({ targets: 6, ok: 2, changed: 2, failed: 2 });
    const messages = await alerts.receive(3);
    expect(eventsOf(messages)).toEqual([
      'ERROR secret-malformed sm-notjson',
      'ERROR secret-unreadable sm-missing',
      'WARNING approle-secret-unusable sm-nosecretid',
    ]);
    const malformed = messages.find((m) => m.attributes.target === 'sm-notjson');
    expect(malformed?.body).toContain('not valid JSON');
    expect(malformed?.body).not.toContain(notJson.token);
    const unusable = messages.find((m) => m.attributes.target === 'sm-nosecretid');
    expect(unusable?.body).toContain('lacks secret_id');
  });
});

describe('renew handler: events typed in the Lambda console', () => {
  it.each([
    ['ev-key', { key1: 'value1' }, 'Unrecognised event (event: Unrecognized key: "key1")'],
    ['ev-action', { action: 'rotate' }, 'Unrecognised event (action: '],
    [
      'ev-target',
      { targets: ['nope'] },
      'Unknown target(s): 1 name(s) not in the config (refused values are not repeated) (configured: ev-target)',
    ],
    ['ev-relogin', { action: 'relogin' }, '"action": "relogin" needs "targets"'],
  ])(
    'refuses the console event of %s with an error that names the problem and lists the accepted events, touching nothing',
    async (name, event, problem) => {
      // Prepare
      const { fleet, alerts } = scenario;
      const target = await fleet.target(name, healthyRole);
      const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

      // Act
      const invocation = harness.invoke(event);

      // Assess
      const error = await invocation.then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(InvalidEventError);
      const { message } = error as InvalidEventError;
      expect(message).toContain(problem);
      for (const accepted of ACCEPTED_EVENTS) {
        expect(message).toContain(accepted);
      }
      expect(harness.output.join('')).not.toContain('run started');
      expect((await tokenInVault(fleet, target.token)).last_renewal_time).toBeUndefined();
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
      expect(await alerts.receive(0, 0)).toEqual([]);
    },
  );

  it('dry run reports what it would do and changes nothing in Vault or Secrets Manager', async () => {
    // Prepare: one healthy target, one with a non-renewable stored token, one whose lease is gone
    const { fleet, alerts } = scenario;
    const healthy = await fleet.target('dry-ok', healthyRole, { leases: [dbLease] });
    const fixed = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const relogin = await fleet.target(
      'dry-relogin',
      { ...healthyRole, secretIdNumUses: 3 },
      { leases: [dbLease], storedToken: fixed.auth.client_token },
    );
    const leaky = await fleet.target('dry-gone', healthyRole, { leases: [dbLease] });
    const goneLease = leaky.leases[0]?.leaseId ?? '';
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: goneLease });
    const all = [healthy, relogin, leaky];
    // An increment twice the role's TTL: a renewal would visibly extend the TTL.
    const harness = scenario.harness(
      configWith(
        fleet.env,
        all.map((t) => fleet.targetConfig(t)),
        { defaults: { incrementSeconds: 2 * HOUR } },
      ),
    );
    const countsBefore = await versionCounts(fleet, all);
    const usesBefore = await secretIdUsesLeft(fleet, 'dry-relogin', relogin.secretId);
    const healthyLeaseId = healthy.leases[0]?.leaseId ?? '';
    const tokenBefore = await tokenInVault(fleet, healthy.token);
    const leaseBefore = await leaseInVault(fleet, healthyLeaseId);

    // Act
    const report = await harness.invoke({ dryRun: true, notify: true });

    // Assess: the report says what would be done
    expect(report.dryRun).toBe(true);
    expect(targetReport(report, 'dry-ok')).toMatchObject({
      writes: 0,
      token: { outcome: 'would-renew', reason: 'healthy' },
      leases: [{ name: 'db', outcome: 'would-renew', reason: 'healthy' }],
    });
    expect(targetReport(report, 'dry-relogin')).toMatchObject({
      writes: 0,
      token: { outcome: 'would-relogin', reason: 'not-renewable' },
      leases: [{ name: 'db', outcome: 'would-reissue', reason: 'token-replaced' }],
    });
    // ok means the real run would do nothing: a lease it would re-issue is a change.
    expect(targetReport(report, 'dry-gone')).toMatchObject({
      status: 'changed',
      writes: 0,
      token: { outcome: 'would-renew', reason: 'healthy' },
      leases: [{ name: 'db', outcome: 'would-reissue', reason: 'gone' }],
    });

    // Nothing was written, renewed, logged in or issued
    expect(await versionCounts(fleet, all)).toEqual(countsBefore);
    const tokenAfter = await tokenInVault(fleet, healthy.token);
    expect(tokenAfter.last_renewal_time).toBeUndefined();
    expect(Number(tokenAfter.ttl)).toBeLessThanOrEqual(Number(tokenBefore.ttl));
    const leaseAfter = await leaseInVault(fleet, healthyLeaseId);
    expect(leaseAfter?.last_renewal).toBeNull();
    expect(leaseAfter?.ttl).toBeLessThanOrEqual(leaseBefore?.ttl ?? 0);
    expect((await fleet.secretJson(relogin.tokenSecret)).token).toBe(fixed.auth.client_token);
    expect(await secretIdUsesLeft(fleet, 'dry-relogin', relogin.secretId)).toBe(usesBefore);
    expect(await leaseInVault(fleet, goneLease)).toBeUndefined();
    expect((await fleet.secretJson(leaky.leases[0]?.secret ?? '')).lease_id).toBe(goneLease);

    // The messages say they come from a dry run
    const messages = await alerts.receive(2);
    expect(eventsOf(messages)).toEqual([
      'WARNING lease-orphaned dry-gone/db',
      'WARNING token-not-renewable dry-relogin',
    ]);
    for (const message of messages) {
      expect(message.subject).toMatch(/\(dry run\)$/);
      expect(message.body.split('\n')[0]).toContain('(dry run)');
      expect(parseMessageDocument(message.body).dryRun).toBe(true);
    }
  });

  it('dry run reports a revoked token as invalid, as the real run does, not as a policy denial', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('dry-revoked', healthyRole, { leases: [dbLease] });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke({ dryRun: true, notify: true });
    const messages = await alerts.receive(1);

    // Assess
    expect(targetReport(report, 'dry-revoked')).toMatchObject({
      writes: 0,
      token: { outcome: 'would-relogin', reason: 'invalid' },
      leases: [{ name: 'db', outcome: 'would-reissue', reason: 'token-replaced' }],
    });
    expect(eventsOf(messages)).toEqual(['ERROR token-invalid dry-revoked']);
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
  });

  it('dry run publishes nothing unless the event says "notify": true, and says what it cannot know', async () => {
    // Prepare: a token with 2 minutes left (inside the 3-minute horizon) and one that is dead
    const { fleet, alerts } = scenario;
    const short = await fleet.target('dry-short', { tokenTtl: 120, tokenMaxTtl: HOUR });
    const dead = await fleet.target('dry-dead', healthyRole);
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: dead.accessor });
    const harness = scenario.harness(
      configWith(fleet.env, [fleet.targetConfig(short), fleet.targetConfig(dead)]),
    );

    // Act
    const report = await harness.invoke({ dryRun: true });

    // Assess: nothing published; the short token is not "ok" but "unknown", with the reason
    expect(await alerts.receive(0, 1_500)).toEqual([]);
    expect(targetReport(report, 'dry-short')).toMatchObject({
      status: 'unknown',
      token: { outcome: 'would-renew', reason: 'grant-unknown' },
    });
    expect(targetReport(report, 'dry-short').unknown?.[0]).toMatch(/less than the horizon/);
    expect(targetReport(report, 'dry-dead')).toMatchObject({
      status: 'failed',
      token: { outcome: 'would-relogin', reason: 'invalid' },
    });
    expect(report.summary).toMatchObject({ unknown: 1, failed: 1, ok: 0 });
  });

  it('dry run says a token whose policy denies renew-self is not ok, as the real run would find', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('dry-denied', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: [
        'path "auth/token/lookup-self" { capabilities = ["read"] }',
        'path "sys/capabilities-self" { capabilities = ["update"] }',
      ].join('\n'),
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    const report = await harness.invoke({ dryRun: true, notify: true });

    expect(targetReport(report, 'dry-denied')).toMatchObject({
      status: 'failed',
      token: { reason: 'renew-denied' },
    });
    const messages = await alerts.receive(2);
    expect(eventsOf(messages)).toEqual([
      'ERROR token-renew-denied dry-denied',
      'WARNING secret-id-untracked dry-denied',
    ]);
    for (const message of messages) {
      expect(message.subject).toMatch(/\(dry run\)$/);
      expect(message.attributes.dryRun).toBe('true');
    }
  });

  it('dry run says unknown, never ok, when the policy denies both renew-self and capabilities-self', async () => {
    // Prepare: an hour left, and no way to ask what the policy allows
    const { fleet } = scenario;
    const target = await fleet.target('dry-blind', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const dry = await harness.invoke({ dryRun: true });
    const real = await harness.invoke(SCHEDULED_EVENT);

    // Assess: the real run finds what the dry run could not know
    expect(targetReport(dry, 'dry-blind')).toMatchObject({
      status: 'unknown',
      unknown: [expect.stringContaining('sys/capabilities-self')],
    });
    expect(targetReport(real, 'dry-blind').status).not.toBe('ok');
    expect(eventsOf(await scenario.alerts.receive(2))).toEqual([
      'ERROR token-renew-denied dry-blind',
      'WARNING secret-id-untracked dry-blind',
    ]);
  });

  it('{"action": "relogin"} gives only the named target a new token and new leases', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const chosen = await fleet.target('rl-chosen', healthyRole, { leases: [dbLease] });
    const other = await fleet.target('rl-other', healthyRole, { leases: [dbLease] });
    const harness = scenario.harness(
      configWith(fleet.env, [fleet.targetConfig(chosen), fleet.targetConfig(other)]),
    );

    // Act
    const report = await harness.invoke({ action: 'relogin', targets: ['rl-chosen'] });

    // Assess: the chosen target logged in again and moved its lease to the new token
    expect(report.targets.map((t) => t.target)).toEqual(['rl-chosen']);
    expect(targetReport(report, 'rl-chosen')).toMatchObject({
      status: 'changed',
      writes: 2,
      token: { outcome: 'relogged-in', reason: 'requested' },
      leases: [{ name: 'db', outcome: 'reissued', reason: 'token-replaced' }],
    });
    const stored = await fleet.secretJson(chosen.tokenSecret);
    expect(stored).toMatchObject({ owner: 'team-x', managed_by: 'vault-renewer' });
    expect(stored.token).not.toBe(chosen.token);
    expect(await tokenInVault(fleet, String(stored.token))).toMatchObject({
      accessor: stored.accessor,
    });
    // The old token is not revoked: its consumers still hold it.
    expect((await lookupSelf(fleet, chosen.token)).ok).toBe(true);
    const lease = await fleet.secretJson(chosen.leases[0]?.secret ?? '');
    expect(lease.lease_id).not.toBe(chosen.leases[0]?.leaseId);
    expect(lease.token_accessor).toBe(stored.accessor);
    const credentials = credentialsOf(lease);
    expect(await canLogin(fleet.env.DATABASE_URL, credentials.username, credentials.password)).toBe(
      true,
    );

    // The other target was not touched at all
    expect(await versionCounts(fleet, [other])).toEqual({
      [other.tokenSecret]: 1,
      [other.approleSecret]: 1,
      [other.leases[0]?.secret ?? '']: 1,
    });
    expect((await tokenInVault(fleet, other.token)).last_renewal_time).toBeUndefined();
    expect((await leaseInVault(fleet, other.leases[0]?.leaseId ?? ''))?.last_renewal).toBeNull();
    expect(await alerts.receive(0, 0)).toEqual([]);
  });

  it('{"targets": [...]} processes only the named targets', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const chosen = await fleet.target('only-a', healthyRole);
    const other = await fleet.target('only-b', healthyRole);
    const harness = scenario.harness(
      configWith(fleet.env, [fleet.targetConfig(chosen), fleet.targetConfig(other)]),
    );

    // Act
    const report = await harness.invoke({ targets: ['only-a'] });

    // Assess
    expect(report.dryRun).toBe(false);
    expect(report.targets.map((t) => t.target)).toEqual(['only-a']);
    expect(targetReport(report, 'only-a').token.outcome).toBe('renewed');
    expect((await tokenInVault(fleet, chosen.token)).last_renewal_time).toBeDefined();
    expect((await tokenInVault(fleet, other.token)).last_renewal_time).toBeUndefined();
    expect(await alerts.receive(0, 0)).toEqual([]);
  });
});

describe('renew handler: many targets, overlapping runs', () => {
  it('keeps 49 healthy targets untouched and reports only the one broken target of 50', async () => {
    // Prepare: 50 targets, seeded ten at a time; "t-17" has a revoked token and a used-up secret_id
    const { fleet, alerts } = scenario;
    const broken = 't-17';
    const names = Array.from({ length: 50 }, (_, i) => `t-${String(i).padStart(2, '0')}`);
    const seed = pLimit(10);
    const targets = await Promise.all(
      names.map((name) =>
        seed(() =>
          fleet.target(
            name,
            name === broken ? { ...healthyRole, secretIdNumUses: 1 } : healthyRole,
          ),
        ),
      ),
    );
    const brokenTarget = targets.find((t) => t.name === broken);
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: brokenTarget?.accessor });
    const harness = scenario.harness(
      configWith(
        fleet.env,
        targets.map((t) => fleet.targetConfig(t)),
        { concurrency: 8 },
      ),
    );

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    expect(report.summary).toMatchObject({ targets: 50, ok: 49, changed: 0, failed: 1 });
    const statuses = outcomes(report);
    expect(statuses[broken]).toBe('failed');
    for (const target of targets.filter((t) => t.name !== broken)) {
      expect(targetReport(report, target.name)).toMatchObject({
        status: 'ok',
        writes: 0,
        token: { outcome: 'renewed', reason: 'healthy' },
      });
    }
    const look = pLimit(10);
    const stored = await Promise.all(
      targets.map((t) =>
        look(async () => ({
          name: t.name,
          versions: await fleet.versionCount(t.tokenSecret),
          value: await fleet.secretJson(t.tokenSecret),
        })),
      ),
    );
    expect(stored).toEqual(
      targets.map((t) => ({
        name: t.name,
        versions: 1,
        value: { token: t.token, owner: 'team-x' },
      })),
    );
    // One message for the broken target: the refused login says its token is dead.
    expect(eventsOf(await alerts.receive(1))).toEqual([
      `CRITICAL relogin-bad-credentials ${broken}`,
    ]);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
  });

  it('two overlapping runs leave a valid token, and the next run re-issues the lease owned by the token it dropped', async () => {
    // Prepare: a non-renewable stored token, so both runs log in again at once.
    // Each run reaches Vault through its own proxy, timed so the runs finish
    // in the order that leaves token and lease disagreeing: run A logs in
    // late, so its token is written last; run B issues its lease late, so its
    // lease is written last.
    const { fleet, alerts } = scenario;
    const fixed = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const target = await fleet.target('race', healthyRole, {
      leases: [dbLease],
      storedToken: fixed.auth.client_token,
    });
    const leaseSecret = target.leases[0]?.secret ?? '';
    const credsPath = `/v1/${target.leases[0]?.reissuePath ?? ''}`;
    const viaA = await startFaultProxy(fleet.env.VAULT_ADDR);
    const viaB = await startFaultProxy(fleet.env.VAULT_ADDR);
    viaA.addFault({ match: { path: /\/login$/ }, latencyMs: 600, times: 1 });
    viaB.addFault({ match: { path: credsPath }, latencyMs: 1_500, times: 1 });
    const configVia = (address: string) =>
      configWith(fleet.env, [fleet.targetConfig(target)], { vault: { address } });
    const runA = scenario.harness(configVia(viaA.url));
    const runB = scenario.harness(configVia(viaB.url));
    const later = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    try {
      // Act: two runs at the same time (two Lambda instances)
      const reports = await invokeOverlapping([runA, runB], SCHEDULED_EVENT);

      // Assess: both logged in and re-issued; the stored token is valid, but
      // the stored lease belongs to the other run's token
      for (const report of reports) {
        expect(targetReport(report, 'race')).toMatchObject({
          writes: 2,
          token: { outcome: 'relogged-in', reason: 'not-renewable' },
          leases: [{ name: 'db', outcome: 'reissued', reason: 'token-replaced' }],
        });
      }
      const tokenAfterRace = await fleet.secretJson(target.tokenSecret);
      expect(await tokenInVault(fleet, String(tokenAfterRace.token))).toMatchObject({
        accessor: tokenAfterRace.accessor,
        renewable: true,
      });
      expect(await fleet.versionCount(target.tokenSecret)).toBe(3);
      const leaseAfterRace = await fleet.secretJson(leaseSecret);
      expect(leaseAfterRace.token_accessor).not.toBe(tokenAfterRace.accessor);
      expect(eventsOf(await alerts.receive(2))).toEqual([
        'WARNING token-not-renewable race',
        'WARNING token-not-renewable race',
      ]);

      // Act: the next scheduled run
      const next = await later.invoke(SCHEDULED_EVENT);

      // Assess: the token is kept, the lease moves to it, and the lease works
      expect(targetReport(next, 'race')).toMatchObject({
        writes: 1,
        token: { outcome: 'renewed', reason: 'healthy' },
        leases: [{ name: 'db', outcome: 'reissued', reason: 'owner-not-managed' }],
      });
      const token = await fleet.secretJson(target.tokenSecret);
      expect(token.token).toBe(tokenAfterRace.token);
      const lease = await fleet.secretJson(leaseSecret);
      expect(lease.lease_id).not.toBe(leaseAfterRace.lease_id);
      expect(lease.token_accessor).toBe(token.accessor);
      expect(await leaseInVault(fleet, String(lease.lease_id))).toBeDefined();
      const credentials = credentialsOf(lease);
      expect(
        await canLogin(fleet.env.DATABASE_URL, credentials.username, credentials.password),
      ).toBe(true);
      expect(await alerts.receive(0, 0)).toEqual([]);

      // And a run after that finds nothing left to fix
      const settled = await later.invoke(SCHEDULED_EVENT);
      expect(targetReport(settled, 'race')).toMatchObject({
        status: 'ok',
        writes: 0,
        leases: [{ name: 'db', outcome: 'renewed', reason: 'healthy' }],
      });
    } finally {
      await Promise.all([viaA.close(), viaB.close()]);
    }
  });
});

describe('renew handler: paths and logins that do not give what a lease needs', () => {
  it('reports a re-issue path that answers without a lease and leaves the lease secret alone', async () => {
    // Prepare: a KV v1 path answers with data but no lease
    const { fleet, alerts } = scenario;
    const kvMount = `${fleet.prefix}-kv`;
    await fleet.vault('POST', `sys/mounts/${kvMount}`, { type: 'kv', options: { version: '1' } });
    await fleet.vault('POST', `${kvMount}/app`, {
      username: 'static',
      password: 'PLANTED-static-pw',
    });
    const target = await fleet.target('kv-path', {
      ...healthyRole,
      policy: shippedWorkloadPolicy([`${kvMount}/app`], `auth/${fleet.approleMount}/role/kv-path`),
    });
    const leaseSecret = `${fleet.prefix}/kv-path/kv`;
    await fleet.createSecret(leaseSecret, '{}');
    const harness = scenario.harness(
      configWith(fleet.env, [
        fleet.targetConfig(target, {
          leases: [{ name: 'kv', secret: leaseSecret, reissuePath: `${kvMount}/app` }],
        }),
      ]),
    );

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    expect(targetReport(report, 'kv-path').leases).toMatchObject([
      { name: 'kv', outcome: 'failed', reason: 'absent' },
    ]);
    expect(await fleet.secretValue(leaseSecret)).toBe('{}');
    expect(await fleet.versionCount(leaseSecret)).toBe(1);
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['ERROR lease-reissue-failed kv-path/kv']);
    expect(messages[0]?.body).toContain('answered without a lease');
    expect(JSON.stringify(report)).not.toContain('PLANTED-static-pw');
  });

  it('does not renew leases with an unchecked token when a forced re-login fails', async () => {
    // Prepare: the stored secret_id is wrong, the lease is healthy
    const { fleet, alerts } = scenario;
    const target = await fleet.target('forced-bad', healthyRole, {
      leases: [dbLease],
      storedSecretId: 'not-the-secret-id',
    });
    const harness = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]));

    // Act
    const report = await harness.invoke({ action: 'relogin', targets: ['forced-bad'] });

    // Assess
    const result = targetReport(report, 'forced-bad');
    expect(result.token).toMatchObject({ outcome: 'failed', reason: 'requested' });
    expect(result.leases).toMatchObject([
      { name: 'db', outcome: 'skipped', reason: 'no valid token' },
    ]);
    const lease = (await fleet.vault('POST', 'sys/leases/lookup', {
      lease_id: target.leases[0]?.leaseId,
    })) as { data: { last_renewal: string | null } };
    expect(lease.data.last_renewal).toBeNull();
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR relogin-bad-credentials forced-bad']);
  });
});
