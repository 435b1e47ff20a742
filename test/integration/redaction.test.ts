/**
 * Security: no token, secret_id, database password, lease id or accessor
 * leaves the renewer except into Secrets Manager. The real handler runs
 * against the local stack through the scenarios where secrets are closest to
 * the output (re-login that works and that fails, lease re-issue, malformed
 * secrets that hold secrets, Vault refusing a revoked token, dry run, a
 * forced re-login, refused console events, SNS failing); then every log line,
 * every SNS message, every change event, every returned report and every
 * thrown error is scanned for every value planted or created on the way.
 */

import { inspect } from 'node:util';
import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
} from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { NotificationFailedError } from '../../functions/app/renew-handler.js';
import type { Fleet, ReceivedNotification, SeededTarget } from '../../tools/local-stack/fleet.js';
import type { Harness } from '../support/renewer-harness.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  dbLease,
  eventsOf,
  healthyRole,
  type Scenario,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

/** Keys of the stored documents whose values must never leave Secrets Manager. */
const SENSITIVE_KEYS = new Set(['token', 'accessor', 'token_accessor', 'secret_id', 'lease_id']);
/** Credential fields inside a lease document's `data`. */
const SENSITIVE_DATA_KEYS = new Set(['password']);
/** A leak may be cut short (a slice, a wrapped line): the tail of a long value is searched too. */
const TAIL_CHARS = 12;
/** Values at least this long are searched by their tail as well; every plant is (asserted below). */
const MIN_PLANT_CHARS = 20;

interface Plant {
  readonly label: string;
  readonly value: string;
}

interface Evidence {
  readonly where: string;
  readonly text: string;
}

/** Every planted value found in the evidence, as `label in where`. */
function leaksIn(evidence: readonly Evidence[], plants: readonly Plant[]): string[] {
  const found: string[] = [];
  for (const { where, text } of evidence) {
    for (const { label, value } of plants) {
      const tail = value.length >= MIN_PLANT_CHARS ? value.slice(-TAIL_CHARS) : value;
      if (text.includes(value) || text.includes(tail)) {
        found.push(`${label} in ${where}`);
      }
    }
  }
  return found;
}

/** Values under sensitive keys anywhere in a stored JSON document. */
function sensitiveValues(document: unknown, label: string, into: Plant[], inData = false): void {
  if (document === null || typeof document !== 'object') {
    return;
  }
  for (const [key, value] of Object.entries(document)) {
    const sensitive = SENSITIVE_KEYS.has(key) || (inData && SENSITIVE_DATA_KEYS.has(key));
    if (sensitive && typeof value === 'string' && value !== '') {
      into.push({ label: `${key} of ${label}`, value });
    } else {
      sensitiveValues(value, label, into, inData || key === 'data');
    }
  }
}

/** Every version of a secret, by version id. */
async function allVersions(fleet: Fleet, secret: string): Promise<string[]> {
  const sm = fleet.aws.secretsManager;
  const listed = await sm.send(
    new ListSecretVersionIdsCommand({ SecretId: secret, IncludeDeprecated: true }),
  );
  return Promise.all(
    (listed.Versions ?? []).map(async (version) => {
      const got = await sm.send(
        new GetSecretValueCommand({ SecretId: secret, VersionId: version.VersionId }),
      );
      return got.SecretString ?? '';
    }),
  );
}

function secretsOf(target: SeededTarget): string[] {
  return [target.tokenSecret, target.approleSecret, ...target.leases.map((l) => l.secret)];
}

/** Everything an error shows when logged, printed or returned, down its cause chain. */
function errorEvidence(error: unknown, where: string): Evidence[] {
  const evidence: Evidence[] = [
    { where: `${where} (inspect)`, text: inspect(error, { depth: 10 }) },
  ];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 10; depth += 1) {
    evidence.push({ where: `${where} (String, cause depth ${depth})`, text: String(current) });
    if (current instanceof Error) {
      evidence.push({ where: `${where} (message, cause depth ${depth})`, text: current.message });
      evidence.push({ where: `${where} (stack, cause depth ${depth})`, text: current.stack ?? '' });
    }
    current = (current as { cause?: unknown }).cause;
  }
  return evidence;
}

function messageEvidence(messages: readonly ReceivedNotification[], run: string): Evidence[] {
  return messages.flatMap((message, i) => [
    { where: `SNS subject #${i} of ${run}`, text: message.subject },
    { where: `SNS body #${i} of ${run}`, text: message.body },
    { where: `SNS attributes #${i} of ${run}`, text: JSON.stringify(message.attributes) },
  ]);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the invocation to fail');
    },
    (error: unknown) => error,
  );
}

async function putSecret(fleet: Fleet, secret: string, value: string): Promise<void> {
  await fleet.aws.secretsManager.send(
    new PutSecretValueCommand({ SecretId: secret, SecretString: value }),
  );
}

