import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/config/errors.js';
import { loadConfigFile, parseConfig } from '../../../functions/config/load.js';
import { DEFAULT_PACING } from '../../../functions/config/schema.js';
import type { RenewerConfig } from '../../../functions/config/types.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const CA_PEM = fixture('certs/vault-ca.pem');

function catchConfigError(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** The smallest valid file, with `extra` lines appended under the root mapping. */
function minimal(extra = ''): string {
  return `version: 1
schedule: { intervalMinutes: 15 }
vault: { address: 'http://127.0.0.1:8200' }
targets:
  - name: app
    tokenSecret: vault/app/token
    approle: { secret: vault/app/approle }
    leases:
      - { name: db, secret: vault/app/db, reissuePath: database/creds/app }
${extra}`;
}

describe('parseConfig with a valid file', () => {
  it('parses a complete file into the exact expected config', () => {
    // Prepare
    const text = fixture('valid-full.yaml');

    // Act
    const config = parseConfig(text, { baseDir: FIXTURES });

    // Assess
    const expected: RenewerConfig = {
      version: 1,
      scheduleIntervalSeconds: 900,
      concurrency: 16,
      pacing: { ...DEFAULT_PACING },
      // A replaced token is retired by the next run: one interval later.
      retireReplacedSeconds: 900,
      secretIdWarnDays: 7,
      reminderHours: 24,
      vaultCaCertPem: CA_PEM,
      targets: [
        {
          name: 'billing-api',
          vault: { address: 'https://vault.example.internal:8200', namespace: 'platform/' },
          tokenSecretId: 'vault/billing-api/token',
          approle: {
            secretId: 'vault/billing-api/approle',
            mount: 'apps/approle',
            roleName: 'billing-api',
          },
          incrementSeconds: 7200,
          leases: [
            {
              name: 'db',
              secretId: 'vault/billing-api/db',
              reissuePath: 'database/creds/billing-api',
              incrementSeconds: 1800,
            },
            {
              name: 'aws',
              secretId:
                'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vault/billing-api/aws-AbC123',
              reissuePath: 'aws/creds/billing-deploy',
              incrementSeconds: 5400,
            },
          ],
          notify: { onRelogin: true, onReissue: true },
        },
        {
          name: 'orders.worker_2',
          vault: { address: 'http://10.0.0.12:8200' },
          tokenSecretId:
            'arn:aws:secretsmanager:eu-west-1:123456789012:secret:vault/orders/token-XyZ789',
          approle: { secretId: 'vault/shared/approle', mount: 'approle' },
          incrementSeconds: 5400,
          leases: [],
          notify: { onRelogin: false, onReissue: true },
        },
        {
          name: 'reports',
          vault: {
            address: 'https://vault.example.internal:8200',
            namespace: 'platform/reports/',
          },
          tokenSecretId: 'vault/reports/token',
          approle: { secretId: 'vault/shared/approle', mount: 'approle' },
          incrementSeconds: 5400,
          leases: [],
          notify: { onRelogin: false, onReissue: true },
        },
      ],
    };
    expect(config).toStrictEqual(expected);
  });

  it('returns a config frozen all the way down, so a mutation throws', () => {
    // Prepare
    const config = parseConfig(fixture('valid-full.yaml'), { baseDir: FIXTURES });
    const target = config.targets[0];
    if (target === undefined) throw new Error('fixture has targets');

    // Act
    const mutations = [
      () => {
        (config as { concurrency: number }).concurrency = 1;
      },
      () => {
        (config.targets as unknown[]).push({});
      },
      () => {
        (target.vault as { address: string }).address = 'http://evil:8200';
      },
      () => {
        (target.approle as { mount: string }).mount = 'other';
      },
      () => {
        (target.notify as { onRelogin: boolean }).onRelogin = false;
      },
      () => {
        (target.leases[0] as { reissuePath: string }).reissuePath = 'x/y';
      },
    ];

    // Assess: ES modules run in strict mode, where writing to a frozen object throws.
    for (const mutate of mutations) expect(mutate).toThrow(TypeError);
    expect(Object.isFrozen(config)).toBe(true);
    expect(config.targets[0]?.leases[0]?.reissuePath).toBe('database/creds/billing-api');
  });

  it('applies every default when the file sets only what has no default', () => {
    // Prepare
    const text = fixture('minimal.yaml');

    // Act
    const config = parseConfig(text);

    // Assess
    expect(config).toStrictEqual({
      version: 1,
      scheduleIntervalSeconds: 1800,
      concurrency: 8,
      pacing: { ...DEFAULT_PACING },
      retireReplacedSeconds: 1800,
      secretIdWarnDays: 7,
      reminderHours: 24,
      targets: [
        {
          name: 'app',
          vault: { address: 'http://127.0.0.1:8200' },
          tokenSecretId: 'vault/app/token',
          approle: { secretId: 'vault/app/approle', mount: 'approle' },
          incrementSeconds: 3600,
          leases: [
            {
              name: 'db',
              secretId: 'vault/app/db',
              reissuePath: 'database/creds/app',
              incrementSeconds: 3600,
            },
          ],
          notify: { onRelogin: false, onReissue: false },
        },
      ],
    } satisfies RenewerConfig);
  });

  it.each([
    {
      rule: 'the schedule interval is converted to seconds',
      text: minimal('defaults: { incrementSeconds: 172800 }').replace(
        'intervalMinutes: 15',
        'intervalMinutes: 1440',
      ),
      pick: (c: RenewerConfig) => c.scheduleIntervalSeconds,
      expected: 86_400,
    },
    {
      rule: 'concurrency defaults to 8',
      text: minimal(),
      pick: (c: RenewerConfig) => c.concurrency,
      expected: 8,
    },
    {
      rule: 'defaults.incrementSeconds applies to the token',
      text: minimal('defaults: { incrementSeconds: 5000 }'),
      pick: (c: RenewerConfig) => c.targets[0]?.incrementSeconds,
      expected: 5000,
    },
    {
      rule: 'defaults.incrementSeconds applies to a lease',
      text: minimal('defaults: { incrementSeconds: 5000 }'),
      pick: (c: RenewerConfig) => c.targets[0]?.leases[0]?.incrementSeconds,
      expected: 5000,
    },
    {
      rule: "a lease takes defaults.incrementSeconds, not its target's token increment",
      text: minimal('defaults: { incrementSeconds: 5000 }').replace(
        '    leases:',
        '    incrementSeconds: 9000\n    leases:',
      ),
      pick: (c: RenewerConfig) => c.targets[0]?.leases[0]?.incrementSeconds,
      expected: 5000,
    },
    {
      rule: 'defaults.approleMount applies, without slashes',
      text: minimal('defaults: { approleMount: /team/approle/ }'),
      pick: (c: RenewerConfig) => c.targets[0]?.approle?.mount,
      expected: 'team/approle',
    },
    {
      rule: "a target's own mount wins over defaults.approleMount",
      text: minimal('defaults: { approleMount: team }').replace(
        'approle: { secret: vault/app/approle }',
        'approle: { secret: vault/app/approle, mount: mine/ }',
      ),
      pick: (c: RenewerConfig) => c.targets[0]?.approle?.mount,
      expected: 'mine',
    },
    {
      rule: 'defaults.notify applies field by field under a partial target override',
      text: minimal('defaults: { notify: { onRelogin: true, onReissue: true } }').replace(
        '    leases:',
        '    notify: { onReissue: false }\n    leases:',
      ),
      pick: (c: RenewerConfig) => c.targets[0]?.notify,
      expected: { onRelogin: true, onReissue: false },
    },
    {
      rule: 'the default namespace applies, in canonical form',
      text: minimal().replace(
        "vault: { address: 'http://127.0.0.1:8200' }",
        "vault: { address: 'http://127.0.0.1:8200', namespace: /platform/team }",
      ),
      pick: (c: RenewerConfig) => c.targets[0]?.vault,
      expected: { address: 'http://127.0.0.1:8200', namespace: 'platform/team/' },
    },
    {
      rule: "a target's empty namespace overrides a default namespace with the root one",
      text: minimal()
        .replace(
          "vault: { address: 'http://127.0.0.1:8200' }",
          "vault: { address: 'http://127.0.0.1:8200', namespace: platform }",
        )
        .replace('    leases:', "    vault: { namespace: '' }\n    leases:"),
      pick: (c: RenewerConfig) => c.targets[0]?.vault,
      expected: { address: 'http://127.0.0.1:8200' },
    },
    {
      rule: 'a target overriding only its address keeps the default namespace',
      text: minimal()
        .replace(
          "vault: { address: 'http://127.0.0.1:8200' }",
          "vault: { address: 'http://127.0.0.1:8200', namespace: platform }",
        )
        .replace('    leases:', "    vault: { address: 'HTTPS://Other:443/' }\n    leases:"),
      pick: (c: RenewerConfig) => c.targets[0]?.vault,
      expected: { address: 'https://other', namespace: 'platform/' },
    },
    {
      rule: 'a target without leases gets an empty list',
      text: minimal().replace(/ {4}leases:\n.*\n/, ''),
      pick: (c: RenewerConfig) => c.targets[0]?.leases,
      expected: [],
    },
  ])('applies the rule that $rule', ({ text, pick, expected }) => {
    // Act
    const config = parseConfig(text);

    // Assess
    expect(pick(config)).toStrictEqual(expected);
  });

  it('leaves out the optional fields nobody set', () => {
    // Act
    const config = parseConfig(minimal());

    // Assess
    expect('vaultCaCertPem' in config).toBe(false);
    expect('namespace' in (config.targets[0]?.vault ?? {})).toBe(false);
    expect('roleName' in (config.targets[0]?.approle ?? {})).toBe(false);
    expect('owner' in (config.targets[0] ?? {})).toBe(false);
  });

  it('retires a replaced token after retireReplaced.afterMinutes, or never with false', () => {
    expect(parseConfig(minimal('retireReplaced: { afterMinutes: 0 }')).retireReplacedSeconds).toBe(
      0,
    );
    expect('retireReplacedSeconds' in parseConfig(minimal('retireReplaced: false'))).toBe(false);
    expect(catchConfigError(() => parseConfig(minimal('retireReplaced: true'))).message).toMatch(
      /retireReplaced/,
    );
  });

  it('gives a target its own owner, or the default one, and refuses an owner that is not a team name', () => {
    const file = `version: 1
schedule: { intervalMinutes: 15 }
vault: { address: 'http://127.0.0.1:8200' }
defaults: { owner: platform }
targets:
  - { name: a, tokenSecret: a/token, approle: { secret: a/approle }, owner: payments }
  - { name: b, tokenSecret: b/token, approle: { secret: b/approle } }
`;
    expect(parseConfig(file).targets.map((t) => t.owner)).toEqual(['payments', 'platform']);
    const error = catchConfigError(() =>
      parseConfig(file.replace('owner: payments', 'owner: "team a/b"')),
    );
    expect(error.message).toMatch(/targets\[0\]\.owner.*must be a team name/);
  });

  it('accepts JSON and reads it to the same config as the equivalent YAML', () => {
    // Prepare
    const json = fixture('valid.json');

    // Act
    const fromJson = parseConfig(json, { format: 'json' });

    // Assess
    expect(fromJson).toStrictEqual(parseConfig(fixture('minimal.yaml')));
  });

  it('accepts a file that starts with a byte order mark', () => {
    // Act
    const config = parseConfig(`\uFEFF${fixture('valid.json')}`, { format: 'json' });

    // Assess
    expect(config.targets).toHaveLength(1);
  });

  it('lets several targets share one AppRole secret, which is only read', () => {
    // Prepare
    const text = minimal(`  - name: app-two
    tokenSecret: vault/app-two/token
    approle: { secret: vault/app/approle }`);

    // Act
    const config = parseConfig(text);

    // Assess
    expect(config.targets.map((target) => target.approle?.secretId)).toEqual([
      'vault/app/approle',
      'vault/app/approle',
    ]);
  });
});

describe('parseConfig with vault.caCertFile', () => {
  const withCa = (file: string) =>
    minimal().replace(
      "vault: { address: 'http://127.0.0.1:8200' }",
      `vault: { address: 'https://vault.example.internal:8200', caCertFile: '${file}' }`,
    );

  it('reads the bundle relative to baseDir and embeds it', () => {
    // Act
    const config = parseConfig(withCa('certs/vault-ca.pem'), { baseDir: FIXTURES });

    // Assess
    expect(config.vaultCaCertPem).toBe(CA_PEM);
  });

  it('asks the injected reader for the path resolved against baseDir', () => {
    // Prepare
    const asked: string[] = [];
    const readFile = (path: string) => {
      asked.push(path);
      return CA_PEM;
    };

    // Act
    parseConfig(withCa('certs/ca.pem'), { baseDir: '/etc/renewer', readFile });

    // Assess
    expect(asked).toEqual(['/etc/renewer/certs/ca.pem']);
  });

  it('keeps every certificate of a bundle and drops the text around them', () => {
    // Act
    const config = parseConfig(withCa('certs/bundle.pem'), { baseDir: FIXTURES });

    // Assess
    const pem = config.vaultCaCertPem ?? '';
    expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(2);
    expect(pem.startsWith('-----BEGIN CERTIFICATE-----')).toBe(true);
    expect(pem).not.toContain('Issuer');
  });

  it('reports a missing file by the path of the field', () => {
    // Act
    const error = catchConfigError(() =>
      parseConfig(fixture('ca-missing.yaml'), { baseDir: FIXTURES }),
    );

    // Assess
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe('vault.caCertFile');
    expect(error.issues[0]?.message).toMatch(/^cannot read "certs\/missing.pem" .*ENOENT$/);
  });

  it.each([
    { file: 'minimal.yaml', problem: /holds no PEM certificate/ },
    { file: 'certs/not-a-cert.pem', problem: /certificate 1 of 1 is not a valid X\.509/ },
  ])('reports $file as not a CA bundle', ({ file, problem }) => {
    // Act
    const error = catchConfigError(() => parseConfig(withCa(file), { baseDir: FIXTURES }));

    // Assess
    expect(error.issues).toEqual([
      { path: 'vault.caCertFile', message: expect.stringMatching(problem) },
    ]);
  });

  it('reports the bundle with the other problems of the file', () => {
    // Prepare
    const text = withCa('certs/missing.pem').replace('intervalMinutes: 15', 'intervalMinutes: 0');

    // Act
    const error = catchConfigError(() => parseConfig(text, { baseDir: FIXTURES }));

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'schedule.intervalMinutes',
      'vault.caCertFile',
    ]);
  });
});

