/**
 * The real rotate handler on the local stack, driven exactly as Secrets
 * Manager drives it: RotateSecret stages the new version and stores the
 * configuration, then the handler runs once per step with the same
 * ClientRequestToken (tools/local-stack/rotation-function.ts). Each scenario
 * asserts Secrets Manager's versions and labels, what Vault accepts, and the
 * SNS messages a subscribed queue received.
 */

import { randomUUID } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMessageDocument } from '../../functions/core/notification.js';
import type { RotationReport } from '../../functions/rotation/rotate.js';
import { RotationRefusedError } from '../../functions/rotation/rotation-target.js';
import type { SeededTarget } from '../../tools/local-stack/fleet.js';
import {
  localRotationFunctionArn,
  ROTATION_STEPS,
  rotateLikeSecretsManager,
} from '../../tools/local-stack/rotation-function.js';
import {
  createRotateHarness,
  type RotateHarness,
  SCHEDULED_EVENT,
} from '../support/renewer-harness.js';
import {
  canLogin,
  createScenario,
  eventsOf,
  healthyRole,
  lookupSelf,
  rotatedTarget,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const env = stackEnv();
let scenario: Scenario;
const harnesses: RotateHarness[] = [];

beforeAll(async () => {
  scenario = await createScenario(env, 'rot');
  await scenario.fleet.role('warm-up', healthyRole);
});

afterAll(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
});

interface Fixture {
  readonly app: SeededTarget;
  readonly rotator: SeededTarget;
  readonly config: Record<string, unknown>;
  readonly rotate: RotateHarness;
}

/** A workload target with a database lease, and a rotator allowed to issue its secret_ids. */
async function fixture(
  name: string,
  options: { appRole?: Record<string, unknown>; scenario?: Scenario } = {},
): Promise<Fixture> {
  const { fleet, alerts } = options.scenario ?? scenario;
  const { app, rotator, config } = await rotatedTarget(fleet, env, name, options.appRole);
  const rotate = createRotateHarness({ env, config, topicArn: alerts.topicArn });
  harnesses.push(rotate);
  return { app, rotator, config, rotate };
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  const described = await scenario.fleet.aws.secretsManager.send(
    new DescribeSecretCommand({ SecretId: secretId }),
  );
  return described.VersionIdsToStages ?? {};
}

async function versionValue(secretId: string, versionId: string): Promise<Record<string, unknown>> {
  const got = await scenario.fleet.aws.secretsManager.send(
    new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }),
  );
  return JSON.parse(got.SecretString ?? '{}') as Record<string, unknown>;
}

async function approleLogin(roleId: unknown, secretId: unknown): Promise<boolean> {
  return scenario.fleet
    .login(String(roleId), String(secretId))
    .then(() => true)
    .catch(() => false);
}

