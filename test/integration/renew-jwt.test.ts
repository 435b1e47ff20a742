/**
 * Targets that log in with jwt, on the local stack: the real renew handler
 * asks the stack's STS for a token, OpenBao's jwt auth method (trusting the
 * stack's issuer) logs it in, and everything after the login is the AppRole
 * path. Then each way it fails, with its message.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDiagnoseHandler } from '../../functions/app/diagnose-handler.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { parseConfig } from '../../functions/config/load.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { shippedWorkloadPolicy } from '../../infra/vault/workload-policy.js';
import { localIssuerUrl } from '../../tools/local-stack/stack.js';
import { SCHEDULED_EVENT } from '../support/renewer-harness.js';
import {
  configWith,
  createScenario,
  eventsOf,
  healthyRole,
  lookupSelf,
  type Scenario,
  targetReport,
} from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const ROLE_ARN = 'arn:aws:iam::123456789012:role/vault-renewer-local-renew';
const AUDIENCE = 'vault.local';
const TAG_CLAIM = '/https:~1~1sts.amazonaws.com~1/request_tags/vault-renewer-target';

let scenario: Scenario;
let mount: string;
const issuer = () => localIssuerUrl(scenario.fleet.env.AWS_ENDPOINT_URL_STS);

function settings(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${issuer()}/settings`, { method: 'POST', body: JSON.stringify(body) });
}

beforeAll(async () => {
  scenario = await createScenario(stackEnv(), 'jwt');
  mount = `${scenario.fleet.prefix}-jwt`;
  await scenario.fleet.vault('POST', `sys/auth/${mount}`, { type: 'jwt' });
  await scenario.fleet.vault('POST', `auth/${mount}/config`, { oidc_discovery_url: issuer() });
});

afterEach(() => settings({ federation: true, keys: true, throttle: 0, subject: ROLE_ARN }));

/** A jwt role bound as vault:setup binds it, its policy, and an empty token secret. */
async function jwtTarget(name: string, options: { audience?: string; leasePath?: string } = {}) {
  const { fleet } = scenario;
  const roleBase = `auth/${mount}/role/${name}`;
  const policy = `${fleet.prefix}-${name}`;
  await fleet.vault('PUT', `sys/policies/acl/${policy}`, {
    policy: shippedWorkloadPolicy(
      options.leasePath === undefined ? [] : [options.leasePath],
      undefined,
      { mount, role: name },
    ),
  });
  await fleet.vault('POST', roleBase, {
    role_type: 'jwt',
    user_claim: 'sub',
    bound_audiences: [options.audience ?? AUDIENCE],
    bound_subject: ROLE_ARN,
    bound_claims: { [TAG_CLAIM]: name },
    token_type: 'service',
    token_ttl: healthyRole.tokenTtl,
    token_max_ttl: healthyRole.tokenMaxTtl,
    token_no_default_policy: true,
    token_policies: [policy],
  });
  const tokenSecret = `${fleet.prefix}/${name}/token`;
  await fleet.createSecret(tokenSecret, '{}');
  const leases =
    options.leasePath === undefined
      ? []
      : [{ name: 'db', secret: `${fleet.prefix}/${name}/db`, reissuePath: options.leasePath }];
  for (const lease of leases) await fleet.createSecret(lease.secret, '{}');
  return {
    name,
    tokenSecret,
    jwt: { audience: AUDIENCE, mount, role: name },
    ...(leases.length === 0 ? {} : { leases }),
  };
}

