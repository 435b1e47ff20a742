/**
 * Alerts as incidents, on the local stack with the incident table in moto's
 * DynamoDB: one message when an incident opens, when it worsens, a reminder
 * after reminderHours, one RESOLVED when a run finds it cleared; one message
 * per shared cause (a sealed Vault) however many targets it hits; publishing
 * as before when the table is unreachable.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDiagnoseHandler } from '../../functions/app/diagnose-handler.js';
import { createDynamoDbIncidentStore } from '../../functions/aws/dynamodb-incident-store.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { parseConfig } from '../../functions/config/load.js';
import { parseMessageDocument } from '../../functions/core/notification.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { type OpenBao, startOpenBao } from '../../tools/local-stack/openbao.js';
import { type StackEnv, vaultEnv } from '../../tools/local-stack/stack.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  eventsOf,
  healthyRole,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const HOUR_MS = 3_600_000;

/** A policy without renew-self: the renewer keeps the token and warns every run. */
function noRenewSelf(role: string): string {
  return [
    'path "auth/token/lookup-self" { capabilities = ["read"] }',
    'path "sys/capabilities-self" { capabilities = ["update"] }',
    `path "auth/${scenario.fleet.approleMount}/role/${role}/secret-id/lookup" { capabilities = ["update"] }`,
  ].join('\n');
}

let scenario: Scenario;
let table: string;
beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'inc');
  await scenario.fleet.role('warm-up', healthyRole);
  table = await scenario.fleet.incidentTable();
});

describe('a broken target is one incident', () => {
  it('publishes when it opens, stays quiet while it lasts, reminds after reminderHours, and says RESOLVED once', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('denied', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: noRenewSelf('denied'),
    });
    const config = configWith(fleet.env, [fleet.targetConfig(target)], { reminderHours: 24 });
    let offsetMs = 0;
    const renew = scenario.harness(config, {
      incidentTable: table,
      now: () => Date.now() + offsetMs,
    });

    // Act + Assess: the first run opens it.
    await renew.invoke(SCHEDULED_EVENT);
    const opened = await alerts.receive(1);
    expect(eventsOf(opened)).toEqual(['ERROR token-renew-denied denied']);
    expect(opened[0]?.attributes).toMatchObject({ state: 'opened', severity: 'ERROR' });

    // The second run: the same problem, told already.
    const second = await renew.invoke(SCHEDULED_EVENT);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
    expect(second.incidents).toMatchObject({ state: 'on', opened: 0, reminded: 0 });
    expect(second.notifications.published).toBe(0);

    // A day later: a reminder.
    offsetMs = 25 * HOUR_MS;
    await renew.invoke(SCHEDULED_EVENT);
    const reminder = await alerts.receive(1);
    expect(reminder[0]?.attributes).toMatchObject({ state: 'reminder' });
    expect(reminder[0]?.subject).toContain('(reminder)');

    // Fixed: one RESOLVED, then silence.
    await fleet.vault('PUT', `sys/policies/acl/${fleet.prefix}-${target.roleName}`, {
      policy: `${noRenewSelf('denied')}\npath "auth/token/renew-self" { capabilities = ["update"] }`,
    });
    await renew.invoke(SCHEDULED_EVENT);
    const resolved = await alerts.receive(1);
    expect(resolved[0]?.subject).toBe(
      `[OK] vault-renewer denied: ${resolved[0]?.subject.split(': ')[1]?.replace(/ resolved$/, '')} resolved`,
    );
    expect(resolved[0]?.attributes).toMatchObject({
      severity: 'OK',
      state: 'resolved',
      event: 'token-renew-denied',
      target: 'denied',
    });
    expect(parseMessageDocument(resolved[0]?.body ?? '')).toMatchObject({
      severity: 'OK',
      state: 'resolved',
      incident: expect.stringMatching(/:denied:token-renew-denied$/),
    });
    await renew.invoke(SCHEDULED_EVENT);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
  });

  it('publishes again when a WARNING becomes CRITICAL', async () => {
    // Prepare: a secret_id with 2 logins left (WARNING), then destroyed (CRITICAL).
    const { fleet, alerts } = scenario;
    const target = await fleet.target('worse', { ...healthyRole, secretIdNumUses: 3 });
    const renew = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]), {
      incidentTable: table,
    });
    await renew.invoke(SCHEDULED_EVENT);
    expect(eventsOf(await alerts.receive(1))).toEqual(['WARNING secret-id-expiring worse']);

    // Act
    await fleet.vault(
      'POST',
      `auth/${fleet.approleMount}/role/${target.roleName}/secret-id/destroy`,
      { secret_id: target.secretId },
    );
    await renew.invoke(SCHEDULED_EVENT);

    // Assess
    const worse = await alerts.receive(1);
    expect(eventsOf(worse)).toEqual(['CRITICAL secret-id-expiring worse']);
    expect(worse[0]?.attributes).toMatchObject({ state: 'worsened' });
  });

  it('tells an incident once when two runs overlap', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('twice', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: noRenewSelf('twice'),
    });
    const config = configWith(fleet.env, [fleet.targetConfig(target)]);
    const first = scenario.harness(config, { incidentTable: table });
    const second = scenario.harness(config, { incidentTable: table });

    // Act
    await Promise.all([first.invoke(SCHEDULED_EVENT), second.invoke(SCHEDULED_EVENT)]);

    // Assess
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-renew-denied twice']);
  });

  it('publishes as before, and says so, when the table cannot be reached', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('nostate', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: noRenewSelf('nostate'),
    });
    const renew = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]), {
      incidentTable: `${fleet.prefix}-no-such-table`,
    });

    // Act
    const one = await renew.invoke(SCHEDULED_EVENT);
    const two = await renew.invoke(SCHEDULED_EVENT);

    // Assess: never silenced, every run.
    expect(eventsOf(await alerts.receive(2))).toEqual([
      'ERROR token-renew-denied nostate',
      'ERROR token-renew-denied nostate',
    ]);
    expect(one.incidents?.state).toBe('unavailable');
    expect(two.incidents?.state).toBe('unavailable');
    expect(renew.output.join('')).toContain('incident state unavailable');
  });

  it('leaves incident state alone on a dry run, even one that publishes', async () => {
    // Prepare
    const { fleet, alerts } = scenario;
    const target = await fleet.target('dry', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: noRenewSelf('dry'),
    });
    const renew = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]), {
      incidentTable: table,
    });

    // Act
    const dry = await renew.invoke({ dryRun: true, notify: true });
    const dryMessages = await alerts.receive(1);
    await renew.invoke(SCHEDULED_EVENT);

    // Assess: the real run still opens the incident.
    expect(dry.incidents?.state).toBe('off');
    expect(dryMessages[0]?.attributes).toMatchObject({ dryRun: 'true' });
    const real = await alerts.receive(1);
    expect(real[0]?.attributes).toMatchObject({ state: 'opened' });
  });

  it('writes nothing for a healthy fleet', async () => {
    // Prepare
    const { fleet } = scenario;
    const target = await fleet.target('fine', healthyRole);
    const renew = scenario.harness(configWith(fleet.env, [fleet.targetConfig(target)]), {
      incidentTable: table,
    });

    // Act
    const report = await renew.invoke(SCHEDULED_EVENT);

    // Assess
    expect(report.incidents).toEqual({
      state: 'on',
      opened: 0,
      worsened: 0,
      reminded: 0,
      resolved: 0,
    });
    expect(report.notifications.published).toBe(0);
  });
});

