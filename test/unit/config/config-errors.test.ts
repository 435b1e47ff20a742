import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseConfig } from '../../../functions/config/load.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/config/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

function catchConfigError(act: () => unknown): ConfigError {
  try {
    act();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** A valid file as data; each case changes one field of it. */
function validFile(): Record<string, unknown> {
  return {
    version: 1,
    schedule: { intervalMinutes: 15 },
    vault: { address: 'http://127.0.0.1:8200' },
    targets: [
      {
        name: 'app',
        tokenSecret: 'vault/app/token',
        approle: { secret: 'vault/app/approle' },
        leases: [{ name: 'db', secret: 'vault/app/db', reissuePath: 'database/creds/app' }],
      },
    ],
  };
}

const REMOVE = Symbol('remove');

/** `validFile()` as YAML with the field at `field` (`targets[0].name`) set to `value`, or removed. */
function yamlWith(field: string, value: unknown): string {
  const file = validFile();
  const keys = (field.match(/[^.[\]]+/g) ?? []).map((key) =>
    /^\d+$/.test(key) ? Number(key) : key,
  );
  const last = keys.pop();
  if (last === undefined) throw new Error(`bad field ${field}`);
  let node = file as Record<string | number, unknown>;
  for (const key of keys) {
    node[key] ??= {};
    node = node[key] as Record<string | number, unknown>;
  }
  if (value === REMOVE) delete node[last];
  else node[last] = value;
  return stringify(file);
}

describe('parseConfig rejects each invalid field by its path', () => {
  it.each([
    { field: 'version', value: 2, message: 'must be 1, the only version this renewer reads' },
    { field: 'version', value: REMOVE, message: 'is required' },
    { field: 'schedule', value: REMOVE, message: 'is required' },
    { field: 'schedule.intervalMinutes', value: 0, message: 'must be at least 1' },
    { field: 'schedule.intervalMinutes', value: 1441, message: 'must be at most 1440' },
    { field: 'schedule.intervalMinutes', value: 7.5, message: 'must be a whole number of minutes' },
    {
      field: 'schedule.intervalMinutes',
      value: '15',
      message: 'must be a whole number of minutes, got a string',
    },
    { field: 'concurrency', value: 0, message: 'must be at least 1' },
    { field: 'concurrency', value: 65, message: 'must be at most 64' },
    { field: 'concurrency', value: null, message: 'must be a whole number, got null' },
    {
      field: 'vault.address',
      value: 'vault.example.com:8200',
      message: 'must be an http:// or https:// URL, e.g. https://vault.example.com:8200',
    },
    {
      field: 'vault.address',
      value: 'ftp://vault.example.com',
      message: 'must be an http:// or https:// URL, e.g. https://vault.example.com:8200',
    },
    {
      field: 'vault.address',
      value: 'https://vault.example.com/v1',
      message: 'must not have a path (the client adds /v1/...)',
    },
    {
      field: 'vault.address',
      value: 'https://vault.example.com?x=1',
      message: 'must not have a query or fragment',
    },
    {
      field: 'vault.address',
      value: 'https://user:pass@vault.example.com',
      message: 'must not contain credentials',
    },
    {
      field: 'vault.namespace',
      value: 'root',
      message: 'names the root namespace: omit it, or write "" to override a default namespace',
    },
    { field: 'vault.namespace', value: 'a//b', message: 'must not contain empty segments ("//")' },
    { field: 'vault.namespace', value: 'a/../b', message: 'must not contain "." or ".." segments' },
    {
      field: 'vault.namespace',
      value: 'team a',
      message: 'may only contain A-Z a-z 0-9 . _ - and "/"',
    },
    { field: 'vault.caCertFile', value: ' ', message: 'must not be empty' },
    {
      field: 'defaults.incrementSeconds',
      value: '1h',
      message:
        'must be a whole number of seconds (durations like "1h" are not accepted: write 3600)',
    },
    { field: 'defaults.incrementSeconds', value: 0, message: 'must be at least 1 second' },
    {
      field: 'defaults.incrementSeconds',
      value: 2_764_801,
      message: "must be at most 2764800 seconds (768h, Vault's default max TTL)",
    },
    {
      field: 'defaults.approleMount',
      value: 'auth/approle',
      message: 'must be the mount path without the "auth/" prefix, e.g. "approle"',
    },
    { field: 'defaults.approleMount', value: '/', message: 'must not be empty' },
    {
      field: 'defaults.notify.onRelogin',
      value: 'yes',
      message: 'must be true or false, got a string',
    },
    {
      field: 'targets',
      value: [],
      message: 'must list at least one target (or set targetsObject: the targets live in S3)',
    },
    { field: 'targets', value: { app: {} }, message: 'must be a list, got a mapping' },
    { field: 'targets[0]', value: 'app', message: 'must be a mapping, got a string' },
    ...['Billing', '-app', 'a'.repeat(65), 'app one', ''].map((name) => ({
      field: 'targets[0].name',
      value: name,
      message:
        'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
    })),
    ...[
      '',
      'vault/app token',
      'a'.repeat(513),
      'arn:aws:secretsmanager:us-east-1:1234:secret:vault/app/token-AbC123',
      'arn:aws:ssm:us-east-1:123456789012:parameter/app',
    ].map((secret) => ({
      field: 'targets[0].tokenSecret',
      value: secret,
      message:
        'must be a Secrets Manager secret name (1-512 characters of A-Z a-z 0-9 / _ + = . @ -) or a secret ARN',
    })),
    { field: 'targets[0].approle.secret', value: 42, message: 'must be a string, got a number' },
    {
      field: 'targets[0].approle.role',
      value: 'app;rm -rf',
      message:
        'must be 1-128 characters of A-Z a-z 0-9 _ . -, starting and ending with a letter, digit or "_"',
    },
    {
      field: 'targets[0].incrementSeconds',
      value: 900,
      message:
        'must be longer than the schedule interval (900 s), or the token expires between runs',
    },
    {
      field: 'targets[0].vault.address',
      value: 'http://',
      message: 'must be an http:// or https:// URL, e.g. https://vault.example.com:8200',
    },
    { field: 'targets[0].notify', value: true, message: 'must be a mapping, got a boolean' },
    { field: 'targets[0].leases[0].name', value: REMOVE, message: 'is required' },
    {
      field: 'targets[0].leases[0].secret',
      value: 'vault/app/db#1',
      message: expect.stringMatching(/^must be a Secrets Manager secret name/),
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: '/database/creds/app',
      message: "must not start with '/'",
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: 'v1/database/creds/app',
      message: "must not start with 'v1/' (the client adds it)",
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: 'database/creds/',
      message: "must not end with '/'",
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: 'database/../sys/raw',
      message: 'must not contain "." or ".." segments',
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: 'database//app',
      message: 'must not contain empty segments ("//")',
    },
    {
      field: 'targets[0].leases[0].reissuePath',
      value: 'database/creds/app?ttl=1',
      message: 'may only contain A-Z a-z 0-9 . _ @ + = : - and "/"',
    },
    { field: 'targets[0].leases[0].reissuePath', value: '', message: 'must not be empty' },
    {
      field: 'targets[0].leases[0].incrementSeconds',
      value: 600,
      message:
        'must be longer than the schedule interval (900 s), or the lease expires between runs',
    },
  ])('reports $field set to $value', ({ field, value, message }) => {
    // Prepare
    const text = yamlWith(field, value);

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([{ path: field, message }]);
    expect(error.message).toContain(`\n  ${field}: `);
  });

  it('names a target that ends up without any Vault address', () => {
    // Prepare
    const text = fixture('missing-address.yaml');

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([
      { path: 'targets[1].vault.address', message: 'is required: no default vault.address is set' },
      { path: 'targets[2].vault.address', message: 'is required: no default vault.address is set' },
    ]);
  });

  it('asks for defaults.incrementSeconds when the built-in default is not longer than the interval', () => {
    // Prepare
    const text = yamlWith('schedule.intervalMinutes', 60);

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([
      {
        path: 'defaults.incrementSeconds',
        message:
          'is required: the built-in default (3600 s) is not longer than the schedule interval (3600 s)',
      },
    ]);
  });
});

describe('parseConfig reports every problem at once', () => {
  it('lists every bad field of a file in one error, in file order', () => {
    // Prepare
    const text = fixture('many-errors.yaml');

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toEqual([
      { path: 'schedule.intervalMinutes', message: 'must be at least 1' },
      { path: 'vault.address', message: 'must not have a path (the client adds /v1/...)' },
      {
        path: 'targets[1].name',
        message:
          'must be 1-64 characters of a-z, 0-9, ".", "_", "-", starting with a letter or digit',
      },
      {
        path: 'targets[1].approle.mount',
        message: 'must be the mount path without the "auth/" prefix, e.g. "approle"',
      },
      {
        path: 'targets[1].incrementSeconds',
        message: "must be at most 2764800 seconds (768h, Vault's default max TTL)",
      },
      { path: 'targets[1].leases[0].reissuePath', message: "must not start with '/'" },
      {
        path: 'targets[2].tokenSecret',
        message:
          'must be a Secrets Manager secret name (1-512 characters of A-Z a-z 0-9 / _ + = . @ -) or a secret ARN',
      },
      { path: 'targets[2].approle.rol', message: 'unknown field (did you mean "role"?)' },
    ]);
    expect(error.message.split('\n')).toEqual([
      'Invalid renewer config (8 problems):',
      ...error.issues.map((issue) => `  ${issue.path}: ${issue.message}`),
    ]);
  });

  it('reports rules across fields together with a field that failed its own check', () => {
    // Prepare: a fractional number, then a duplicate target name further down.
    const file = validFile();
    (file.schedule as Record<string, unknown>).intervalMinutes = 7.5;
    file.targets = [...(file.targets as unknown[]), ...(file.targets as unknown[])];

    // Act
    const error = catchConfigError(() => parseConfig(stringify(file)));

    // Assess
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'schedule.intervalMinutes',
      'targets[1].name',
      'targets[1].tokenSecret',
      'targets[1].leases[0].secret',
    ]);
  });
});