describe('redaction: secrets never reach logs, SNS, change events, reports or errors', () => {
  let scenario: Scenario;
  const plantedSecretId = `PLANTED-SECRET-ID-${Math.random().toString(16).slice(2, 14)}`;
  const harnesses: Harness[] = [];
  const messages: Evidence[] = [];
  const changeEvents: Evidence[] = [];
  const reports: Evidence[] = [];
  const errors: Evidence[] = [];
  const received: Record<string, string[]> = {};
  const thrown: Record<string, unknown> = {};
  const plants: Plant[] = [];
  let targets: Record<string, SeededTarget> = {};
  let nonRenewableToken = '';

  beforeAll(async () => {
    // Prepare: targets whose secrets sit right where a careless error would quote them
    scenario = await createScenario(stackEnv(), 'rd');
    const { fleet, alerts } = scenario;
    const fixed = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    nonRenewableToken = fixed.auth.client_token;
    const seeded = [
      // Vault refuses the revoked token; the re-login works; the lease died with the token.
      await fleet.target('relog', healthyRole, { leases: [dbLease] }),
      // Vault refuses the revoked token; the re-login fails on a wrong secret_id.
      await fleet.target('badid', healthyRole, { storedSecretId: plantedSecretId }),
      await fleet.target('gone', healthyRole, { leases: [dbLease] }),
      await fleet.target('malformed', healthyRole),
      await fleet.target('badlease', healthyRole, { leases: [dbLease] }),
      await fleet.target('badapprole', healthyRole),
      await fleet.target('fixed', healthyRole, {
        leases: [dbLease],
        storedToken: nonRenewableToken,
      }),
    ];
    targets = Object.fromEntries(seeded.map((t) => [t.name, t]));
    const t = (name: string): SeededTarget => targets[name] as SeededTarget;
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: t('relog').accessor });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: t('badid').accessor });
    await fleet.vault('POST', 'sys/leases/revoke', { lease_id: t('gone').leases[0]?.leaseId });
    // Malformed documents that hold real secrets: a parser error quoting its input would leak them.
    await putSecret(
      fleet,
      t('malformed').tokenSecret,
      `token=${t('malformed').token}\nsecret_id=${t('malformed').secretId}`,
    );
    const badLease = t('badlease').leases[0];
    await putSecret(
      fleet,
      badLease?.secret ?? '',
      JSON.stringify({
        lease_id: 42,
        lease: badLease?.leaseId,
        data: { username: badLease?.username, password: badLease?.password },
      }),
    );
    await putSecret(
      fleet,
      t('badapprole').approleSecret,
      JSON.stringify({ role_id: t('badapprole').roleId, secret_id: [t('badapprole').secretId] }),
    );

    const config = configWith(
      fleet.env,
      seeded.map((target) => fleet.targetConfig(target)),
      // Every notable event is published, so every message kind is scanned.
      { defaults: { notify: { onRelogin: true, onReissue: true } } },
    );
    const consumer = await fleet.changeEventConsumer();
    // With incident state: RESOLVED and shared-cause messages are scanned too.
    const harness = scenario.harness(config, {
      eventBusName: consumer.eventBusName,
      incidentTable: await fleet.incidentTable(),
    });
    harnesses.push(harness);
    const run = async (name: string, event: unknown, expected: number, changes: number) => {
      const report = await harness.invoke(event);
      reports.push({ where: `report of ${name}`, text: JSON.stringify(report) });
      const got = await alerts.receive(expected);
      received[name] = eventsOf(got);
      messages.push(...messageEvidence(got, name));
      const events = await consumer.receive(changes);
      changeEvents.push(
        ...events.map((e, i) => ({ where: `change event #${i} of ${name}`, text: e.raw })),
      );
    };

    // Act
    await run('dry run', { dryRun: true, notify: true }, 7, 0);
    // relog and fixed log in again; the leases of relog, fixed and gone are re-issued.
    await run('scheduled run', SCHEDULED_EVENT, 12, 5);
    // relog's dead token was repaired by the scheduled run: told then, no incident to resolve.
    await run('forced re-login', { action: 'relogin', targets: ['relog'] }, 2, 2);
    const invalidEvents: Record<string, unknown> = {
      'secrets in unknown fields': {
        action: t('relog').token,
        dryRun: t('relog').secretId,
        password: t('relog').leases[0]?.password,
      },
      'a lease id as targets': { targets: t('gone').leases[0]?.leaseId },
      'an empty target list': { targets: [], dryRun: true },
    };
    for (const [name, event] of Object.entries(invalidEvents)) {
      thrown[name] = await rejection(harness.invoke(event));
    }
    // SNS failing: a topic that does not exist
    const silenced = scenario.harness(config, {
      topicArn: `${alerts.topicArn}-does-not-exist`,
      awsMaxAttempts: 1,
    });
    harnesses.push(silenced);
    thrown['SNS failure'] = await rejection(silenced.invoke(SCHEDULED_EVENT));
    for (const [name, error] of Object.entries(thrown)) {
      errors.push(...errorEvidence(error, `error of ${name}`));
    }

    // Collect every value that must stay secret: what was seeded, and
    // whatever the renewer wrote into Secrets Manager on the way
    for (const target of seeded) {
      plants.push(
        { label: `seeded token of ${target.name}`, value: target.token },
        { label: `seeded accessor of ${target.name}`, value: target.accessor },
        { label: `secret_id of ${target.name}`, value: target.secretId },
        ...target.leases.flatMap((l) => [
          { label: `seeded lease id of ${target.name}/${l.name}`, value: l.leaseId },
          { label: `seeded password of ${target.name}/${l.name}`, value: l.password },
        ]),
      );
      for (const secret of secretsOf(target)) {
        for (const version of await allVersions(fleet, secret)) {
          try {
            sensitiveValues(JSON.parse(version), secret, plants);
          } catch {
            // The malformed secrets: their values are seeded plants already.
          }
        }
      }
    }
    plants.push({ label: 'planted wrong secret_id', value: plantedSecretId });
  }, 90_000);

  it('really used the planted values (the scan below can fail)', async () => {
    const { fleet } = scenario;
    const t = (name: string): SeededTarget => targets[name] as SeededTarget;
    // The secrets held them while the renewer read them.
    expect((await fleet.secretJson(t('badid').approleSecret)).secret_id).toBe(plantedSecretId);
    expect(await fleet.secretValue(t('malformed').tokenSecret)).toContain(t('malformed').token);
    expect(await fleet.secretValue(t('badlease').leases[0]?.secret ?? '')).toContain(
      t('badlease').leases[0]?.password,
    );
    expect((await fleet.secretJson(t('fixed').tokenSecret)).token).not.toBe(nonRenewableToken);
    // The renewer created new ones: two re-logins of "relog", one of "fixed", new leases.
    const tokens = plants.filter((p) => p.label.startsWith('token of '));
    expect(new Set(tokens.map((p) => p.value)).size).toBeGreaterThanOrEqual(5);
    expect(plants.filter((p) => p.label.startsWith('password of ')).length).toBeGreaterThan(0);
    expect(plants.filter((p) => p.label.startsWith('token_accessor of ')).length).toBeGreaterThan(
      0,
    );
    expect(plants.filter((p) => p.value.length < MIN_PLANT_CHARS)).toEqual([]);
    // The runs did what the scenarios are about.
    // (How a dry run words a revoked token is asserted in renew-operations.test.ts.)
    expect(received['dry run']).toHaveLength(7);
    expect(received['dry run']).toEqual(
      expect.arrayContaining([
        'ERROR secret-malformed badlease/db',
        'ERROR secret-malformed malformed',
        'WARNING approle-secret-unusable badapprole',
        'WARNING lease-orphaned gone/db',
        'WARNING token-not-renewable fixed',
      ]),
    );
    expect(received['scheduled run']).toEqual([
      'CRITICAL relogin-bad-credentials badid',
      'ERROR secret-malformed badlease/db',
      'ERROR secret-malformed malformed',
      'ERROR token-invalid relog',
      'INFO lease-reissued fixed/db',
      'INFO lease-reissued gone/db',
      'INFO lease-reissued relog/db',
      'INFO relogin fixed',
      'INFO relogin relog',
      'WARNING approle-secret-unusable badapprole',
      'WARNING lease-orphaned gone/db',
      'WARNING token-not-renewable fixed',
    ]);
    expect(received['forced re-login']).toEqual([
      'INFO lease-reissued relog/db',
      'INFO relogin relog',
    ]);
    expect(thrown['SNS failure']).toBeInstanceOf(NotificationFailedError);
    for (const name of [
      'secrets in unknown fields',
      'a lease id as targets',
      'an empty target list',
    ]) {
      expect(thrown[name]).toMatchObject({ name: 'InvalidEventError' });
    }
    expect(harnesses.flatMap((h) => h.output).join('')).toContain('could not publish notification');
    // The scanner finds a plant wherever it sits, whole or cut short.
    for (const plant of plants) {
      expect(leaksIn([{ where: 'probe', text: `x${plant.value}y` }], [plant])).toHaveLength(1);
      expect(
        leaksIn([{ where: 'probe', text: plant.value.slice(-TAIL_CHARS) }], [plant]),
      ).toHaveLength(1);
    }
  });

  it('no log line or metric holds a planted value', () => {
    const lines = harnesses.flatMap((h, i) =>
      h.output.map((text, j) => ({ where: `harness ${i} output line ${j}`, text })),
    );
    expect(lines.length).toBeGreaterThan(50);
    expect(leaksIn(lines, plants)).toEqual([]);
  });

  it('no SNS subject, body or attribute holds a planted value', () => {
    expect(messages.length).toBe(3 * 21);
    expect(leaksIn(messages, plants)).toEqual([]);
  });

  it('no change event holds a planted value', () => {
    expect(changeEvents).toHaveLength(7);
    expect(leaksIn(changeEvents, plants)).toEqual([]);
  });

  it('no returned report holds a planted value', () => {
    expect(reports).toHaveLength(3);
    expect(leaksIn(reports, plants)).toEqual([]);
  });

  it('no thrown error holds a planted value, down its cause chain', () => {
    expect(Object.keys(thrown)).toHaveLength(4);
    expect(leaksIn(errors, plants)).toEqual([]);
  });
});
