/**
 * The packaged renew handler runs under `osls invoke local` with a
 * console-style event: osls bundles it with serverless-esbuild exactly as for
 * a deploy and calls it with the event, here against the local stack.
 */

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { RESOLVED_CONFIG_FILE } from '../../functions/config/resolved.js';
import type { RunReport } from '../../functions/renewal/report.js';
import { writeResolvedConfig } from '../../scripts/lib/resolved-config.js';
import { REPO_ROOT } from '../../tools/local-stack/python-env.js';
import { configWith, createScenario, eventsOf } from '../support/scenario.js';
import { stackEnv } from '../support/stack-env.js';

const workDir = mkdtempSync(join(tmpdir(), 'invoke-local-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

function osls(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['osls', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/** The handler's result: the last top-level JSON object osls prints. */
function lastJsonObject(output: string): unknown {
  const start = output.lastIndexOf('\n{');
  return JSON.parse(output.slice(start + 1).replace(/\n}\s*[\s\S]*$/, '\n}'));
}

describe('osls invoke local -f renew', () => {
  it('runs the bundled handler with a console dry-run event against the local stack', async () => {
    // Prepare: one healthy target and one holding a non-renewable token
    const env = stackEnv();
    const scenario = await createScenario(env, 'il');
    const { fleet, alerts } = scenario;
    const healthy = await fleet.target('steady', { tokenTtl: 3600, tokenMaxTtl: 7200 });
    const created = (await fleet.vault('POST', 'auth/token/create', {
      policies: ['default'],
      renewable: false,
      ttl: '1h',
    })) as { auth: { client_token: string } };
    const stuck = await fleet.target(
      'stuck',
      { tokenTtl: 3600, tokenMaxTtl: 7200 },
      { storedToken: created.auth.client_token },
    );
    const yamlFile = join(workDir, 'targets.yaml');
    writeFileSync(
      yamlFile,
      stringify(configWith(env, [fleet.targetConfig(healthy), fleet.targetConfig(stuck)])),
    );
    const resolvedFile = join(workDir, 'targets.resolved.json');
    writeResolvedConfig(yamlFile, resolvedFile);
    // serverless.yml derives IAM from the shipped config and checks that its
    // resolved JSON was written from it (what `npm run build` does first).
    writeResolvedConfig(
      join(REPO_ROOT, 'config/targets.yaml'),
      join(REPO_ROOT, RESOLVED_CONFIG_FILE),
    );

    // Act
    const { code, output } = await osls(
      [
        'invoke',
        'local',
        '-f',
        'renew',
        '--stage',
        'test',
        '--data',
        '{"dryRun": true, "notify": true}',
        '--param',
        `alertTopicArnEnv=${alerts.topicArn}`,
        '--param',
        'incidentTableNameEnv=none',
        '-e',
        `RENEWER_CONFIG_FILE=${resolvedFile}`,
      ],
      {
        ...process.env,
        ...env,
        POWERTOOLS_LOG_LEVEL: 'WARN',
      },
    );

    // Assess
    expect(code, output).toBe(0);
    const report = lastJsonObject(output) as RunReport;
    expect(report.dryRun).toBe(true);
    expect(report.targets.map((t) => [t.target, t.token.outcome])).toEqual([
      ['steady', 'would-renew'],
      ['stuck', 'would-relogin'],
    ]);
    expect(await fleet.versionCount(stuck.tokenSecret)).toBe(1);
    expect(eventsOf(await alerts.receive(1))).toEqual(['WARNING token-not-renewable stuck']);
  }, 120_000);

  it('reports a bad event with its error class name as errorType (the bundle keeps class names)', async () => {
    const resolved = join(REPO_ROOT, RESOLVED_CONFIG_FILE);
    writeResolvedConfig(join(REPO_ROOT, 'config/targets.yaml'), resolved);

    const { code, output } = await osls(
      [
        'invoke',
        'local',
        '-f',
        'renew',
        '--stage',
        'test',
        '--data',
        '{"bogus": true}',
        '--param',
        'alertTopicArnEnv=arn:aws:sns:us-east-1:000000000000:unused',
        '--param',
        'incidentTableNameEnv=none',
        '-e',
        `RENEWER_CONFIG_FILE=${resolved}`,
      ],
      { ...process.env, ...stackEnv(), POWERTOOLS_LOG_LEVEL: 'WARN' },
    );

    expect(code).not.toBe(0);
    expect(output).toMatch(/"errorType": "InvalidEventError"/);
    expect(output).toMatch(/"errorMessage": "Unrecognised event/);
  }, 120_000);
});
