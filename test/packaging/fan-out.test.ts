/**
 * A config whose targets live in S3 and whose runs fan out, packaged offline:
 * the state machine passes cfn-lint (its Step Functions rules among them),
 * the batch the map hands out is what the batch handler parses, IAM keeps the
 * targets object read-only for the functions and writable by the deploy role
 * alone, and the package no longer holds the fleet, whatever its size.
 */

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseBatchEvent } from '../../functions/app/renew-event.js';
import { parseConfig } from '../../functions/config/load.js';
import { RESOLVED_CONFIG_FILE } from '../../functions/config/resolved.js';
import { parseTargetLines, renderTargetLines } from '../../functions/config/target-lines.js';
import { ensurePythonEnv } from '../../tools/local-stack/python-env.js';
import {
  actions,
  npmRunPackage,
  type Packaged,
  props,
  REPO_ROOT,
  readZip,
  roleStatements,
  type Statement,
} from './package-workspace.js';

const run = promisify(execFile);
const CFN_LINT = join(REPO_ROOT, '.venv/bin/cfn-lint');
const WRITER = 'arn:aws:iam::123456789012:role/deploy';

let workDir: string;
let packaged: Packaged;

const fanOutConfig = {
  version: 1,
  schedule: { intervalMinutes: 15 },
  vault: { address: 'https://vault.example.com' },
  secretAccess: { byTag: { key: 'vault-renewer:access' } },
  targetsObject: { key: 'fleet/targets.jsonl' },
  fanOut: { batchSize: 500, maxConcurrency: 20 },
  webIdentity: { audiences: ['vault.example.com'] },
};

beforeAll(async () => {
  await ensurePythonEnv();
  workDir = mkdtempSync(join(tmpdir(), 'fan-out-package-'));
  const configFile = join(workDir, 'fan-out.yaml');
  writeFileSync(configFile, stringify(fanOutConfig));
  packaged = await npmRunPackage(workDir, 'fan-out', {
    stage: 'test',
    configFile,
    params: [`targetsWriterArn=${WRITER}`],
  });
}, 300_000);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

interface Definition {
  readonly States: Record<string, Record<string, unknown>>;
}

function definition(): Definition {
  return props<{ Definition: Definition }>(packaged.template, 'FanOutStateMachine').Definition;
}

async function cfnLint(file: string): Promise<{ code: number; errors: string[] }> {
  try {
    await run(CFN_LINT, ['--format', 'parseable', file]);
    return { code: 0, errors: [] };
  } catch (error) {
    const { code, stdout } = error as { code: number; stdout: string };
    // Exit 2 is an error, 4 a warning (osls's own redundant DependsOn), 6 both.
    const errors = stdout.split('\n').filter((line) => /:E\d{4}:/.test(line));
    return { code, errors };
  }
}

describe('the fan-out state machine', () => {
  it('passes cfn-lint, whose Step Functions rules catch a broken definition', async () => {
    const templateFile = join(packaged.outDir, 'cloudformation-template-update-stack.json');
    expect(await cfnLint(templateFile)).toMatchObject({ errors: [] });

    // The same template with the map's batcher broken: the rules must see it.
    const broken = JSON.parse(readFileSync(templateFile, 'utf8'));
    const map = broken.Resources.FanOutStateMachine.Properties.Definition.States.RenewInBatches;
    map.ItemBatcher.MaxItemsPerBatch = 'many';
    delete map.Next;
    const brokenFile = join(workDir, 'broken.json');
    writeFileSync(brokenFile, JSON.stringify(broken));
    const linted = await cfnLint(brokenFile);
    expect(linted.errors.some((line) => line.includes(':E3601:'))).toBe(true);
  }, 120_000);

  it('hands each batch to renewBatch in the form its handler parses', () => {
    const map = definition().States.RenewInBatches as {
      ItemReader: { ReaderConfig: { InputType: string } };
      ItemBatcher: { MaxItemsPerBatch: number; BatchInput: Record<string, unknown> };
      MaxConcurrency: number;
      ToleratedFailurePercentage: number;
    };
    expect(map.ItemReader.ReaderConfig.InputType).toBe('JSONL');
    expect(map.ItemBatcher.MaxItemsPerBatch).toBe(500);
    expect(map.MaxConcurrency).toBe(20);
    // A failed batch never ends the run: the aggregate step reports it.
    expect(map.ToleratedFailurePercentage).toBe(100);
    // The targets object as targets:push writes it, batched as the item batcher does.
    const config = parseConfig(
      stringify({
        ...fanOutConfig,
        targets: [1, 2, 3].map((i) => ({
          name: `t${i}`,
          tokenSecret: `vault/t${i}/token`,
          approle: { secret: `vault/t${i}/approle` },
        })),
      }),
    );
    const items = parseTargetLines(renderTargetLines(config.targets), 'object');
    const batchInput = Object.fromEntries(
      Object.entries(map.ItemBatcher.BatchInput).map(([key, value]) =>
        key === 'runId.$' ? ['runId', 'a1b2c3d4-e5f6-7890-abcd-ef1234567890'] : [key, value],
      ),
    );
    const batch = parseBatchEvent({ Items: items, BatchInput: batchInput });
    expect(batch.items.map((t) => t.name)).toEqual(['t1', 't2', 't3']);
    expect(batch.concurrency).toBe(20);
  });
});