describe('parseConfig takes one way to log in again per target', () => {
  it('refuses a target with neither approle nor jwt, or both, and rotation of a jwt target', () => {
    const without = catchConfigError(() => parseConfig(yamlWith('targets[0].approle', REMOVE)));
    expect(without.issues).toEqual([
      {
        path: 'targets[0]',
        message:
          'needs approle (a stored AppRole secret) or jwt (a token STS signs, no stored secret) to log in again',
      },
    ]);
    const both = catchConfigError(() =>
      parseConfig(yamlWith('targets[0].jwt', { audience: 'vault.example.com' })),
    );
    expect(both.issues).toEqual([
      { path: 'targets[0]', message: 'has both approle and jwt: give one way to log in again' },
    ]);
  });

  it('takes a jwt target with its defaults, and refuses rotating it', () => {
    const jwtOnly = (extra: Record<string, unknown>) => {
      const text = yamlWith('targets[0].approle', REMOVE);
      return parseConfig(
        text
          .replace('targets:', `targets:`)
          .replace(
            'tokenSecret: vault/app/token',
            `tokenSecret: vault/app/token\n    jwt: { audience: vault.example.com }${Object.keys(extra).length === 0 ? '' : `\n    rotation: ${JSON.stringify(extra)}`}`,
          ),
      );
    };
    expect(jwtOnly({}).targets[0]).toMatchObject({
      jwt: { audience: 'vault.example.com', mount: 'jwt', role: 'app' },
    });
    expect(jwtOnly({}).targets[0]?.approle).toBeUndefined();
    const rotated = catchConfigError(() => jwtOnly({ token: { everyDays: 7 } }));
    expect(rotated.issues).toEqual([
      {
        path: 'targets[0].rotation.token',
        message:
          'does not apply to a jwt target: it keeps no AppRole secret, and the renewer logs it in again by itself',
      },
    ]);
  });
});

