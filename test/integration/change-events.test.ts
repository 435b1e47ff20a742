/**
 * Change events on the local stack, received as a consumer receives them: a
 * bus, a rule matching `vault-renewer` / `Credential Changed`, and an SQS
 * queue as its target (moto delivers PutEvents to SQS rule targets). The real
 * renew and rotate handlers put them; each scenario checks the version ids
 * against Secrets Manager's AWSCURRENT and scans every event for the values
 * planted in Vault and PostgreSQL.
 */

import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ChangeEventConsumer, ReceivedEvent } from '../../tools/local-stack/fleet.js';
import { rotateLikeSecretsManager } from '../../tools/local-stack/rotation-function.js';
import { createRotateHarness, SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  dbLease,
  healthyRole,
  rotatedTarget,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const env = stackEnv();
let scenario: Scenario;

beforeAll(async () => {
  scenario = await createScenario(env, 'chg');
});

/** The secret's ARN and the version that holds AWSCURRENT, as Secrets Manager says. */
async function current(secretId: string): Promise<{ arn: string; versionId: string }> {
  const described = await scenario.fleet.aws.secretsManager.send(
    new DescribeSecretCommand({ SecretId: secretId }),
  );
  const versionId = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) =>
    stages.includes('AWSCURRENT'),
  )?.[0];
  return { arn: described.ARN ?? '', versionId: versionId ?? '' };
}

function byKindAndName(events: readonly ReceivedEvent[]): Map<string, ReceivedEvent> {
  return new Map(events.map((e) => [`${String(e.detail.kind)}/${String(e.detail.name)}`, e]));
}

function expectNoneOf(planted: readonly unknown[], evidence: string): void {
  for (const value of planted) {
    expect(String(value).length).toBeGreaterThan(8);
    expect(evidence).not.toContain(String(value));
  }
}

describe('change events of a renew run', () => {
  let consumer: ChangeEventConsumer;
  beforeAll(async () => {
    consumer = await scenario.fleet.changeEventConsumer('renew');
  });

  it('puts a token event and a lease event on a re-login, with the versions Secrets Manager made current', async () => {
    // Prepare
    const { fleet } = scenario;
    const app = await fleet.target('rl', healthyRole, { leases: [dbLease] });
    const lease = app.leases[0];
    if (lease === undefined) throw new Error('the fixture has a lease');
    const harness = scenario.harness(configWith(env, [fleet.targetConfig(app)]), {
      eventBusName: consumer.eventBusName,
    });

    // Act
    const report = await harness.invoke({ action: 'relogin', targets: [app.name] });

    // Assess
    const events = await consumer.receive(2, 10_000);
    expect(report.changeEvents).toEqual({ published: 2, failed: 0 });
    expect(events).toHaveLength(2);
    const found = byKindAndName(events);
    const [tokenSecret, leaseSecret] = await Promise.all([
      current(app.tokenSecret),
      current(lease.secret),
    ]);
    const storedToken = await fleet.secretJson(app.tokenSecret);
    const storedLease = await fleet.secretJson(lease.secret);
    expect(found.get('token/token')).toMatchObject({
      source: 'vault-renewer',
      'detail-type': 'Credential Changed',
      resources: [tokenSecret.arn],
      detail: {
        target: app.name,
        kind: 'token',
        name: 'token',
        secretArn: tokenSecret.arn,
        versionId: tokenSecret.versionId,
        reason: 'requested',
        // Vault's nanoseconds, in the events' one form.
        expiresAt: new Date(String(storedToken.expires_at)).toISOString(),
      },
    });
    expect(found.get('lease/db')).toMatchObject({
      source: 'vault-renewer',
      'detail-type': 'Credential Changed',
      detail: {
        target: app.name,
        kind: 'lease',
        name: 'db',
        secretArn: leaseSecret.arn,
        versionId: leaseSecret.versionId,
        reason: 'token-replaced',
        expiresAt: storedLease.expires_at,
      },
    });
    expect(Object.keys(found.get('lease/db')?.detail ?? {}).sort()).toEqual([
      'expiresAt',
      'kind',
      'name',
      'reason',
      'secretArn',
      'target',
      'versionId',
    ]);
    // Nothing secret: old and new token, secret_id, old and new database password.
    const newPassword = (storedLease.data as { password: string }).password;
    expectNoneOf(
      [
        app.token,
        storedToken.token,
        storedToken.accessor,
        app.secretId,
        lease.password,
        newPassword,
      ],
      events.map((e) => e.raw).join('\n'),
    );
  });

  it('puts nothing for a healthy run, nor for a dry run that would log in again', async () => {
    // Prepare
    const { fleet } = scenario;
    const app = await fleet.target('calm', healthyRole, { leases: [dbLease] });
    const harness = scenario.harness(configWith(env, [fleet.targetConfig(app)]), {
      eventBusName: consumer.eventBusName,
    });

    // Act
    const healthy = await harness.invoke(SCHEDULED_EVENT);
    const dry = await harness.invoke({ action: 'relogin', targets: [app.name], dryRun: true });

    // Assess
    expect(healthy.targets[0]?.status).toBe('ok');
    expect(dry.targets[0]?.token.outcome).toBe('would-relogin');
    expect([healthy.changeEvents, dry.changeEvents]).toEqual([
      { published: 0, failed: 0 },
      { published: 0, failed: 0 },
    ]);
    expect(await consumer.receive(0, 1_000)).toEqual([]);
  });

  it('keeps the new credentials and reports the failure when the bus does not exist', async () => {
    // Prepare
    const { fleet } = scenario;
    const app = await fleet.target('nobus', healthyRole, { leases: [dbLease] });
    const before = await fleet.secretJson(app.tokenSecret);
    const harness = scenario.harness(configWith(env, [fleet.targetConfig(app)]), {
      eventBusName: `${fleet.prefix}-no-such-bus`,
    });

    // Act
    const report = await harness.invoke({ action: 'relogin', targets: [app.name] });

    // Assess: the run succeeded, the change happened, the failure is counted and logged.
    expect(report.targets[0]?.status).toBe('changed');
    expect((await fleet.secretJson(app.tokenSecret)).token).not.toBe(before.token);
    expect(report.changeEvents).toEqual({ published: 0, failed: 2 });
    const logged = harness.output.filter((line) => line.includes('could not put change events'));
    expect(logged).toHaveLength(1);
    expect(logged[0]).toContain(app.name);
    expect(harness.output.join('\n')).toContain('"ChangeEventsFailed"');
  });
});