describe('a target that logs in with jwt', () => {
  it('is logged in with a token STS signs, its lease issued, then renewed, beside an AppRole target', async () => {
    // Prepare: a jwt target with a lease and nothing stored, and an AppRole target
    const { fleet } = scenario;
    const credsPath = await fleet.databaseRole('jwt-db', 3600, 7200);
    const jwt = await jwtTarget('web', { leasePath: credsPath });
    const approle = await fleet.target('classic', healthyRole);
    const renew = scenario.harness(configWith(fleet.env, [jwt, fleet.targetConfig(approle)]));

    // Act
    const first = await renew.invoke(SCHEDULED_EVENT);
    const second = await renew.invoke(SCHEDULED_EVENT);

    // Assess: logged in through STS and the jwt role, the lease issued with the new token
    expect(targetReport(first, 'web')).toMatchObject({
      status: 'changed',
      token: { outcome: 'relogged-in', reason: 'absent' },
      leases: [{ name: 'db', outcome: 'reissued' }],
    });
    const stored = await fleet.secretJson(jwt.tokenSecret);
    const looked = await lookupSelf(fleet, stored.token as string);
    expect(looked.ok && looked.data).toMatchObject({
      path: `auth/${mount}/login`,
      policies: [`${fleet.prefix}-web`],
      renewable: true,
    });
    expect(targetReport(first, 'classic')).toMatchObject({ status: 'ok' });
    // The next run renews it like any token
    expect(targetReport(second, 'web')).toMatchObject({
      status: 'ok',
      token: { outcome: 'renewed' },
      leases: [{ outcome: 'renewed' }],
    });
    // No jwt (a bearer credential while it lives) in any log line
    expect(renew.output.join('\n')).not.toMatch(/eyJ[\w-]+\.eyJ[\w-]+\./);
    await renew.close();
  }, 60_000);

  it('tells federation turned off once for all jwt targets, and STS throttling the same way', async () => {
    // Prepare: two jwt targets that must log in
    const { fleet, alerts } = scenario;
    const targets = [await jwtTarget('off-a'), await jwtTarget('off-b')];
    const renew = scenario.harness(configWith(fleet.env, targets));
    await settings({ federation: false });

    // Act
    const report = await renew.invoke(SCHEDULED_EVENT);

    // Assess: both fail, one message for the shared cause
    for (const name of ['off-a', 'off-b']) {
      expect(targetReport(report, name).problems).toContainEqual(
        expect.objectContaining({
          code: 'web-identity-unavailable',
          summary: expect.stringMatching(/outbound identity federation is not enabled/),
        }),
      );
    }
    expect(eventsOf(await alerts.receive(1))).toEqual(['CRITICAL web-identity-unavailable sts']);

    // Act + Assess: throttling, beyond the SDK's retries, is the same shared cause
    await settings({ federation: true, throttle: 100 });
    const throttled = await renew.invoke(SCHEDULED_EVENT);
    expect(targetReport(throttled, 'off-a').problems).toContainEqual(
      expect.objectContaining({
        code: 'web-identity-unavailable',
        answer: expect.stringMatching(/Throttling/),
      }),
    );
    expect(eventsOf(await alerts.receive(1))).toEqual(['CRITICAL web-identity-unavailable sts']);
    await renew.close();
  }, 60_000);

  it('is checked by diagnose: role, audience, bound claims, issuer and clock, naming the claim that refuses', async () => {
    // Prepare: a target logged in, and one whose role wants another audience (it holds a
    // token of its policy, so diagnose can read the role)
    const { fleet } = scenario;
    const good = await jwtTarget('checked');
    const renew = scenario.harness(configWith(fleet.env, [good]));
    await renew.invoke(SCHEDULED_EVENT);
    await renew.close();
    const bad = await jwtTarget('mismatched', { audience: 'someone-else' });
    const made = (await fleet.vault('POST', 'auth/token/create', {
      policies: [`${fleet.prefix}-mismatched`],
      no_default_policy: true,
      ttl: '1h',
    })) as { auth: { client_token: string; accessor: string } };
    await fleet.putSecret(
      bad.tokenSecret,
      JSON.stringify({ token: made.auth.client_token, accessor: made.auth.accessor }),
    );
    const env = fleet.env;
    const aws = {
      region: env.AWS_REGION,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      },
    };
    const secretsManager = new SecretsManagerClient({
      ...aws,
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    });
    const vault = createVaultClient();
    const diagnose = createDiagnoseHandler({
      config: parseConfig(JSON.stringify(configWith(env, [good, bad])), { format: 'json' }),
      vault,
      store: { readBatch: createSecretsManagerStore({ client: secretsManager }).readBatch },
      notifier: createSnsNotifier({
        client: new SNSClient({ ...aws, endpoint: env.AWS_ENDPOINT_URL_SNS }),
        topicArn: scenario.alerts.topicArn,
      }),
      logger: new Logger({ serviceName: 'vault-renewer', logLevel: 'ERROR' }),
    });

    // Act
    const result = await diagnose(
      {},
      { awsRequestId: 'jwt', getRemainingTimeInMillis: () => 60_000 },
    );

    // Assess
    const jwtChecksOf = (name: string) =>
      Object.fromEntries(
        (result.targets.find((t) => t.target === name)?.checks ?? [])
          .filter((c) => c.id.startsWith('jwt.') || c.id === 'vault.clock')
          .map((c) => [c.id, c.status]),
      );
    expect(jwtChecksOf('checked')).toEqual({
      'jwt.role': 'pass',
      'jwt.audience': 'pass',
      'jwt.claims': 'pass',
      'jwt.issuer': 'pass',
      'vault.clock': 'pass',
    });
    expect(jwtChecksOf('mismatched')).toMatchObject({
      'jwt.audience': 'fail',
      'jwt.claims': 'pass',
    });
    const audience = result.targets
      .find((t) => t.target === 'mismatched')
      ?.checks.find((c) => c.id === 'jwt.audience');
    expect(audience?.actual).toMatch(
      /bound_audiences someone-else: a login is refused for its aud claim/,
    );
    secretsManager.destroy();
    await vault.close();
  }, 60_000);

  it.each([
    [
      'its audience is not the role’s',
      { audience: 'someone-else' },
      /audience does not match/,
      /aud/i,
    ],
    ['its role is missing', { missingRole: true }, /role does not exist/, /role/],
    ['Vault cannot fetch the issuer’s keys', { keysWithheld: true }, /issuer/, /keys|signature/i],
  ])(
    'is refused when %s, naming why',
    async (_, how, summary, answer) => {
      // Prepare
      const { fleet } = scenario;
      const name = `refused-${Object.keys(how)[0]?.toLowerCase() ?? 'x'}`;
      let target = await jwtTarget(name, 'audience' in how ? { audience: how.audience } : {});
      if ('missingRole' in how)
        target = { ...target, jwt: { ...target.jwt, role: `${name}-gone` } };
      let targetMount = mount;
      if ('keysWithheld' in how) {
        // A mount of its own: the shared one has the keys cached from earlier logins.
        targetMount = `${fleet.prefix}-jwt-nokeys`;
        await fleet.vault('POST', `sys/auth/${targetMount}`, { type: 'jwt' });
        await fleet.vault('POST', `auth/${targetMount}/config`, { oidc_discovery_url: issuer() });
        const role = (await fleet.vault('GET', `auth/${mount}/role/${name}`)) as { data: unknown };
        await fleet.vault('POST', `auth/${targetMount}/role/${name}`, role.data);
        target = { ...target, jwt: { ...target.jwt, mount: targetMount } };
        await settings({ keys: false });
      }
      const renew = scenario.harness(configWith(fleet.env, [target]));

      // Act
      const report = await renew.invoke(SCHEDULED_EVENT);

      // Assess
      expect(targetReport(report, name).problems).toContainEqual(
        expect.objectContaining({
          code: 'jwt-login-refused',
          summary: expect.stringMatching(summary),
          answer: expect.stringMatching(answer),
        }),
      );
      expect(eventsOf(await scenario.alerts.receive(1))).toEqual([
        `CRITICAL jwt-login-refused ${name}`,
      ]);
      await renew.close();
    },
    60_000,
  );
});