describe('logging in with jwt', () => {
  it('lets the renew role alone have STS sign tokens: its audiences, RS256, five minutes, the target tag', () => {
    const statements = roleStatements(packaged.template, 'RenewRole').filter((s) =>
      actions(s).some((a) => a.startsWith('sts:')),
    );
    expect(statements).toEqual([
      {
        Sid: 'SignWebIdentityTokensForTheTargets',
        Effect: 'Allow',
        Action: ['sts:GetWebIdentityToken', 'sts:TagGetWebIdentityToken'],
        Resource: '*',
        Condition: {
          'ForAllValues:StringEquals': {
            'sts:IdentityTokenAudience': ['vault.example.com'],
            'aws:TagKeys': ['vault-renewer-target'],
          },
          StringEquals: { 'sts:SigningAlgorithm': 'RS256' },
          NumericLessThanEquals: { 'sts:DurationSeconds': 300 },
        },
      },
    ]);
    for (const role of ['DiagnoseRole', 'RotateRole']) {
      expect(
        roleStatements(packaged.template, role).filter((s) =>
          actions(s).some((a) => a.startsWith('sts:')),
        ),
        role,
      ).toEqual([]);
    }
  });
});

describe('targets out of the bundle', () => {
  it('ships no target in any zip: the package does not grow with the fleet', () => {
    for (const fn of ['renew', 'renewBatch', 'aggregate', 'diagnose', 'rotate']) {
      const zip = join(packaged.outDir, `${fn}.zip`);
      const shipped = JSON.parse(String(readZip(zip).get(RESOLVED_CONFIG_FILE))) as {
        targets: unknown[];
        targetsObject: unknown;
      };
      expect(shipped.targets, fn).toEqual([]);
      expect(shipped.targetsObject, fn).toEqual({ key: 'fleet/targets.jsonl' });
    }
    expect(packaged.output).toMatch(/AWS limits: all \d+ within bounds/);
  });

  it('lets the functions read the targets object and only the deploy role write it', () => {
    const objectArn = {
      'Fn::Sub': `arn:\${AWS::Partition}:s3:::\${TargetsBucket}/fleet/targets.jsonl`,
    };
    const read = props<{ Roles: unknown[]; PolicyDocument: { Statement: Statement[] } }>(
      packaged.template,
      'ReadTargetsObjectPolicy',
    );
    expect(read.Roles).toEqual([
      { Ref: 'RenewRole' },
      { Ref: 'DiagnoseRole' },
      { Ref: 'RotateRole' },
      { Ref: 'AggregateRole' },
    ]);
    expect(read.PolicyDocument.Statement).toEqual([
      { Sid: 'ReadTargets', Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn },
    ]);
    for (const role of ['RenewRole', 'DiagnoseRole', 'RotateRole']) {
      const writes = roleStatements(packaged.template, role).filter((s) =>
        actions(s).some((a) => a.startsWith('s3:Put') || a.startsWith('s3:Delete')),
      );
      expect(writes, role).toEqual([]);
    }
    const policy = props<{ PolicyDocument: { Statement: Statement[] } }>(
      packaged.template,
      'TargetsBucketPolicy',
    );
    expect(policy.PolicyDocument.Statement).toContainEqual({
      Sid: 'TargetsWrittenByTheDeployRoleOnly',
      Effect: 'Deny',
      Principal: '*',
      Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      Resource: objectArn,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': WRITER } },
    });
    expect(props<Record<string, unknown>>(packaged.template, 'TargetsBucket')).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('runs the aggregate step as a role of its own, with no secret and no write but its report', () => {
    const statements = roleStatements(packaged.template, 'AggregateRole');
    expect(statements.flatMap((s) => actions(s)).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:PutItem',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:GetObject',
      's3:PutObject',
      'sns:Publish',
    ]);
    expect(props(packaged.template, 'AggregateLambdaFunction')).toMatchObject({
      Role: { 'Fn::GetAtt': ['AggregateRole', 'Arn'] },
    });
  });

  it('starts the state machine on the schedule instead of the renew function', () => {
    expect(props<{ State: string }>(packaged.template, 'RenewSchedulerSchedule1').State).toBe(
      'DISABLED',
    );
    expect(
      props<{ State: string; Target: { Arn: unknown } }>(packaged.template, 'FanOutSchedule'),
    ).toMatchObject({
      State: 'ENABLED',
      Target: { Arn: { Ref: 'FanOutStateMachine' } },
    });
  });
});
