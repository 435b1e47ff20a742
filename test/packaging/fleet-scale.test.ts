/**
 * A fleet fits one stack: `npm run package` (osls, offline) with 10,000
 * generated targets, and the AWS limits measured on what it produced, with
 * margin; a small fleet with declared prefixes gets exactly those; a fleet
 * past a limit fails the package once, naming the limit, the figure and the
 * fix; a secret outside the declared prefixes fails `npm run build`.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESOLVED_CONFIG_FILE } from '../../functions/config/resolved.js';
import {
  AWS_LIMITS,
  describeMeasure,
  type LimitMeasure,
  measureArtifacts,
  measureTemplate,
} from '../../infra/limits.js';
import { prefixResource } from '../../infra/secret-grants.js';
import { generatedFleetConfig } from '../support/generated-fleet.js';
import {
  actions,
  copyService,
  npmRunPackage,
  type Packaged,
  readZip,
  roleStatements,
  run,
  type Statement,
  statementsWith,
} from './package-workspace.js';

const FLEET_SIZE = 10_000;
const TAG = { key: 'vault-renewer:managed', value: 'true' };
const TAG_CONDITION = { StringEquals: { [`secretsmanager:ResourceTag/${TAG.key}`]: TAG.value } };
const DECLARED = {
  readWrite: ['platform/tokens/', 'platform/leases/'],
  readOnly: ['platform/approle/'],
};
/** Every limit must leave at least this share free for a fleet of FLEET_SIZE. */
const MARGIN = 0.5;

let workDir: string;
let fleet: Packaged;
let declared: Packaged;
let overLimit: { code: number | null; output: string };
let outsidePrefixes: { code: number | null; output: string };

function writeConfig(name: string, file: Record<string, unknown>): string {
  const path = join(workDir, `${name}.json`);
  writeFileSync(path, JSON.stringify(file));
  return path;
}

/** Three targets of one team, renamed to the declared `platform/...` layout. */
function declaredFleet(secretAccess: Record<string, unknown>): Record<string, unknown> {
  const file = generatedFleetConfig({ targets: 3, teams: 1, secretAccess });
  return JSON.parse(JSON.stringify(file).replaceAll('teams/team-00/', 'platform/')) as Record<
    string,
    unknown
  >;
}

function measuresOf(packaged: Packaged): LimitMeasure[] {
  const templateText = readFileSync(
    join(packaged.outDir, 'cloudformation-template-update-stack.json'),
    'utf8',
  );
  const zips = readdirSync(packaged.outDir).filter((f) => f.endsWith('.zip'));
  return [
    ...measureTemplate(JSON.parse(templateText), templateText),
    ...measureArtifacts(
      zips.map((name) => {
        const file = join(packaged.outDir, name);
        const unzippedBytes = [...readZip(file).values()].reduce((sum, b) => sum + b.length, 0);
        return { name, zippedBytes: statSync(file).size, unzippedBytes };
      }),
    ),
  ];
}

function secretStatements(packaged: Packaged, roleId: string): Statement[] {
  return statementsWith(roleStatements(packaged.template, roleId), 'secretsmanager:');
}

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'fleet-scale-'));
  const fleetFile = writeConfig(
    'fleet',
    generatedFleetConfig({ targets: FLEET_SIZE, secretAccess: { tag: TAG } }),
  );
  const declaredFile = writeConfig('declared', declaredFleet({ prefixes: DECLARED, tag: TAG }));
  // 60 declared prefixes of 200 characters each: about 12,000 characters per role.
  const longPrefixes = Array.from({ length: 60 }, (_, i) => `${'p'.repeat(190)}-${i}/`);
  const overLimitFile = writeConfig(
    'over-limit',
    declaredFleet({
      prefixes: { readWrite: ['platform/', ...longPrefixes], readOnly: ['approle/'] },
    }),
  );
  const outsideFile = writeConfig(
    'outside',
    declaredFleet({
      prefixes: { readWrite: ['platform/tokens/'], readOnly: ['platform/approle/'] },
    }),
  );

  const overLimitRun = async () => {
    const serviceDir = copyService(workDir, 'over-limit');
    // Move the AppRole secrets out of `platform/`, the over-wide writable prefix.
    const file = JSON.parse(readFileSync(overLimitFile, 'utf8')) as {
      targets: { approle: { secret: string } }[];
    };
    for (const target of file.targets) {
      target.approle.secret = target.approle.secret.replace('platform/approle/', 'approle/');
    }
    writeFileSync(overLimitFile, JSON.stringify(file));
    return run(serviceDir, 'npm', ['run', 'package', '--', '--package', join(workDir, 'ol-out')], {
      RENEWER_CONFIG: overLimitFile,
    });
  };
  const outsideRun = async () =>
    run(copyService(workDir, 'outside'), 'npm', ['run', 'build'], { RENEWER_CONFIG: outsideFile });

  [fleet, declared, overLimit, outsidePrefixes] = await Promise.all([
    npmRunPackage(workDir, 'fleet', { stage: 'fleet', configFile: fleetFile }),
    npmRunPackage(workDir, 'declared', { stage: 'test', configFile: declaredFile }),
    overLimitRun(),
    outsideRun(),
  ]);
}, 300_000);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe(`a fleet of ${FLEET_SIZE.toLocaleString('en-US')} targets in one stack`, () => {
  it('stays within every AWS limit with half of each to spare', () => {
    const measures = measuresOf(fleet);
    console.log(measures.map(describeMeasure).join('\n'));
    const limits = new Set(measures.map((m) => m.limit));
    expect([...limits].sort()).toEqual([
      'CloudFormation outputs per stack',
      'CloudFormation resources per stack',
      'CloudFormation template size (through S3)',
      'IAM inline policies per role',
      'IAM managed policies per role',
      'IAM role trust policy',
      'Lambda deployment package, unzipped',
      'Lambda deployment package, zipped',
      'Lambda environment variables',
    ]);
    expect(measures.filter((m) => m.value > m.max * MARGIN).map(describeMeasure)).toEqual([]);
    // The package step measured the same and said so.
    expect(fleet.output).toMatch(/AWS limits: all \d+ within bounds/);
  });

  it('scopes both roles by the team folders derived from the names, with the tag condition', () => {
    const teams = Array.from({ length: 10 }, (_, t) => `teams/team-0${t}/`);
    const [readAppRole, readWrite, batch] = secretStatements(fleet, 'RenewRole');
    expect(readAppRole).toEqual({
      Sid: 'ReadAppRoleCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: teams.map((t) => prefixResource(`${t}approle/`)),
      Condition: TAG_CONDITION,
    });
    expect(readWrite).toEqual({
      Sid: 'ReadAndWriteTokensAndLeases',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      Resource: teams.flatMap((t) => [
        prefixResource(`${t}leases/`),
        prefixResource(`${t}tokens/`),
      ]),
      Condition: TAG_CONDITION,
    });
    expect(batch).toMatchObject({ Action: 'secretsmanager:BatchGetSecretValue', Resource: '*' });
  });

  it('ships the whole fleet in each zip', () => {
    const shipped = JSON.parse(
      String(readZip(join(fleet.outDir, 'renew.zip')).get(RESOLVED_CONFIG_FILE)),
    ) as { targets: unknown[] };
    expect(shipped.targets).toHaveLength(FLEET_SIZE);
  });
});