describe('parseConfig rejects unknown keys', () => {
  it('names an unknown key by its path and suggests the known one', () => {
    // Act
    const error = catchConfigError(() => parseConfig(fixture('unknown-key.yaml')));

    // Assess
    expect(error.issues).toEqual([
      {
        path: 'targets[0]',
        message:
          'needs approle (a stored AppRole secret) or jwt (a token STS signs, no stored secret) to log in again',
      },
      { path: 'targets[0].aprole', message: 'unknown field (did you mean "approle"?)' },
    ]);
  });

  it.each([
    { key: 'target', path: 'target', message: 'unknown field (did you mean "targets"?)' },
    { key: 'interval_minutes', path: 'interval_minutes', message: 'unknown field' },
    { key: 'vaultAddress', path: 'vaultAddress', message: 'unknown field' },
  ])('reports the top-level key $key', ({ key, path, message }) => {
    // Prepare
    const text = `${stringify(validFile())}${key}: 1\n`;

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([{ path, message }]);
  });

  it('does not accept caCertFile per target, where it has no meaning', () => {
    // Prepare
    const text = yamlWith('targets[0].vault.caCertFile', 'ca.pem').replace(
      'vault:\n      caCertFile',
      "vault:\n      address: 'http://127.0.0.1:8200'\n      caCertFile",
    );

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([
      { path: 'targets[0].vault.caCertFile', message: 'unknown field' },
    ]);
  });
});