describe('rotating an AppRole secret', () => {
  it('issues, stages, tests and promotes a new secret_id, then destroys the old one', async () => {
    // Prepare
    const { app, rotate } = await fixture('ar');
    const before = await scenario.fleet.secretJson(app.approleSecret);
    const reports: RotationReport[] = [];

    // Act
    const { versionId } = await rotateLikeSecretsManager(env, app.approleSecret, async (event) => {
      reports.push(await rotate.invoke(event));
    });

    // Assess
    expect(reports.map((r) => `${r.step}:${r.outcome}`)).toEqual([
      'createSecret:created',
      'setSecret:nothing-to-set',
      'testSecret:tested',
      'finishSecret:finished',
    ]);
    const after = await scenario.fleet.secretJson(app.approleSecret);
    expect(after.role_id).toBe(before.role_id);
    expect(after.secret_id).not.toBe(before.secret_id);
    expect(after.secret_id_accessor).toEqual(expect.any(String));
    const labels = await stages(app.approleSecret);
    expect(labels[versionId]).toEqual(['AWSCURRENT']);
    expect(Object.values(labels).flat()).not.toContain('AWSPENDING');
    expect(await approleLogin(after.role_id, after.secret_id)).toBe(true);
    expect(await approleLogin(before.role_id, before.secret_id)).toBe(false);
    expect(reports[2]?.details?.testTokenRevoked).toBe(true);
    expect(reports[3]?.details?.previousDestroyed).toBe(true);
    expect(await scenario.alerts.receive(0, 1_000)).toEqual([]);
    // Nothing secret in the logs or the reports.
    const evidence = [...rotate.output, JSON.stringify(reports)].join('\n');
    for (const secret of [before.secret_id, after.secret_id, app.token]) {
      expect(evidence).not.toContain(String(secret));
    }
  });

  it('repeats every step without a second secret_id or a second version', async () => {
    // Prepare
    const { app, rotate } = await fixture('rep');
    const before = await scenario.fleet.secretJson(app.approleSecret);
    const outcomes: string[] = [];

    // Act: Secrets Manager retries; every step runs twice.
    const { versionId } = await rotateLikeSecretsManager(env, app.approleSecret, async (event) => {
      outcomes.push((await rotate.invoke(event)).outcome);
      outcomes.push((await rotate.invoke(event)).outcome);
    });

    // Assess
    expect(outcomes).toEqual([
      'created',
      'already-created',
      'nothing-to-set',
      'nothing-to-set',
      'tested',
      'tested',
      'finished',
      'already-current',
    ]);
    const after = await scenario.fleet.secretJson(app.approleSecret);
    expect(await versionValue(app.approleSecret, versionId)).toEqual(after);
    expect(await scenario.fleet.versionCount(app.approleSecret)).toBe(2);
    // The repeated finishSecret found the previous secret_id already destroyed: no warning.
    expect(eventsOf(await scenario.alerts.receive(0, 1_000))).toEqual([]);
    expect(await approleLogin(after.role_id, after.secret_id)).toBe(true);
    expect(await approleLogin(before.role_id, before.secret_id)).toBe(false);
  });

  it('keeps AWSCURRENT and unstages the new secret_id when the test login fails', async () => {
    // Prepare: the new secret_id is destroyed in Vault between createSecret and
    // testSecret (as an operator or a tidy would), so the test login fails.
    const { app, rotate } = await fixture('bad');
    const before = await scenario.fleet.secretJson(app.approleSecret);
    let pendingVersion = '';
    const destroyStaged = async () => {
      const staged = await versionValue(app.approleSecret, pendingVersion);
      await scenario.fleet.vault(
        'POST',
        `auth/${scenario.fleet.approleMount}/role/${app.roleName}/secret-id/destroy`,
        { secret_id: staged.secret_id },
      );
    };

    // Act
    const failure = await rotateLikeSecretsManager(env, app.approleSecret, async (event) => {
      pendingVersion = event.ClientRequestToken;
      if (event.Step === 'testSecret') await destroyStaged();
      await rotate.invoke(event);
    }).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name: 'RotationStepError' });
    expect(String((failure as Error).message)).toContain('a login with the new secret_id failed');
    expect(await scenario.fleet.secretJson(app.approleSecret)).toEqual(before);
    expect(await approleLogin(before.role_id, before.secret_id)).toBe(true);
    // Unstaged: the next "Rotate secret immediately" starts afresh.
    expect(Object.values(await stages(app.approleSecret)).flat()).not.toContain('AWSPENDING');
    const messages = await scenario.alerts.receive(1);
    expect(eventsOf(messages)).toEqual([`ERROR rotation-failed ${app.name}`]);
    const document = parseMessageDocument(messages[0]?.body ?? '');
    expect(document.summary).toContain('testSecret');
    const staged = await versionValue(app.approleSecret, pendingVersion);
    const evidence = [...rotate.output, JSON.stringify(messages), String(failure)].join('\n');
    for (const secret of [before.secret_id, staged.secret_id, app.token]) {
      expect(evidence).not.toContain(String(secret));
    }
  });
});

describe('a rotation that keeps failing, then succeeds', () => {
  it('is one incident: opened once with its state and id, quiet on the retry, RESOLVED by the next finished rotation', async () => {
    // Prepare: a rotate function with incident state, and a test login that fails
    const incidentTable = await scenario.fleet.incidentTable();
    const { app, config } = await rotatedTarget(scenario.fleet, env, 'flaky');
    const rotate = createRotateHarness({
      env,
      config,
      topicArn: scenario.alerts.topicArn,
      incidentTable,
    });
    harnesses.push(rotate);
    const failingTest = async (event: { Step: string; ClientRequestToken: string }) => {
      if (event.Step === 'testSecret') {
        const staged = await versionValue(app.approleSecret, event.ClientRequestToken);
        await scenario.fleet.vault(
          'POST',
          `auth/${scenario.fleet.approleMount}/role/${app.roleName}/secret-id/destroy`,
          { secret_id: staged.secret_id },
        );
      }
      await rotate.invoke(event);
    };

    // Act: the rotation fails twice (Secrets Manager's retry, then the next schedule)
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await rotateLikeSecretsManager(env, app.approleSecret, failingTest).catch(() => undefined);
    }
    const failed = await scenario.alerts.receive(2, 3_000);
    await rotateLikeSecretsManager(env, app.approleSecret, (event) => rotate.invoke(event));
    const resolved = await scenario.alerts.receive(1);

    // Assess: one message per change of state, threaded by one incident id
    expect(eventsOf(failed)).toEqual([`ERROR rotation-failed ${app.name}`]);
    expect(failed[0]?.attributes).toMatchObject({ state: 'opened', event: 'rotation-failed' });
    const incident = failed[0]?.attributes.incident;
    expect(incident).toMatch(/rotation-failed\/approle$/);
    expect(eventsOf(resolved)).toEqual([`OK rotation-failed ${app.name}`]);
    expect(resolved[0]?.attributes).toMatchObject({ state: 'resolved', incident });
  });
});