describe('owners', () => {
  it("lets each team subscribe to its own targets' messages with a filter policy on owner", async () => {
    // Prepare: two teams' targets, both broken; one queue for the payments team
    // (its own messages, and those without an owner: shared causes)
    const { fleet, alerts } = scenario;
    const [pay, find] = await Promise.all(
      ['pay-api', 'find-api'].map((name) =>
        fleet.target(name, { ...healthyRole, noDefaultPolicy: true, policy: noRenewSelf(name) }),
      ),
    );
    const payments = await fleet.subscriber({
      topicArn: alerts.topicArn,
      name: 'payments-inbox',
      policy: { owner: ['payments', { exists: false }] },
    });
    const config = configWith(fleet.env, [
      { ...fleet.targetConfig(pay as NonNullable<typeof pay>), owner: 'payments' },
      { ...fleet.targetConfig(find as NonNullable<typeof find>), owner: 'search' },
    ]);

    // Act
    await scenario.harness(config).invoke(SCHEDULED_EVENT);

    // Assess: everyone's inbox has both, the payments team's only its own
    expect(eventsOf(await alerts.receive(2))).toEqual([
      'ERROR token-renew-denied find-api',
      'ERROR token-renew-denied pay-api',
    ]);
    const own = await payments.receive(1, 3_000);
    expect(eventsOf(own)).toEqual(['ERROR token-renew-denied pay-api']);
    expect(own[0]?.attributes).toMatchObject({ owner: 'payments', target: 'pay-api' });
    expect(parseMessageDocument(own[0]?.body ?? '')).toMatchObject({ owner: 'payments' });
  });
});

