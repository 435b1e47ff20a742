import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseTargetLines, renderTargetLines } from '../../../functions/config/target-lines.js';
import { validateTargetLines } from '../../../scripts/targets/validate-lines.js';

const dir = mkdtempSync(join(tmpdir(), 'target-lines-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = join(dir, 'config.yaml');
writeFileSync(
  config,
  stringify({
    version: 1,
    schedule: { intervalMinutes: 15 },
    vault: { address: 'https://vault.example.com' },
    secretAccess: { byTag: { key: 'vault-renewer:access' } },
    defaults: { incrementSeconds: 7200 },
    targetsObject: {},
    targets: [
      {
        name: 'inline',
        tokenSecret: 'vault/inline/token',
        approle: { secret: 'vault/inline/approle' },
      },
    ],
  }),
);

function lines(file: string, ...targets: unknown[]): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    targets.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))).join('\n'),
  );
  return path;
}

const target = (name: string) => ({
  name,
  tokenSecret: `vault/${name}/token`,
  approle: { secret: `vault/${name}/approle` },
});

describe('a targets file checked with its config', () => {
  it('resolves each line with the config defaults, and reads back what it renders', () => {
    const { targets } = validateTargetLines(
      config,
      lines('ok.jsonl', target('a'), '', target('b')),
    );
    expect(targets.map((t) => [t.name, t.incrementSeconds])).toEqual([
      ['a', 7200],
      ['b', 7200],
    ]);
    expect(parseTargetLines(renderTargetLines(targets), 'object')).toEqual(targets);
  });

  it('names every problem by its line and field, the config rules across lines included', () => {
    const path = lines(
      'bad.jsonl',
      target('a'),
      'not json',
      { ...target('b'), approle: {} },
      { ...target('a'), tokenSecret: 'vault/other/token' },
      { ...target('c'), tokenSecret: 'vault/inline/token' },
      { ...target('d'), vault: { maxRequestsPerSecond: 10 } },
      { name: 'e', tokenSecret: 'vault/e/token', jwt: { audience: 'not.packaged' } },
    );
    let error: unknown;
    try {
      validateTargetLines(config, path);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues.map((i) => i.path)).toEqual([
      'line 2',
      'line 6: vault.maxRequestsPerSecond',
      'line 7: jwt.audience',
      'line 3: approle.secret',
      'line 4: name',
      'line 5: tokenSecret',
    ]);
  });
});

describe('the targets object as the functions read it', () => {
  it('refuses a line that is not a resolved target, by line number', () => {
    expect(() => parseTargetLines('{"name": "x"}\n\nnot json\n', 'object')).toThrow(
      /line 1: tokenSecretId[\s\S]*line 3: not a JSON object/,
    );
  });
});
