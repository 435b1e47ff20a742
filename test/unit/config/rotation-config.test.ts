import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseConfig } from '../../../functions/config/load.js';
import { parseResolvedConfig } from '../../../functions/config/resolved.js';

function target(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name,
    tokenSecret: `fleet/tokens/${name}`,
    approle: { secret: `fleet/approle/${name}`, role: name },
    ...extra,
  };
}

function file(targets: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: 1,
    schedule: { intervalMinutes: 15 },
    vault: { address: 'https://vault.example.com:8200' },
    targets,
    ...extra,
  });
}

function problems(text: string): string[] {
  try {
    parseConfig(text, { format: 'json' });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('rotation settings', () => {
  it('resolves per kind, a target overriding the default, false turning a default off', () => {
    // Act
    const config = parseConfig(
      file(
        [
          target('rotator'),
          target('app', { rotation: { token: { schedule: 'rate(12 hours)', window: '2h' } } }),
          target('legacy', { rotation: { approle: false } }),
        ],
        {
          rotation: { rotator: 'rotator' },
          defaults: { rotation: { approle: { everyDays: 30 } } },
        },
      ),
      { format: 'json' },
    );

    // Assess
    expect(config.rotator).toBe('rotator');
    expect(config.targets.map((t) => t.rotation)).toEqual([
      { approle: { AutomaticallyAfterDays: 30 } },
      {
        approle: { AutomaticallyAfterDays: 30 },
        token: { ScheduleExpression: 'rate(12 hours)', Duration: '2h' },
      },
      undefined,
    ]);
    // The Lambda's own reader takes what the build writes.
    expect(parseResolvedConfig(JSON.stringify(config))).toEqual(config);
  });

  it('leaves rotation out of a config that sets none', () => {
    // Act
    const config = parseConfig(file([target('app')]), { format: 'json' });

    // Assess
    expect(config.rotator).toBeUndefined();
    expect(config.targets[0]).not.toHaveProperty('rotation');
  });

  it.each([
    [
      { approle: { everyDays: 0 } },
      'targets[1].rotation.approle.everyDays: must be at least 1 days',
    ],
    [
      { approle: { everyDays: 30, schedule: 'rate(1 day)' } },
      'targets[1].rotation.approle: must set exactly one of everyDays and schedule',
    ],
    [
      { approle: {} },
      'targets[1].rotation.approle: must set exactly one of everyDays and schedule',
    ],
    [
      { token: { schedule: 'rate(2 hours)' } },
      "targets[1].rotation.token.schedule: must rotate at most every 4 hours (Secrets Manager's minimum)",
    ],
    [
      { token: { schedule: 'every day' } },
      'targets[1].rotation.token.schedule: must be "rate(N hours)", "rate(N days)" or a six-field "cron(...)" expression (UTC)',
    ],
    [
      { token: { everyDays: 7, window: '30m' } },
      'targets[1].rotation.token.window: must be a whole number of hours from "1h" to "24h"',
    ],
    [{ secretId: { everyDays: 7 } }, 'targets[1].rotation.secretId: unknown field'],
  ])('names the problem in %j', (rotation, expected) => {
    // Act
    const found = problems(
      file([target('rotator'), target('app', { rotation })], { rotation: { rotator: 'rotator' } }),
    );

    // Assess
    expect(found.join('\n')).toContain(expected);
  });

  it("needs a rotator, the role name and the rotator's Vault for AppRole rotation", () => {
    // Act
    const withoutRotator = problems(
      file([target('app', { rotation: { approle: { everyDays: 7 } } })]),
    );
    const withoutRole = problems(
      file(
        [
          target('rotator'),
          {
            ...target('app'),
            approle: { secret: 'fleet/approle/app' },
            rotation: { approle: { everyDays: 7 } },
          },
        ],
        { rotation: { rotator: 'rotator' } },
      ),
    );
    const elsewhere = problems(
      file(
        [
          target('rotator'),
          target('app', {
            vault: { namespace: 'team-a' },
            rotation: { approle: { everyDays: 7 } },
          }),
        ],
        { rotation: { rotator: 'rotator' } },
      ),
    );
    const unknownRotator = problems(file([target('app')], { rotation: { rotator: 'nobody' } }));

    // Assess
    expect(withoutRotator).toEqual([
      'targets[0].rotation.approle: target "app": needs rotation.rotator: the target whose token issues and destroys secret_ids',
    ]);
    expect(withoutRole).toEqual([
      'targets[1].approle.role: target "app": is required to rotate the AppRole secret (the secret_id is issued for this role)',
    ]);
    expect(elsewhere).toEqual([
      'targets[1].rotation.approle: target "app": is on another Vault (address or namespace) than the rotator "rotator": its secret_ids cannot be issued there',
    ]);
    expect(unknownRotator).toEqual([
      'rotation.rotator: names no target: list "nobody" under targets',
    ]);
  });

  it('rotates a shared AppRole secret with one setting only', () => {
    // Prepare
    const shared = { secret: 'fleet/approle/shared', role: 'shared' };

    // Act
    const found = problems(
      file(
        [
          target('rotator'),
          { ...target('a'), approle: shared, rotation: { approle: { everyDays: 7 } } },
          { ...target('b'), approle: shared, rotation: { approle: { everyDays: 30 } } },
        ],
        { rotation: { rotator: 'rotator' } },
      ),
    );

    // Assess
    expect(found).toEqual([
      'targets[2].rotation.approle: differs from targets[1].rotation.approle: targets sharing an AppRole secret rotate it together, so give them the same rotation.approle',
    ]);
  });
});