describe('a test login that Vault refuses', () => {
  it('destroys the new secret_id in Vault, unstages it and keeps AWSCURRENT', async () => {
    // Prepare: the role's role_id is locked out (user lockout after one failed login)
    // between createSecret and testSecret, so the test login is refused while the new
    // secret_id still exists. A fleet of its own: lockout is set on the whole mount.
    const own = await createScenario(env, 'rotlock');
    const { fleet } = own;
    const { app, rotate } = await fixture('lock', { scenario: own });
    const before = await fleet.secretJson(app.approleSecret);
    let pendingVersion = '';
    const lockOut = async () => {
      await fleet.vault('POST', `sys/auth/${fleet.approleMount}/tune`, {
        user_lockout_config: { lockout_threshold: 1, lockout_duration: '30s' },
      });
      await fleet.login(String(before.role_id), 'not-the-secret-id').catch(() => undefined);
    };

    // Act
    const failure = await rotateLikeSecretsManager(env, app.approleSecret, async (event) => {
      pendingVersion = event.ClientRequestToken;
      if (event.Step === 'testSecret') await lockOut();
      await rotate.invoke(event);
    }).catch((error: unknown) => error);

    // Assess
    const messages = await own.alerts.receive(1, 10_000);
    expect(failure).toMatchObject({ name: 'RotationStepError' });
    const staged = await versionValue(app.approleSecret, pendingVersion);
    const lookup = await fleet.vault(
      'POST',
      `auth/${fleet.approleMount}/role/${app.roleName}/secret-id/lookup`,
      { secret_id: staged.secret_id },
    );
    expect(lookup).toBeUndefined();
    expect(await fleet.secretJson(app.approleSecret)).toEqual(before);
    expect(Object.values(await stages(app.approleSecret)).flat()).not.toContain('AWSPENDING');
    expect(eventsOf(messages)).toEqual([`ERROR rotation-failed ${app.name}`]);
  });
});

describe('rotating a token secret', () => {
  it('logs in, stages, verifies and promotes the token; the next renew run re-issues the leases', async () => {
    // Prepare
    const { app, rotate, config } = await fixture('tok');
    const renew = scenario.harness(config);
    // The renewer's own lease documents record the token that issued them.
    await renew.invoke({ action: 'relogin', targets: [app.name] });
    const before = await scenario.fleet.secretJson(app.tokenSecret);
    const leaseBefore = await scenario.fleet.secretJson(app.leases[0]?.secret ?? '');
    const reports: RotationReport[] = [];

    // Act
    await rotateLikeSecretsManager(env, app.tokenSecret, async (event) => {
      reports.push(await rotate.invoke(event));
    });
    const report = await renew.invoke(SCHEDULED_EVENT);

    // Assess
    expect(reports.map((r) => r.outcome)).toEqual([
      'created',
      'nothing-to-set',
      'tested',
      'finished',
    ]);
    expect(reports[3]?.details?.leasesToReissue).toBe(1);
    const after = await scenario.fleet.secretJson(app.tokenSecret);
    expect(after.token).not.toBe(before.token);
    expect(after.owner).toBe('team-x');
    expect((await lookupSelf(scenario.fleet, String(after.token))).ok).toBe(true);
    const target = targetReport(report, app.name);
    expect(target.leases[0]?.outcome).toBe('reissued');
    const lease = await scenario.fleet.secretJson(app.leases[0]?.secret ?? '');
    const credentials = lease.data as { username: string; password: string };
    expect(credentials.username).not.toBe((leaseBefore.data as { username: string }).username);
    expect(lease.token_accessor).toBe(after.accessor);
    const evidence = [...rotate.output, JSON.stringify(reports)].join('\n');
    for (const secret of [before.token, after.token, credentials.password]) {
      expect(evidence).not.toContain(String(secret));
    }
    expect(await canLogin(env.DATABASE_URL, credentials.username, credentials.password)).toBe(true);
  });
});