describe('parseConfig reports syntax errors with their position', () => {
  it('reports a YAML syntax error with line and column', () => {
    // Act
    const error = catchConfigError(() => parseConfig(fixture('syntax-error.yaml.txt')));

    // Assess
    expect(error.issues).toEqual([
      {
        path: '(root)',
        message: 'YAML syntax error at line 8, column 1: Sequence item without - indicator',
      },
    ]);
  });

  it.each([
    {
      text: 'version: 1\nversion: 1\n',
      message: /^YAML syntax error at line 2, column 1: Map keys must be unique/,
    },
    {
      text: 'a: 1\n---\nb: 2\n',
      message: /^YAML syntax error at line 2, column 1: Source contains multiple documents/,
    },
    {
      text: 'version: !custom 1\n',
      message: /^YAML syntax error at line 1, column 10: Unresolved tag: !custom/,
    },
    { text: 'version: *nowhere\n', message: /^YAML error: Unresolved alias/ },
  ])('reports the YAML $text', ({ text, message }) => {
    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.issues).toEqual([{ path: '(root)', message: expect.stringMatching(message) }]);
  });

  it('refuses a document that expands aliases without bound', () => {
    // Prepare: each level refers to the previous one ten times ("billion laughs").
    const levels = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i += 1) {
      levels.push(`l${i}: &l${i} [${Array.from({ length: 10 }, () => `*l${i - 1}`).join(', ')}]`);
    }

    // Act
    const error = catchConfigError(() => parseConfig(levels.join('\n')));

    // Assess
    expect(error.issues).toEqual([
      { path: '(root)', message: expect.stringMatching(/^YAML error: Excessive alias count/) },
    ]);
  });

  it('reports a JSON syntax error with line and column', () => {
    // Prepare
    const text = '{\n  "version": 1,\n  "schedule": { "intervalMinutes": 15, }\n}';

    // Act
    const error = catchConfigError(() => parseConfig(text, { format: 'json' }));

    // Assess
    expect(error.issues).toEqual([
      {
        path: '(root)',
        message: expect.stringMatching(/^JSON syntax error at line 3, column 40: /),
      },
    ]);
  });

  it('reports a duplicate JSON key, which JSON.parse would drop silently', () => {
    // Prepare
    const text = '{"version": 1,\n "version": 1}';

    // Act
    const error = catchConfigError(() => parseConfig(text, { format: 'json' }));

    // Assess
    expect(error.issues).toEqual([
      { path: '(root)', message: 'JSON error at line 2, column 2: Map keys must be unique' },
    ]);
  });

  it('does not read YAML when JSON is asked for', () => {
    // Act
    const error = catchConfigError(() => parseConfig(stringify(validFile()), { format: 'json' }));

    // Assess
    expect(error.issues[0]?.message).toMatch(/^JSON syntax error/);
  });

  it('reports an empty file as not a mapping', () => {
    // Act
    const error = catchConfigError(() => parseConfig(''));

    // Assess
    expect(error.issues).toEqual([{ path: '(root)', message: 'must be a mapping, got null' }]);
  });
});

describe('parseConfig rejects shared names and secrets', () => {
  it('reports duplicate target names, lease names, and shared written secrets', () => {
    // Act
    const error = catchConfigError(() => parseConfig(fixture('duplicates.yaml')));

    // Assess
    const shared = 'the renewer writes token and lease secrets, so each must be used once';
    expect(error.issues).toEqual([
      {
        path: 'targets[0].leases[1].name',
        message: 'is the same name as targets[0].leases[0].name',
      },
      { path: 'targets[1].name', message: 'is the same name as targets[0].name' },
      {
        path: 'targets[1].tokenSecret',
        message: `is the same secret as targets[0].tokenSecret; ${shared}`,
      },
      {
        path: 'targets[1].leases[0].secret',
        message: `is the same secret as targets[0].leases[0].secret; ${shared}`,
      },
      {
        path: 'targets[2].tokenSecret',
        message: `is the same secret as targets[0].approle.secret; ${shared}`,
      },
    ]);
  });

  it('allows the same lease name in two targets', () => {
    // Prepare
    const file = validFile();
    const second = {
      name: 'app-two',
      tokenSecret: 'vault/app-two/token',
      approle: { secret: 'vault/app-two/approle' },
      leases: [{ name: 'db', secret: 'vault/app-two/db', reissuePath: 'database/creds/app-two' }],
    };
    file.targets = [...(file.targets as unknown[]), second];

    // Act
    const config = parseConfig(stringify(file));

    // Assess
    expect(config.targets.map((target) => target.leases[0]?.name)).toEqual(['db', 'db']);
  });
});

describe('ConfigError messages do not echo input', () => {
  it('clips a long unknown key to 60 characters in its path', () => {
    // Prepare
    const key = `k${'x'.repeat(5000)}`;
    const text = JSON.stringify({ ...validFile(), [key]: 1 });

    // Act
    const error = catchConfigError(() => parseConfig(text, { format: 'json' }));

    // Assess
    expect(error.issues).toEqual([
      { path: `["${key.slice(0, 60)}..."]`, message: 'unknown field' },
    ]);
  });

  it('never repeats the value of a rejected field', () => {
    // Prepare: a token pasted where the secret's name belongs.
    const planted = 'hvs.CAESIJ-planted-token-value-0123456789';
    const text = yamlWith('targets[0].tokenSecret', `${planted} `);

    // Act
    const error = catchConfigError(() => parseConfig(text));

    // Assess
    expect(error.message).not.toContain(planted);
    expect(error.issues.map((issue) => issue.path)).toEqual(['targets[0].tokenSecret']);
  });
});
