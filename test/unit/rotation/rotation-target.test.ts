import { describe, expect, it } from 'vitest';
import {
  InvalidRotationEventError,
  parseRotateEvent,
} from '../../../functions/app/rotate-event.js';
import { parseConfig } from '../../../functions/config/load.js';
import type { SecretDescription } from '../../../functions/core/staging-port.js';
import {
  findRotationTarget,
  Readiness,
  RotationRefusedError,
  readiness,
} from '../../../functions/rotation/rotation-target.js';

const TOKEN = 'a1b2c3d4-0000-4000-8000-000000000001';
const OTHER = 'a1b2c3d4-0000-4000-8000-000000000002';

function described(overrides: Partial<SecretDescription> = {}): SecretDescription {
  return {
    arn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet/approle/app-AbCdEf',
    name: 'fleet/approle/app',
    rotationEnabled: true,
    versionStages: { [OTHER]: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] },
    ...overrides,
  };
}

describe('readiness: what AWS templates check before any step', () => {
  it('proceeds with a pending version and knows an already current one', () => {
    expect(readiness(described(), TOKEN)).toBe(Readiness.Proceed);
    expect(readiness(described(), OTHER)).toBe(Readiness.AlreadyCurrent);
  });

  it.each([
    [{ rotationEnabled: false }, TOKEN, 'rotation is not enabled for secret "fleet/approle/app"'],
    [{}, 'ffffffff-0000-4000-8000-000000000009', 'is not a version of secret'],
    [{ versionStages: { [TOKEN]: ['AWSPREVIOUS'] } }, TOKEN, 'is not staged as AWSPENDING'],
  ])('refuses %j', (overrides, token, message) => {
    expect(() => readiness(described(overrides), token)).toThrow(RotationRefusedError);
    expect(() => readiness(described(overrides), token)).toThrow(message);
  });
});

describe('findRotationTarget', () => {
  const config = parseConfig(
    JSON.stringify({
      version: 1,
      schedule: { intervalMinutes: 15 },
      vault: { address: 'https://vault.example.com' },
      targets: [
        {
          name: 'app',
          tokenSecret: 'fleet/tokens/app',
          approle: { secret: 'fleet/approle/app', role: 'app' },
        },
      ],
    }),
    { format: 'json' },
  );

  it('matches a secret by name or ARN, and tells the kind', () => {
    expect(findRotationTarget(config, described())?.kind).toBe('approle');
    expect(
      findRotationTarget(config, { arn: 'arn:x', name: 'fleet/tokens/app' })?.target.name,
    ).toBe('app');
    expect(findRotationTarget(config, { arn: 'arn:x', name: 'fleet/leases/app' })).toBeUndefined();
  });
});

describe('parseRotateEvent', () => {
  it('takes Secrets Manager event', () => {
    expect(
      parseRotateEvent({
        Step: 'testSecret',
        SecretId: 'arn:s',
        ClientRequestToken: TOKEN,
        RotationToken: 'x',
      }),
    ).toEqual({ step: 'testSecret', secretId: 'arn:s', token: TOKEN });
  });

  it.each([
    [{}, '"Step" must be one of createSecret, setSecret, testSecret, finishSecret, got nothing'],
    [
      { Step: 'create_secret', SecretId: 's', ClientRequestToken: TOKEN },
      'got another spelling of "createSecret"',
    ],
    [
      { Step: 'planted-secret-value', SecretId: 's', ClientRequestToken: TOKEN },
      'got another value (not repeated)',
    ],
    [{ Step: 'createSecret', ClientRequestToken: TOKEN }, '"SecretId" must be'],
    [
      { Step: 'createSecret', SecretId: 's', ClientRequestToken: 'short' },
      '"ClientRequestToken" must be',
    ],
    [[], 'the event is not a JSON object'],
  ])('names the problem of %j', (event, message) => {
    expect(() => parseRotateEvent(event)).toThrow(InvalidRotationEventError);
    expect(() => parseRotateEvent(event)).toThrow(message);
    // A refused value is never repeated: it may be a secret sent to the wrong field.
    expect(() => parseRotateEvent(event)).not.toThrow(/planted/);
  });
});