describe('diagnose lists open incidents', () => {
  it("shows a target's open incidents from the table, and says when it cannot read them", async () => {
    // Prepare: an incident opened by a renew run.
    const { fleet, alerts } = scenario;
    const target = await fleet.target('listed', {
      ...healthyRole,
      noDefaultPolicy: true,
      policy: noRenewSelf('listed'),
    });
    const config = configWith(fleet.env, [fleet.targetConfig(target)]);
    await scenario.harness(config, { incidentTable: table }).invoke(SCHEDULED_EVENT);
    await alerts.receive(1);
    const env = fleet.env;
    const aws = {
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    };
    const dynamodb = new DynamoDBClient({ ...aws, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
    const secretsManager = new SecretsManagerClient({
      ...aws,
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    });
    const vault = createVaultClient();
    const diagnoseWith = (
      tableName: string,
      event: Record<string, unknown> = {},
      notifier = { publish: async () => undefined },
    ) =>
      createDiagnoseHandler({
        config: parseConfig(JSON.stringify(config), { format: 'json' }),
        vault,
        store: { readBatch: createSecretsManagerStore({ client: secretsManager }).readBatch },
        incidents: createDynamoDbIncidentStore(dynamodb, tableName),
        notifier,
        logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'ERROR' }),
      })(event, { awsRequestId: 'diag', getRemainingTimeInMillis: () => 60_000 });

    // Act
    const listed = await diagnoseWith(table);
    const unreadable = await diagnoseWith(`${fleet.prefix}-no-such-table`);
    const unpublished = await diagnoseWith(
      table,
      { notify: true },
      {
        publish: async () => {
          throw new Error('SNS is down');
        },
      },
    );

    // Assess
    expect(listed.targets[0]?.incidents).toEqual([
      {
        key: 'token-renew-denied',
        code: 'token-renew-denied',
        severity: 'ERROR',
        openedAt: expect.any(String),
        lastPublishedAt: expect.any(String),
      },
    ]);
    expect(listed.table.join('\n')).toContain('open incidents: token-renew-denied ERROR since ');
    expect(unreadable.targets[0]?.incidentsError).toMatch(/ResourceNotFoundException|not found/);
    // The summary that could not be published is said, and the report is still the answer.
    expect(unpublished.notification).toEqual({
      requested: true,
      published: false,
      error: 'Error: SNS is down',
    });
    expect(unpublished.targets[0]?.incidents).toHaveLength(1);
    await vault.close();
    dynamodb.destroy();
    secretsManager.destroy();
  });
});

describe('a shared cause is one incident (a private OpenBao)', () => {
  let bao: OpenBao;
  let own: Scenario;
  beforeAll(async () => {
    bao = await startOpenBao();
    const env: StackEnv = { ...stackEnv(), ...vaultEnv(bao) };
    own = await createScenario(env, 'incbao');
    await own.fleet.role('warm-up', healthyRole);
  });
  afterAll(async () => {
    await bao?.stop();
  });

  it('publishes one message naming the count for a sealed Vault over 50 targets, and one RESOLVED', async () => {
    // Prepare
    const { fleet, alerts } = own;
    const targets = [];
    for (let i = 0; i < 50; i += 1) {
      targets.push(await fleet.target(`t${String(i).padStart(2, '0')}`, healthyRole));
    }
    const config = configWith(
      fleet.env,
      targets.map((t) => fleet.targetConfig(t)),
      { concurrency: 16 },
    );
    const renew = own.harness(config, {
      incidentTable: table,
      vaultRetry: { maxAttempts: 1 },
    });
    await bao.seal();

    // Act
    const sealed = await renew.invoke(SCHEDULED_EVENT);

    // Assess
    expect(sealed.summary.failed).toBe(50);
    const messages = await alerts.receive(1);
    expect(messages).toHaveLength(1);
    expect(messages[0]?.subject).toContain('(50 targets)');
    expect(parseMessageDocument(messages[0]?.body ?? '')).toMatchObject({
      event: 'vault-unreachable',
      state: 'opened',
      affectedTargets: 50,
      targets: targets.slice(0, 10).map((t) => t.name),
    });
    expect(messages[0]?.body).toContain('and 40 more');

    // Act: still sealed (quiet), then unsealed (one RESOLVED).
    await renew.invoke(SCHEDULED_EVENT);
    expect(await alerts.receive(0, 1_500)).toEqual([]);
    await bao.unseal();
    await renew.invoke(SCHEDULED_EVENT);

    // Assess
    const resolved = await alerts.receive(1);
    expect(resolved).toHaveLength(1);
    expect(resolved[0]?.attributes).toMatchObject({ severity: 'OK', state: 'resolved' });
    expect(resolved[0]?.subject).toContain('resolved');
  }, 120_000);
});
