import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  configPathFrom,
  DEFAULT_CONFIG_PATH,
  validateConfigFile,
} from '../../../scripts/validate-config.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/config');
const SCRIPT = join(ROOT, 'scripts/validate-config.ts');

describe('validate-config', () => {
  it.each([
    { args: ['a.yaml'], env: { RENEWER_CONFIG: 'b.yaml' }, expected: 'a.yaml' },
    { args: [], env: { RENEWER_CONFIG: 'b.yaml' }, expected: 'b.yaml' },
    { args: [], env: { RENEWER_CONFIG: '' }, expected: DEFAULT_CONFIG_PATH },
    { args: [], env: {}, expected: 'config/targets.yaml' },
  ])('checks $expected given $args and $env', ({ args, env, expected }) => {
    // Act
    const path = configPathFrom(args, env);

    // Assess
    expect(path).toBe(expected);
  });

  it('summarises a valid file by its targets and leases', () => {
    // Act
    const result = validateConfigFile(join(FIXTURES, 'valid-full.yaml'));

    // Assess
    expect(result).toEqual({ ok: true, summary: 'config OK: 3 targets, 2 leases' });
  });

  it('returns every problem of a broken file', () => {
    // Act
    const result = validateConfigFile(join(FIXTURES, 'many-errors.yaml'));

    // Assess
    expect(result.ok).toBe(false);
    expect(!result.ok && result.report.split('\n')).toHaveLength(9);
  });

  it('passes the shipped config and exits 1 on a broken one when run as a script', () => {
    // Prepare
    const run = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, RENEWER_CONFIG: '' },
      });

    // Act
    const shipped = run();
    const broken = run(join(FIXTURES, 'syntax-error.yaml.txt'));

    // Assess
    expect({ status: shipped.status, stderr: shipped.stderr }).toEqual({ status: 0, stderr: '' });
    expect(shipped.stdout).toMatch(/^config OK: \d+ targets?, \d+ leases?\n$/);
    expect(broken.status).toBe(1);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toContain(
      '(root): YAML syntax error at line 8, column 1: Sequence item without - indicator',
    );
  }, 30_000);
});