describe('declared secret prefixes', () => {
  it('grant exactly the declared prefixes, nothing broader, and never writes on AppRole secrets', () => {
    const renew = secretStatements(declared, 'RenewRole');
    expect(renew.map((s) => [s.Sid, s.Resource])).toEqual([
      ['ReadAppRoleCredentials', [prefixResource('platform/approle/')]],
      [
        'ReadAndWriteTokensAndLeases',
        [prefixResource('platform/leases/'), prefixResource('platform/tokens/')],
      ],
      ['BatchReadNeedsStar', '*'],
    ]);
    const diagnose = secretStatements(declared, 'DiagnoseRole');
    expect(diagnose.map((s) => [s.Sid, s.Resource])).toEqual([
      [
        'ReadEveryTargetSecret',
        [
          prefixResource('platform/approle/'),
          prefixResource('platform/leases/'),
          prefixResource('platform/tokens/'),
        ],
      ],
      ['BatchReadNeedsStar', '*'],
    ]);
    for (const role of ['RenewRole', 'DiagnoseRole']) {
      const statements = roleStatements(declared.template, role);
      // Nothing on "*" but the batch read, which AWS accepts only on "*".
      expect(statements.filter((s) => s.Resource === '*').map(actions)).toEqual([
        ['secretsmanager:BatchGetSecretValue'],
      ]);
      // The only write is renew's, on token and lease prefixes.
      const writes = statements.filter((s) => actions(s).includes('secretsmanager:PutSecretValue'));
      expect(JSON.stringify(writes)).not.toContain('approle');
      if (role === 'DiagnoseRole') expect(writes).toEqual([]);
      for (const statement of statements.filter((s) => s.Resource !== '*')) {
        if (actions(statement).some((a) => a.startsWith('secretsmanager:'))) {
          expect(statement.Condition).toEqual(TAG_CONDITION);
        }
      }
    }
  });

  it('fail `npm run build`, naming the target, when a secret is outside them', () => {
    // Four lease secrets outside: one problem with the count and the first three by target.
    expect(outsidePrefixes.code).toBe(1);
    expect(outsidePrefixes.output).toContain(
      'secretAccess.prefixes.readWrite: 4 secrets are outside secretAccess.prefixes.readWrite ("platform/tokens/"): IAM would deny them, e.g. "platform/leases/app-00000/db" (target "app-00000": targets[0].leases[0].secret)',
    );
  });
});

describe('a package past an AWS limit', () => {
  it('fails once, naming the limit, the figure and the fix, without a stack trace', () => {
    expect(overLimit.code).not.toBe(0);
    const message = /RenewRole: IAM inline policies per role ([\d,]+) of 10,240 characters/;
    expect(overLimit.output).toMatch(message);
    const figure = Number(message.exec(overLimit.output)?.[1]?.replaceAll(',', ''));
    expect(figure).toBeGreaterThan(AWS_LIMITS.iamInlinePolicyCharsPerRole);
    expect(overLimit.output).toContain('fix: scope secrets by name prefix');
    expect(overLimit.output.match(/over 3 AWS limits/g)).toHaveLength(1);
    expect(overLimit.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });
});
