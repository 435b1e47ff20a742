/**
 * Failure mode 9 of design.md, end to end: Vault sealed, down, slow or
 * rate-limiting; Secrets Manager throttling; SNS down; a write whose answer was
 * lost; a run Lambda retries. The real renew handler against real servers on
 * the real clock. Sealing and outages are the real thing (a private OpenBao
 * this file starts); latency, error answers and dropped connections come from
 * the fault proxy. Each scenario asserts the report, what Secrets Manager
 * holds, Vault's state, and the exact SNS messages a subscribed queue received.
 */

import { ListSecretVersionIdsCommand } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEADLINE_MARGIN_MS, NotificationFailedError } from '../../functions/app/renew-handler.js';
import type { RunReport } from '../../functions/renewal/report.js';
import type { Fleet, SeededTarget } from '../../tools/local-stack/fleet.js';
import { type OpenBao, startOpenBao } from '../../tools/local-stack/openbao.js';
import { vaultEnv } from '../../tools/local-stack/stack.js';
import { type FaultProxy, rateLimited, startFaultProxy } from '../support/fault-proxy.js';
import { type Harness, type HarnessOptions, SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  dbLease,
  eventsOf,
  healthyRole,
  lookupSelf,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { type StackEnv, stackEnv } from '../support/stack-env.js';

/** Short Vault retries: each scenario spends at most a second in backoff. */
const vaultRetry = { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 300 };
const RENEW_SELF = '/v1/auth/token/renew-self';
/** The secret_id lookup every run makes with the target's token (secret-id-step.ts). */
const secretIdLookupPath = (fleet: Fleet, target: SeededTarget) =>
  `/v1/auth/${fleet.approleMount}/role/${target.roleName}/secret-id/lookup`;
/** What AWS's JSON protocol answers when a call is throttled. */
const THROTTLED = {
  status: 400,
  body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
  headers: { 'content-type': 'application/x-amz-json-1.1' },
};
/** What SNS's query protocol answers for an internal failure. */
const SNS_INTERNAL_ERROR = {
  status: 500,
  headers: { 'content-type': 'text/xml' },
  body: '<ErrorResponse><Error><Type>Receiver</Type><Code>InternalError</Code><Message>Service unavailable</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>',
};

/** A harness whose Vault client retries briefly; closed when the test ends. */
function harnessFor(
  scenario: Scenario,
  config: Record<string, unknown>,
  options: Partial<HarnessOptions> = {},
): Harness {
  const harness = scenario.harness(config, { vaultRetry, ...options });
  onTestFinished(() => harness.close());
  return harness;
}

/** A fault proxy in front of `upstream`; closed when the test ends. */
async function proxyFor(upstream: string): Promise<FaultProxy> {
  const proxy = await startFaultProxy(upstream);
  onTestFinished(() => proxy.close());
  return proxy;
}

/** Invokes and measures the wall-clock time the invocation took. */
async function timedInvoke(
  harness: Harness,
  remainingMs?: number,
): Promise<{ report: RunReport; elapsedMs: number }> {
  const started = Date.now();
  const report = await harness.invoke(SCHEDULED_EVENT, remainingMs);
  return { report, elapsedMs: Date.now() - started };
}

/** The AppRole uses the stored secret_id has left (Vault decrements it at each login). */
async function secretIdUsesLeft(fleet: Fleet, target: SeededTarget): Promise<number> {
  const answer = (await fleet.vault(
    'POST',
    `auth/${fleet.approleMount}/role/${target.roleName}/secret-id/lookup`,
    { secret_id: target.secretId },
  )) as { data: { secret_id_num_uses: number } };
  return answer.data.secret_id_num_uses;
}

/** Whether Vault recorded a renewal of `token` (lookup-self itself renews nothing). */
async function wasRenewed(fleet: Fleet, token: string): Promise<boolean> {
  const looked = await lookupSelf(fleet, token);
  if (!looked.ok) {
    throw new Error(`lookup-self failed: ${looked.error}`);
  }
  return looked.data.last_renewal_time !== undefined;
}

/** The JSON log lines the handler printed. */
function logLines(harness: Harness): Record<string, unknown>[] {
  return harness.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function problemCodes(report: RunReport, name: string): string[] {
  return targetReport(report, name).problems.map((p) => `${p.severity} ${p.code}`);
}

describe('renew handler when Vault itself is out (a private OpenBao)', () => {
  let bao: OpenBao;
  let scenario: Scenario;
  beforeAll(async () => {
    bao = await startOpenBao();
    const env: StackEnv = { ...stackEnv(), ...vaultEnv(bao) };
    scenario = await createScenario(env, 'bao');
  });
  afterAll(async () => {
    await bao?.stop();
  });

  it('reports a Vault sealed mid-run per target and in one message, never logs in again, and renews normally once unsealed', async () => {
    // Prepare: two targets whose secret_id has exactly one use left, behind a
    // proxy that holds the first renew-self until Vault is sealed.
    const { fleet, alerts } = scenario;
    const role = { ...healthyRole, secretIdNumUses: 2 };
    const first = await fleet.target('sealed-a', role, { leases: [dbLease] });
    const second = await fleet.target('sealed-b', role);
    const proxy = await proxyFor(bao.addr);
    const harness = harnessFor(
      scenario,
      configWith(
        fleet.env,
        [first, second].map((t) => fleet.targetConfig(t, { vault: { address: proxy.url } })),
        { concurrency: 1 },
      ),
    );
    proxy.addFault({ match: { path: RENEW_SELF }, latencyMs: 1_000, times: 1 });
    expect(await secretIdUsesLeft(fleet, first)).toBe(1);

    // Act: seal while the run's first Vault call is in flight
    const running = harness.invoke(SCHEDULED_EVENT);
    await expect
      .poll(() => proxy.requests.length, { interval: 10, timeout: 5_000 })
      .toBeGreaterThan(0);
    await bao.seal();
    const report = await running;

    // Assess
    for (const name of ['sealed-a', 'sealed-b']) {
      expect(targetReport(report, name)).toMatchObject({
        status: 'failed',
        writes: 0,
        token: { outcome: 'failed', reason: 'vault-unavailable' },
      });
      expect(targetReport(report, name).problems).toMatchObject([
        {
          code: 'vault-unreachable',
          severity: 'ERROR',
          answer: '503 sealed: Vault is sealed (auth/token/renew-self)',
        },
      ]);
    }
    expect(targetReport(report, 'sealed-a').leases).toMatchObject([
      { name: 'db', outcome: 'skipped', reason: 'Vault unreachable' },
    ]);
    // Three attempts per target at renew-self, each answered "sealed"; no login, no lease call.
    expect(proxy.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual(
      Array(6).fill(`POST ${RENEW_SELF} 503`),
    );
    for (const target of [first, second]) {
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
      expect(await fleet.secretJson(target.tokenSecret)).toEqual({
        token: target.token,
        owner: 'team-x',
      });
    }
    expect(await fleet.versionCount(first.leases[0]?.secret ?? '')).toBe(1);
    // One cause, one message: the Vault, counting and naming both targets.
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual([`ERROR vault-unreachable vault:${proxy.url}`]);
    expect(messages[0]?.body).toContain('Vault is sealed');
    expect(messages[0]?.body).toContain('for 2 targets: sealed-a, sealed-b.');

    // Act: unseal, next scheduled run
    await bao.unseal();
    expect(await secretIdUsesLeft(fleet, first)).toBe(1);
    expect(await wasRenewed(fleet, first.token)).toBe(false);
    const next = await harness.invoke(SCHEDULED_EVENT);

    // Assess: renewed in place, nothing written, secret_id still unspent; its last use announced
    expect(next.summary).toMatchObject({ targets: 2, ok: 2, failed: 0, problems: 2 });
    for (const name of ['sealed-a', 'sealed-b']) {
      expect(problemCodes(next, name)).toEqual(['WARNING secret-id-expiring']);
    }
    expect(targetReport(next, 'sealed-a').leases).toMatchObject([
      { name: 'db', outcome: 'renewed' },
    ]);
    for (const target of [first, second]) {
      expect(await wasRenewed(fleet, target.token)).toBe(true);
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
      expect(await secretIdUsesLeft(fleet, target)).toBe(1);
    }
    expect(proxy.requests.some((r) => r.path.includes('/login'))).toBe(false);
    expect(eventsOf(await alerts.receive(2))).toEqual([
      'WARNING secret-id-expiring sealed-a',
      'WARNING secret-id-expiring sealed-b',
    ]);
    // The secret_id the renewer kept its hands off still logs in.
    await expect(fleet.login(first.roleId, first.secretId)).resolves.toMatchObject({
      token: expect.any(String),
    });
  });

  describe('once the OpenBao process is stopped', () => {
    let first: SeededTarget;
    let second: SeededTarget;
    let config: Record<string, unknown>;
    beforeAll(async () => {
      const { fleet } = scenario;
      first = await fleet.target('down-a', healthyRole);
      second = await fleet.target('down-b', healthyRole);
      config = configWith(fleet.env, [fleet.targetConfig(first), fleet.targetConfig(second)]);
      await bao.stop();
    });

    it('reports every target as vault-unreachable well inside the deadline and writes nothing', async () => {
      const { fleet, alerts } = scenario;
      const harness = harnessFor(scenario, config);

      const { report, elapsedMs } = await timedInvoke(harness, 60_000);

      // Three quick attempts per target, not a wait for the 55 s deadline.
      expect(elapsedMs).toBeLessThan(5_000);
      expect(report.summary).toMatchObject({ targets: 2, failed: 2, ok: 0, skipped: 0 });
      for (const name of ['down-a', 'down-b']) {
        expect(targetReport(report, name)).toMatchObject({
          status: 'failed',
          writes: 0,
          token: { outcome: 'failed', reason: 'vault-unavailable' },
        });
        expect(problemCodes(report, name)).toEqual(['ERROR vault-unreachable']);
      }
      for (const target of [first, second]) {
        expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
        expect((await fleet.secretJson(target.tokenSecret)).token).toBe(target.token);
        expect(await fleet.versionCount(target.approleSecret)).toBe(1);
      }
      expect(eventsOf(await alerts.receive(1))).toEqual([
        `ERROR vault-unreachable vault:${bao.addr}`,
      ]);
    });

    it("says in the report and the message that Vault's address refused the connection", async () => {
      const { alerts } = scenario;
      const harness = harnessFor(scenario, config);

      const report = await harness.invoke(SCHEDULED_EVENT);
      const messages = await alerts.receive(1);

      // undici hides ECONNREFUSED in error.cause; the answer must lift it (style.md 6).
      expect(eventsOf(messages)).toEqual([`ERROR vault-unreachable vault:${bao.addr}`]);
      for (const name of ['down-a', 'down-b']) {
        expect(targetReport(report, name).problems[0]?.answer).toMatch(
          /connect ECONNREFUSED 127\.0\.0\.1:\d+/,
        );
      }
      for (const message of messages) {
        expect(message.body).toMatch(/Vault\/AWS answered: .*ECONNREFUSED/);
      }
    });
  });
});

describe('renew handler on the local stack with faults in the way', () => {
  let scenario: Scenario;
  beforeAll(async () => {
    scenario = await createScenario(stackEnv(), 'out');
  });

  it('stops at the deadline when Vault is too slow, and lists the targets it never started', async () => {
    // Prepare: renew-self answers after 4 s; the run's deadline is 3.5 s away
    // (a target needs 3 s of budget to start, so only the first one starts).
    const { fleet, alerts } = scenario;
    const targets = [
      await fleet.target('slow-1', healthyRole),
      await fleet.target('slow-2', healthyRole, { leases: [dbLease] }),
      await fleet.target('slow-3', healthyRole),
    ];
    const proxy = await proxyFor(fleet.env.VAULT_ADDR);
    proxy.addFault({ match: { path: RENEW_SELF }, latencyMs: 4_000 });
    const harness = harnessFor(
      scenario,
      configWith(
        fleet.env,
        targets.map((t) => fleet.targetConfig(t, { vault: { address: proxy.url } })),
        { concurrency: 1 },
      ),
    );
    const runDeadlineMs = 3_500;

    // Act
    const { report, elapsedMs } = await timedInvoke(harness, DEADLINE_MARGIN_MS + runDeadlineMs);

    // Assess: back at the run's deadline (plus publishing), far from Lambda's own end
    expect(elapsedMs).toBeGreaterThanOrEqual(runDeadlineMs - 200);
    expect(elapsedMs).toBeLessThan(runDeadlineMs + 1_000);
    expect(report.summary).toMatchObject({ targets: 3, failed: 1, skipped: 2, ok: 0 });
    expect(targetReport(report, 'slow-1')).toMatchObject({
      status: 'failed',
      writes: 0,
      token: { outcome: 'failed', reason: 'vault-unavailable' },
      problems: [
        {
          code: 'vault-unreachable',
          severity: 'ERROR',
          answer: expect.stringMatching(
            /^timeout: Vault POST auth\/token\/renew-self failed: deadline passed/,
          ),
        },
      ],
    });
    for (const name of ['slow-2', 'slow-3']) {
      expect(targetReport(report, name)).toMatchObject({
        status: 'skipped',
        writes: 0,
        token: { outcome: 'untouched', reason: 'deadline' },
        problems: [{ code: 'deadline-skipped', severity: 'ERROR' }],
      });
    }
    expect(targetReport(report, 'slow-2').leases).toEqual([
      { name: 'db', outcome: 'skipped', reason: 'deadline' },
    ]);
    // One renew-self ever left the renewer, and the proxy never forwarded it:
    // the client hung up at the deadline.
    await expect
      .poll(() => proxy.requests.map((r) => `${r.path} ${r.outcome}`), { timeout: 2_000 })
      .toEqual([`${RENEW_SELF} client-gone`]);
    for (const target of targets) {
      expect(await wasRenewed(fleet, target.token)).toBe(false);
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    }
    // What the run could not reach is one message for both, not one each.
    const told = await alerts.receive(2);
    expect(eventsOf(told)).toEqual([
      'ERROR deadline-skipped run:deadline',
      `ERROR vault-unreachable vault:${proxy.url}`,
    ]);
    expect(told.find((m) => m.body.includes('deadline-skipped'))?.body).toContain(
      'for 2 targets: slow-2, slow-3',
    );
    expect(report.carriedOver).toEqual({ deadline: { count: 2, targets: ['slow-2', 'slow-3'] } });
  });

  it('waits as long as a 429 Retry-After says and renews within the deadline', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('throttled-vault', healthyRole);
    const proxy = await proxyFor(fleet.env.VAULT_ADDR);
    proxy.addFault(rateLimited(1, { match: { path: RENEW_SELF }, times: 2 }));
    const harness = harnessFor(
      scenario,
      configWith(fleet.env, [fleet.targetConfig(target, { vault: { address: proxy.url } })]),
    );

    const { report, elapsedMs } = await timedInvoke(harness, DEADLINE_MARGIN_MS + 6_000);

    expect(targetReport(report, 'throttled-vault')).toMatchObject({
      status: 'ok',
      writes: 0,
      problems: [],
      token: { outcome: 'renewed', reason: 'healthy' },
    });
    expect(proxy.requests.map((r) => `${r.path} ${r.status}`)).toEqual([
      `${RENEW_SELF} 429`,
      `${RENEW_SELF} 429`,
      `${RENEW_SELF} 200`,
      `${secretIdLookupPath(fleet, target)} 200`,
    ]);
    // Two waits of Retry-After: 1 s, not the client's own backoff (at most 300 ms each).
    expect(elapsedMs).toBeGreaterThanOrEqual(1_900);
    expect(await wasRenewed(fleet, target.token)).toBe(true);
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect(await alerts.receive(0, 0)).toEqual([]);
  });

  it('rides out a flaky network: dropped connections to Vault are retried within the deadline', async () => {
    const { fleet, alerts } = scenario;
    const target = await fleet.target('flaky-net', healthyRole, {
      leases: [{ name: 'db', defaultTtl: 3600, maxTtl: 4 * 3600 }],
    });
    const proxy = await proxyFor(fleet.env.VAULT_ADDR);
    // The renewal never reaches Vault once; the lease renewal reaches Vault but its answer is lost once.
    proxy.addFault({ match: { path: RENEW_SELF }, drop: 'before-forward', times: 1 });
    proxy.addFault({
      match: { path: /\/v1\/sys\/leases\/renew$/ },
      drop: 'after-forward',
      times: 1,
    });
    const harness = harnessFor(
      scenario,
      configWith(fleet.env, [fleet.targetConfig(target, { vault: { address: proxy.url } })]),
    );

    const { report } = await timedInvoke(harness, DEADLINE_MARGIN_MS + 10_000);

    const result = targetReport(report, 'flaky-net');
    expect(result).toMatchObject({
      status: 'ok',
      writes: 0,
      problems: [],
      token: { outcome: 'renewed' },
    });
    expect(result.leases).toMatchObject([{ name: 'db', outcome: 'renewed' }]);
    expect(proxy.requests.map((r) => `${r.path} ${r.outcome}`)).toEqual([
      `${RENEW_SELF} dropped-before-forward`,
      `${RENEW_SELF} forwarded`,
      `${secretIdLookupPath(fleet, target)} forwarded`,
      '/v1/sys/leases/renew dropped-after-forward',
      '/v1/sys/leases/renew forwarded',
    ]);
    expect(await wasRenewed(fleet, target.token)).toBe(true);
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    expect(await alerts.receive(0, 0)).toEqual([]);
  });

  it('rides out Secrets Manager throttling with the SDK retries', async () => {
    const { fleet, alerts } = scenario;
    const targets = [
      await fleet.target('sm-retried-a', healthyRole),
      await fleet.target('sm-retried-b', healthyRole),
    ];
    const proxy = await proxyFor(fleet.env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
    proxy.addFault({
      match: { target: 'secretsmanager.BatchGetSecretValue' },
      times: 2,
      ...THROTTLED,
    });
    const harness = harnessFor(
      scenario,
      configWith(
        fleet.env,
        targets.map((t) => fleet.targetConfig(t)),
      ),
      { secretsManagerEndpoint: proxy.url },
    );

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(report.summary).toMatchObject({ targets: 2, ok: 2, failed: 0, problems: 0 });
    expect(proxy.requests.map((r) => `${r.target} ${r.status}`)).toEqual([
      'secretsmanager.BatchGetSecretValue 400',
      'secretsmanager.BatchGetSecretValue 400',
      'secretsmanager.BatchGetSecretValue 200',
    ]);
    for (const target of targets) {
      expect(await wasRenewed(fleet, target.token)).toBe(true);
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    }
    expect(await alerts.receive(0, 0)).toEqual([]);
  });

  it('reports every target as secret-unreadable when Secrets Manager keeps throttling, and touches nothing else', async () => {
    const { fleet, alerts } = scenario;
    const targets = [
      await fleet.target('sm-throttled-a', healthyRole),
      await fleet.target('sm-throttled-b', healthyRole, { leases: [dbLease] }),
    ];
    const proxy = await proxyFor(fleet.env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
    proxy.addFault({ match: { target: 'secretsmanager.BatchGetSecretValue' }, ...THROTTLED });
    const harness = harnessFor(
      scenario,
      configWith(
        fleet.env,
        targets.map((t) => fleet.targetConfig(t)),
      ),
      { secretsManagerEndpoint: proxy.url },
    );

    const report = await harness.invoke(SCHEDULED_EVENT);

    expect(report.summary).toMatchObject({ targets: 2, failed: 2, ok: 0 });
    // Secrets Manager's trouble is one cause: one message.
    expect(report.notifications).toEqual({ published: 1, failed: 0 });
    for (const name of ['sm-throttled-a', 'sm-throttled-b']) {
      expect(targetReport(report, name)).toMatchObject({
        status: 'failed',
        writes: 0,
        token: { outcome: 'failed', reason: 'secret-unreadable' },
        problems: [
          {
            code: 'secret-unreadable',
            severity: 'ERROR',
            answer: 'ThrottlingException: Rate exceeded',
          },
        ],
      });
    }
    expect(targetReport(report, 'sm-throttled-b').leases).toMatchObject([
      { name: 'db', outcome: 'skipped' },
    ]);
    // The direct read's one attempt, then the SDK's three at the same batch,
    // and not a single write.
    expect(proxy.requests.map((r) => r.target)).toEqual(
      Array(4).fill('secretsmanager.BatchGetSecretValue'),
    );
    expect(
      logLines(harness)
        .filter((l) => l.message === 'secret reads fall back to the AWS SDK')
        .map((l) => `${l.level} ${l.reason}`),
    ).toEqual(['WARN HTTP 400']);
    for (const target of targets) {
      expect(await wasRenewed(fleet, target.token)).toBe(false);
      expect(await fleet.versionCount(target.tokenSecret)).toBe(1);
    }
    const messages = await alerts.receive(1);
    expect(eventsOf(messages)).toEqual(['ERROR secret-unreadable secretsmanager']);
    expect(messages[0]?.body).toContain('ThrottlingException: Rate exceeded');
    expect(messages[0]?.body).toContain('for 2 targets: sm-throttled-a, sm-throttled-b.');
  });

  it('processes every target, stores the fresh tokens, then fails the invocation when SNS is down', async () => {
    // Prepare: two targets whose tokens were revoked (each needs a re-login and an ERROR message)
    const { fleet, alerts } = scenario;
    const targets = [
      await fleet.target('unheard-a', healthyRole),
      await fleet.target('unheard-b', healthyRole),
    ];
    for (const target of targets) {
      await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    }
    const proxy = await proxyFor(fleet.env.AWS_ENDPOINT_URL_SNS);
    proxy.addFault({ match: { target: 'Publish' }, ...SNS_INTERNAL_ERROR });
    const harness = harnessFor(
      scenario,
      configWith(
        fleet.env,
        targets.map((t) => fleet.targetConfig(t)),
      ),
      { snsEndpoint: proxy.url },
    );

    // Act
    const invocation = harness.invoke(SCHEDULED_EVENT);

    // Assess
    await expect(invocation).rejects.toThrow(NotificationFailedError);
    await expect(invocation).rejects.toThrow(
      /^2 notification\(s\) could not be published to SNS; every target was processed/,
    );
    for (const target of targets) {
      const stored = await fleet.secretJson(target.tokenSecret);
      expect(stored).toMatchObject({ owner: 'team-x', token: expect.any(String) });
      expect(stored.token).not.toBe(target.token);
      expect((await lookupSelf(fleet, String(stored.token))).ok).toBe(true);
      expect(await fleet.versionCount(target.tokenSecret)).toBe(2);
    }
    // Each message: the SDK's three attempts, all refused.
    expect(proxy.requests.map((r) => `${r.target} ${r.status}`)).toEqual(
      Array(6).fill('Publish 500'),
    );
    const lines = logLines(harness);
    const publishErrors = lines.filter((l) => l.message === 'could not publish notification');
    expect(publishErrors.map((l) => `${l.level} ${l.target} ${l.event}`).sort()).toEqual([
      'ERROR unheard-a token-invalid',
      'ERROR unheard-b token-invalid',
    ]);
    for (const line of publishErrors) {
      expect(line.error).toMatch(/^PublishError: SNS Publish to .* failed: InternalError/);
    }
    // Both targets were repaired (logged in again): changed, yet what happened went untold.
    expect(lines.find((l) => l.message === 'run finished')).toMatchObject({
      notifications: { published: 0, failed: 2 },
      summary: { targets: 2, changed: 2, failed: 0 },
    });
    expect(await alerts.receive(0, 0)).toEqual([]);
  });

  it('creates exactly one version when the answer to a write is lost and the SDK retries it', async () => {
    // Prepare: a revoked token (the run logs in again and writes), and a proxy
    // that lets moto store the first PutSecretValue but hangs up before answering.
    const { fleet, alerts } = scenario;
    const target = await fleet.target('lost-answer', healthyRole);
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const proxy = await proxyFor(fleet.env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
    proxy.addFault({
      match: { target: 'secretsmanager.PutSecretValue' },
      drop: 'after-forward',
      times: 1,
    });
    const harness = harnessFor(scenario, configWith(fleet.env, [fleet.targetConfig(target)]), {
      secretsManagerEndpoint: proxy.url,
    });
    expect(await fleet.versionCount(target.tokenSecret)).toBe(1);

    // Act
    const report = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    expect(targetReport(report, 'lost-answer')).toMatchObject({
      writes: 1,
      token: { outcome: 'relogged-in', reason: 'invalid' },
    });
    const writes = proxy.requests.filter((r) => r.target === 'secretsmanager.PutSecretValue');
    expect(writes.map((r) => r.outcome)).toEqual(['dropped-after-forward', 'forwarded']);
    const requestTokens = writes.map(
      (r) => (JSON.parse(r.body) as { ClientRequestToken: string }).ClientRequestToken,
    );
    expect(requestTokens[0]).toBeDefined();
    expect(requestTokens[1]).toBe(requestTokens[0]);
    const versions = await fleet.aws.secretsManager.send(
      new ListSecretVersionIdsCommand({ SecretId: target.tokenSecret, IncludeDeprecated: true }),
    );
    expect(versions.Versions).toHaveLength(2);
    expect(versions.Versions?.find((v) => v.VersionStages?.includes('AWSCURRENT'))?.VersionId).toBe(
      requestTokens[0],
    );
    const stored = await fleet.secretJson(target.tokenSecret);
    expect(stored.token).not.toBe(target.token);
    const fresh = await lookupSelf(fleet, String(stored.token));
    expect(fresh.ok && fresh.data.accessor).toBe(stored.accessor);
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-invalid lost-answer']);
  });

  it('writes and says nothing more when Lambda runs the same event again after a success', async () => {
    // Prepare: a revoked token with a lease: the first run logs in again and re-issues
    const { fleet, alerts } = scenario;
    const target = await fleet.target('rerun', healthyRole, { leases: [dbLease] });
    await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: target.accessor });
    const lease = target.leases[0]?.secret ?? '';
    const harness = harnessFor(scenario, configWith(fleet.env, [fleet.targetConfig(target)]));
    const first = await harness.invoke(SCHEDULED_EVENT);
    expect(targetReport(first, 'rerun')).toMatchObject({
      writes: 2,
      token: { outcome: 'relogged-in' },
    });
    expect(eventsOf(await alerts.receive(1))).toEqual(['ERROR token-invalid rerun']);
    const storedToken = await fleet.secretValue(target.tokenSecret);
    const storedLease = await fleet.secretValue(lease);

    // Act: Lambda retries the same event
    const retried = await harness.invoke(SCHEDULED_EVENT);

    // Assess
    expect(targetReport(retried, 'rerun')).toMatchObject({
      status: 'ok',
      writes: 0,
      problems: [],
      token: { outcome: 'renewed', reason: 'healthy' },
      leases: [{ name: 'db', outcome: 'renewed' }],
    });
    expect(await fleet.versionCount(target.tokenSecret)).toBe(2);
    expect(await fleet.versionCount(lease)).toBe(2);
    expect(await fleet.secretValue(target.tokenSecret)).toBe(storedToken);
    expect(await fleet.secretValue(lease)).toBe(storedLease);
    expect(await wasRenewed(fleet, String(JSON.parse(storedToken).token))).toBe(true);
    expect(await alerts.receive(0, 0)).toEqual([]);
  });
});