describe('a rotated token that cannot outlive the horizon', () => {
  it('is made current and announced, with when it dies', async () => {
    // Prepare: the role's tokens live at most 100 s; the horizon of a 1-minute schedule is 180 s.
    const { app, rotate } = await fixture('short', {
      appRole: { tokenTtl: 60, tokenMaxTtl: 100 },
    });

    // Act
    const reports: RotationReport[] = [];
    await rotateLikeSecretsManager(env, app.tokenSecret, async (event) => {
      reports.push(await rotate.invoke(event));
    });

    // Assess
    expect(reports[2]).toMatchObject({
      outcome: 'tested',
      details: { outlivesHorizon: false },
      problems: [{ code: 'token-ttl-below-horizon', severity: 'ERROR' }],
    });
    const messages = await scenario.alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['ERROR token-ttl-below-horizon short']);
    expect(parseMessageDocument(messages[0]?.body ?? '')).toMatchObject({
      secondsUntilExpiry: expect.any(Number),
    });
  });
});

describe('rotating a token secret, every step twice', () => {
  it('stages one token and promotes it once', async () => {
    // Prepare
    const { app, rotate } = await fixture('tok2');
    const outcomes: string[] = [];

    // Act
    const { versionId } = await rotateLikeSecretsManager(env, app.tokenSecret, async (event) => {
      outcomes.push((await rotate.invoke(event)).outcome);
      outcomes.push((await rotate.invoke(event)).outcome);
    });

    // Assess
    expect(outcomes).toEqual([
      'created',
      'already-created',
      'nothing-to-set',
      'nothing-to-set',
      'tested',
      'tested',
      'finished',
      'already-current',
    ]);
    expect(await scenario.fleet.versionCount(app.tokenSecret)).toBe(2);
    const current = await scenario.fleet.secretJson(app.tokenSecret);
    expect(await versionValue(app.tokenSecret, versionId)).toEqual(current);
    expect((await lookupSelf(scenario.fleet, String(current.token))).ok).toBe(true);
  });
});