describe('loadConfigFile', () => {
  it('reads a file and resolves caCertFile against its directory', () => {
    // Act
    const config = loadConfigFile(join(FIXTURES, 'valid-full.yaml'));

    // Assess
    expect(config.vaultCaCertPem).toBe(CA_PEM);
    expect(config.targets).toHaveLength(3);
  });

  it('reads a .json file as JSON', () => {
    // Act
    const config = loadConfigFile(join(FIXTURES, 'valid.json'));

    // Assess
    expect(config.targets[0]?.name).toBe('app');
  });

  it('names the file in the error', () => {
    // Prepare
    const path = join(FIXTURES, 'many-errors.yaml');

    // Act
    const error = catchConfigError(() => loadConfigFile(path));

    // Assess
    expect(error.message.split('\n')[0]).toBe(`Invalid renewer config ${path} (8 problems):`);
  });

  it('reports a file that does not exist as a ConfigError', () => {
    // Act
    const error = catchConfigError(() => loadConfigFile(join(FIXTURES, 'absent.yaml')));

    // Assess
    expect(error.issues).toEqual([{ path: '(file)', message: 'cannot read the file: ENOENT' }]);
  });

  it('ships a config/targets.yaml that is valid', () => {
    // Act
    const config = loadConfigFile(
      fileURLToPath(new URL('../../../config/targets.yaml', import.meta.url)),
    );

    // Assess
    expect(config.targets.length).toBeGreaterThan(0);
  });
});
