/**
 * `npm run rotation:apply`'s work against moto: rotation settings applied
 * through the Secrets Manager API, idempotently, with drift reported and
 * pruned on request.
 */

import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { createSecretStagingStore } from '../../functions/aws/secret-staging.js';
import { parseConfig } from '../../functions/config/load.js';
import { applyRotationSettings } from '../../scripts/rotation/apply-settings.js';
import { localRotationFunctionArn } from '../../tools/local-stack/rotation-function.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

const env = stackEnv();
const client = new SecretsManagerClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
afterAll(() => client.destroy());

function configFor(prefix: string, rotation: Record<string, unknown> | undefined) {
  return parseConfig(
    JSON.stringify({
      version: 1,
      schedule: { intervalMinutes: 15 },
      vault: { address: 'https://vault.example.com' },
      rotation: { rotator: 'rotator' },
      targets: [
        {
          name: 'app',
          tokenSecret: `${prefix}/app/token`,
          approle: { secret: `${prefix}/app/approle`, role: 'app' },
          ...(rotation === undefined ? {} : { rotation }),
        },
        {
          name: 'rotator',
          tokenSecret: `${prefix}/rotator/token`,
          approle: { secret: `${prefix}/rotator/approle`, role: 'rotator' },
        },
      ],
    }),
    { format: 'json' },
  );
}

describe('applying rotation settings', () => {
  it('configures what the config rotates, changes nothing the second time, and reports and prunes drift', async () => {
    // Prepare
    const prefix = uniqueName('apply');
    for (const name of ['app/token', 'app/approle', 'rotator/token', 'rotator/approle']) {
      await client.send(new CreateSecretCommand({ Name: `${prefix}/${name}`, SecretString: '{}' }));
    }
    const functionArn = await localRotationFunctionArn(env);
    const rotating = configFor(prefix, { approle: { everyDays: 30 }, token: { everyDays: 7 } });
    const options = { functionArn, dryRun: false, prune: false };

    // Act
    const dry = await applyRotationSettings(rotating, client, { ...options, dryRun: true });
    const first = await applyRotationSettings(rotating, client, options);
    const second = await applyRotationSettings(rotating, client, options);
    const stopped = configFor(prefix, { approle: { everyDays: 30 } });
    const drift = await applyRotationSettings(stopped, client, options);
    const pruned = await applyRotationSettings(stopped, client, { ...options, prune: true });
    const after = await applyRotationSettings(stopped, client, options);

    // Assess
    const results = (outcomes: typeof first) =>
      outcomes.map((o) => `${o.target}/${o.kind}: ${o.action} ${o.result}`);
    expect(results(dry)).toEqual([
      'app/approle: apply would apply',
      'app/token: apply would apply',
      'rotator/approle: not-rotated unchanged',
      'rotator/token: not-rotated unchanged',
    ]);
    expect(results(first)).toEqual(results(dry).map((r) => r.replace('would apply', 'applied')));
    expect(results(second)).toEqual([
      'app/approle: in-sync unchanged',
      'app/token: in-sync unchanged',
      'rotator/approle: not-rotated unchanged',
      'rotator/token: not-rotated unchanged',
    ]);
    expect(results(drift)[1]).toBe('app/token: drift unchanged');
    expect(results(pruned)[1]).toBe('app/token: drift cancelled');
    expect(results(after)[1]).toBe('app/token: not-rotated unchanged');
    const described = await createSecretStagingStore(client).describe(`${prefix}/app/approle`);
    expect(described).toMatchObject({
      rotationEnabled: true,
      rotationLambdaArn: functionArn,
      rotationRules: { AutomaticallyAfterDays: 30 },
    });
  });

  it('reports a secret it cannot describe and carries on with the others', async () => {
    // Prepare: the secrets do not exist.
    const config = configFor(uniqueName('missing'), { approle: { everyDays: 30 } });

    // Act
    const outcomes = await applyRotationSettings(config, client, {
      functionArn: await localRotationFunctionArn(env),
      dryRun: false,
      prune: false,
    });

    // Assess
    expect(outcomes).toHaveLength(4);
    expect(outcomes.every((o) => o.failed)).toBe(true);
    expect(outcomes[0]?.result).toMatch(
      /DescribeSecret failed for secret .*ResourceNotFoundException/,
    );
  });
});
