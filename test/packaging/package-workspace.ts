/**
 * Shared by the packaging tests: runs `npm run package` offline in a copy of
 * the service (serverless.yml, infra/, functions/, scripts/, config/,
 * node_modules linked), so the repository's config/targets.resolved.json is
 * never overwritten and runs go in parallel, and reads what osls generated.
 * The children get no AWS_* variable and a fresh HOME.
 */

import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { loadConfigFile } from '../../functions/config/load.js';
import type { RenewerConfig } from '../../functions/config/types.js';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const OSLS = join(REPO_ROOT, 'node_modules/osls/bin/serverless.js');
const SERVICE_FILES = ['serverless.yml', 'package.json', 'tsconfig.json'];
const SERVICE_DIRS = ['infra', 'functions', 'scripts', 'config'];

// --- The generated template, typed as far as these tests read it -------------

export interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
  readonly Condition?: string;
}
export interface Template {
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { readonly Value: unknown }>;
}
export interface Statement {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | readonly string[];
  readonly Resource: unknown;
  readonly Condition?: unknown;
}
export interface RoleProperties {
  readonly AssumeRolePolicyDocument: { readonly Statement: readonly Statement[] };
  readonly ManagedPolicyArns?: readonly unknown[];
  readonly Policies: readonly {
    readonly PolicyDocument: { readonly Statement: readonly Statement[] };
  }[];
}
export interface AlarmProperties {
  readonly Namespace: string;
  readonly MetricName: string;
  readonly Dimensions: readonly { Name: string; Value: unknown }[];
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData: string;
  readonly ActionsEnabled?: boolean;
  readonly AlarmActions: readonly unknown[];
  readonly OKActions?: readonly unknown[];
}

export function props<T>(template: Template, logicalId: string): T {
  const resource = template.Resources[logicalId];
  if (resource === undefined) throw new Error(`no resource ${logicalId} in the template`);
  return resource.Properties as T;
}

export function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

export function actions(statement: Statement): readonly string[] {
  return typeof statement.Action === 'string' ? [statement.Action] : statement.Action;
}

export function roleStatements(template: Template, roleId: string): Statement[] {
  const role = props<RoleProperties>(template, roleId);
  const inline = role.Policies.flatMap((p) => p.PolicyDocument.Statement);
  // AWS::IAM::RolePolicy resources attached to the same role (the optional KMS grants).
  const attached = resourcesOfType(template, 'AWS::IAM::RolePolicy')
    .filter(([, r]) => (r.Properties.RoleName as { Ref?: string }).Ref === roleId)
    .flatMap(([, r]) => (r.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
  return [...inline, ...attached];
}

export function statementsWith(statements: readonly Statement[], prefix: string): Statement[] {
  return statements.filter((s) => actions(s).some((a) => a.startsWith(prefix)));
}

/** The IAM resource a secret NAME must get: its ARN with Secrets Manager's 6-character suffix. */
export function secretArnPattern(name: string): unknown {
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${name}-??????`,
  };
}

export function secretsOf(config: RenewerConfig) {
  const sorted = (ids: Iterable<string>) => [...new Set(ids)].sort();
  return {
    approle: sorted(
      config.targets.flatMap((t) => (t.approle === undefined ? [] : [t.approle.secretId])),
    ),
    tokensAndLeases: sorted(
      config.targets.flatMap((t) => [t.tokenSecretId, ...t.leases.map((l) => l.secretId)]),
    ),
  };
}

export const asIamResource = (id: string) => (id.startsWith('arn:') ? id : secretArnPattern(id));

// --- Packaging in a copy of the service ------------------------------------

export interface PackageRun {
  readonly code: number | null;
  readonly output: string;
  readonly durationMs: number;
  readonly serviceDir: string;
  readonly outDir: string;
}

export interface Packaged extends PackageRun {
  readonly template: Template;
  readonly config: RenewerConfig;
}

export function copyService(workDir: string, name: string): string {
  const serviceDir = join(workDir, name);
  mkdirSync(serviceDir, { recursive: true });
  for (const file of SERVICE_FILES) cpSync(join(REPO_ROOT, file), join(serviceDir, file));
  for (const dir of SERVICE_DIRS) {
    cpSync(join(REPO_ROOT, dir), join(serviceDir, dir), {
      recursive: true,
      filter: (source) => !/targets\.resolved\.json(\.sha256)?$/.test(source),
    });
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(serviceDir, 'node_modules'), 'dir');
  return serviceDir;
}

/** Runs a command in the service copy with no AWS_* variable and a fresh HOME. */
export function run(
  serviceDir: string,
  command: string,
  args: readonly string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  const home = join(serviceDir, '.home');
  mkdirSync(home, { recursive: true });
  return new Promise((done, fail) => {
    const child = spawn(command, args, {
      cwd: serviceDir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        // npm would otherwise ask the registry whether a newer npm exists.
        npm_config_update_notifier: 'false',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer) => {
      output += chunk.toString('utf8');
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', fail);
    child.on('close', (code) => done({ code, output }));
  });
}

/** `npm run package -- --stage <stage> --package <out> --param ...` in a copy of the service. */
export async function npmRunPackage(
  workDir: string,
  name: string,
  options: { stage: string; params?: readonly string[]; configFile?: string },
): Promise<Packaged> {
  const serviceDir = copyService(workDir, name);
  const outDir = join(workDir, `${name}-out`);
  const params = (options.params ?? []).flatMap((p) => ['--param', p]);
  const started = performance.now();
  const { code, output } = await run(
    serviceDir,
    'npm',
    ['run', 'package', '--', '--stage', options.stage, '--package', outDir, ...params],
    options.configFile === undefined ? {} : { RENEWER_CONFIG: options.configFile },
  );
  const durationMs = performance.now() - started;
  if (code !== 0) throw new Error(`npm run package (${name}) exited ${code}:\n${output}`);
  const template = JSON.parse(
    readFileSync(join(outDir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  const config = loadConfigFile(options.configFile ?? join(serviceDir, 'config/targets.yaml'));
  return { code, output, durationMs, serviceDir, outDir, template, config };
}

/** The files of a zip archive (stored or deflated entries; what osls writes). */
export function readZip(file: string): Map<string, Buffer> {
  const zip = readFileSync(file);
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error(`${file}: no end of central directory`);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory`);
    const method = zip.readUInt16LE(offset + 10);
    const compressedSize = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const data = zip.subarray(start, start + compressedSize);
    if (!name.endsWith('/')) files.set(name, method === 0 ? data : inflateRawSync(data));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return files;
}