describe('change events of a rotation', () => {
  it('puts one event at finishSecret, with the rotation version as versionId, for an AppRole and a token secret', async () => {
    // Prepare: a workload target and a rotator allowed to issue its secret_ids.
    const { fleet, alerts } = scenario;
    const consumer = await fleet.changeEventConsumer('rotate');
    const { app, rotator, config } = await rotatedTarget(fleet, env, 'rot');
    const rotate = createRotateHarness({
      env,
      config,
      topicArn: alerts.topicArn,
      eventBusName: consumer.eventBusName,
    });
    const approleBefore = await fleet.secretJson(app.approleSecret);
    const beforeFinish: ReceivedEvent[] = [];

    try {
      // Act
      const approle = await rotateLikeSecretsManager(env, app.approleSecret, async (event) => {
        if (event.Step === 'finishSecret') beforeFinish.push(...(await consumer.receive(0, 0)));
        await rotate.invoke(event);
      });
      const approleEvents = await consumer.receive(1, 10_000);
      const token = await rotateLikeSecretsManager(env, app.tokenSecret, async (event) => {
        await rotate.invoke(event);
      });
      const tokenEvents = await consumer.receive(1, 10_000);

      // Assess
      expect(beforeFinish).toEqual([]);
      expect(approleEvents.map((e) => e.detail)).toEqual([
        {
          target: app.name,
          kind: 'approle',
          name: 'approle',
          secretArn: approle.arn,
          versionId: approle.versionId,
          reason: 'rotation',
          expiresAt: null,
        },
      ]);
      expect((await current(app.approleSecret)).versionId).toBe(approle.versionId);
      const storedToken = await fleet.secretJson(app.tokenSecret);
      expect(tokenEvents.map((e) => e.detail)).toEqual([
        {
          target: app.name,
          kind: 'token',
          name: 'token',
          secretArn: token.arn,
          versionId: token.versionId,
          reason: 'rotation',
          expiresAt: new Date(String(storedToken.expires_at)).toISOString(),
        },
      ]);
      expect((await current(app.tokenSecret)).versionId).toBe(token.versionId);
      const approleAfter = await fleet.secretJson(app.approleSecret);
      expectNoneOf(
        [
          approleBefore.secret_id,
          approleAfter.secret_id,
          app.token,
          storedToken.token,
          rotator.token,
        ],
        [...approleEvents, ...tokenEvents].map((e) => e.raw).join('\n'),
      );
    } finally {
      await rotate.close();
    }
  });
});