describe('rotation and renewal together', () => {
  it('a renew run in the middle of a rotation leaves a working AWSCURRENT and does not undo it', async () => {
    // Prepare
    const { app, rotate, config } = await fixture('mix');
    const renew = scenario.harness(config);
    const client = scenario.fleet.aws.secretsManager;
    const started = await client.send(
      new RotateSecretCommand({
        SecretId: app.approleSecret,
        RotationLambdaARN: await localRotationFunctionArn(env),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    const event = (Step: string) => ({
      Step,
      SecretId: app.approleSecret,
      ClientRequestToken: started.VersionId ?? '',
    });

    // Act: create and test, a renew run that logs in again, finish, another renew run.
    for (const step of ROTATION_STEPS.slice(0, 3)) await rotate.invoke(event(step));
    const during = await renew.invoke({ action: 'relogin', targets: [app.name] });
    await rotate.invoke(event('finishSecret'));
    const after = await renew.invoke({ action: 'relogin', targets: [app.name] });

    // Assess
    expect(targetReport(during, app.name).status).toBe('changed');
    expect(targetReport(after, app.name).status).toBe('changed');
    const current = await scenario.fleet.secretJson(app.approleSecret);
    expect(await versionValue(app.approleSecret, started.VersionId ?? '')).toEqual(current);
    expect(
      (
        await lookupSelf(
          scenario.fleet,
          String((await scenario.fleet.secretJson(app.tokenSecret)).token),
        )
      ).ok,
    ).toBe(true);
  });

  it('a token rotated while renew runs: every AWSCURRENT works and the rotation stays', async () => {
    // Prepare
    const { app, rotate, config } = await fixture('mixt');
    const renew = scenario.harness(config);
    let rotated = '';

    // Act: a re-login by renew between testSecret and finishSecret.
    await rotateLikeSecretsManager(env, app.tokenSecret, async (event) => {
      if (event.Step === 'finishSecret') {
        await renew.invoke({ action: 'relogin', targets: [app.name] });
        const between = await scenario.fleet.secretJson(app.tokenSecret);
        expect((await lookupSelf(scenario.fleet, String(between.token))).ok).toBe(true);
      }
      await rotate.invoke(event);
      rotated = event.ClientRequestToken;
    });
    const report = await renew.invoke(SCHEDULED_EVENT);

    // Assess
    const current = await scenario.fleet.secretJson(app.tokenSecret);
    expect(await versionValue(app.tokenSecret, rotated)).toEqual(
      expect.objectContaining({ token: current.token }),
    );
    expect((await lookupSelf(scenario.fleet, String(current.token))).ok).toBe(true);
    expect(targetReport(report, app.name).status).not.toBe('failed');
  });
});

describe('a renew run that read the AppRole secret just before a rotation finished', () => {
  it('reads the secret again when Vault refuses the old secret_id, and logs in with the new one', async () => {
    // Prepare: the whole rotation runs between the renew run's read and its login,
    // so the run holds a secret_id that finishSecret has just destroyed.
    const { app, rotate, config } = await fixture('race');
    let rotated = false;
    const renew = scenario.harness(config, {
      afterRead: async (ids) => {
        if (rotated || !ids.includes(app.approleSecret)) return;
        rotated = true;
        await rotateLikeSecretsManager(env, app.approleSecret, (event) => rotate.invoke(event));
      },
    });

    // Act
    const report = await renew.invoke({ action: 'relogin', targets: [app.name] });

    // Assess
    expect(rotated).toBe(true);
    const target = targetReport(report, app.name);
    expect(target.status).toBe('changed');
    expect(target.token.outcome).toBe('relogged-in');
    const token = String((await scenario.fleet.secretJson(app.tokenSecret)).token);
    expect((await lookupSelf(scenario.fleet, token)).ok).toBe(true);
    // No false alarm about the secret_id: the one the run logged in with is alive.
    expect(eventsOf(await scenario.alerts.receive(0, 1_000))).toEqual([]);
  });
});

describe('what the rotate function refuses', () => {
  it('refuses a secret without rotation, an unknown version and a secret no target lists', async () => {
    // Prepare
    const { app, rotate } = await fixture('ref');
    const stranger = await scenario.fleet.createSecret(`${scenario.fleet.prefix}/stranger`, '{}');

    // Act
    const notEnabled = rotate.invoke({
      Step: 'createSecret',
      SecretId: app.approleSecret,
      ClientRequestToken: randomUUID(),
    });
    const unknown = rotate.invoke({
      Step: 'createSecret',
      SecretId: stranger,
      ClientRequestToken: randomUUID(),
    });
    // Both run at once: one that fails while the other is awaited must already
    // have a handler, or Node reports it as an unhandled rejection.
    for (const attempt of [notEnabled, unknown]) attempt.catch(() => undefined);

    // Assess
    await expect(notEnabled).rejects.toThrow(RotationRefusedError);
    await expect(notEnabled).rejects.toThrow(/rotation is not enabled for secret/);
    await expect(unknown).rejects.toThrow(/neither the AppRole secret nor the token secret/);
    await rotateLikeSecretsManager(env, app.tokenSecret, (event) => rotate.invoke(event));
    await expect(
      rotate.invoke({
        Step: 'testSecret',
        SecretId: app.tokenSecret,
        ClientRequestToken: randomUUID(),
      }),
    ).rejects.toThrow(/is not a version of secret/);
  });

  it('checks the configuration without spending anything when Secrets Manager only tests it', async () => {
    // Prepare: a secret_id with two uses; a real login would spend one.
    const { app, rotate } = await fixture('cfg', { appRole: { secretIdNumUses: 2 } });
    const client = scenario.fleet.aws.secretsManager;

    // Act
    const started = await client.send(
      new RotateSecretCommand({
        SecretId: app.approleSecret,
        RotationLambdaARN: await localRotationFunctionArn(env),
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );
    const report = await rotate.invoke({
      Step: 'testSecret',
      SecretId: app.approleSecret,
      ClientRequestToken: started.VersionId ?? '',
    });

    // Assess
    expect(report.outcome).toBe('configuration-checked');
    const stored = await scenario.fleet.secretJson(app.approleSecret);
    const lookup = (await scenario.fleet.vault(
      'POST',
      `auth/${scenario.fleet.approleMount}/role/${app.roleName}/secret-id/lookup`,
      { secret_id: stored.secret_id },
    )) as { data: { secret_id_num_uses: number } };
    // Seeding logged in once: 2 - 1.
    expect(lookup.data.secret_id_num_uses).toBe(1);
  });
});
