/**
 * `npm run package` offline, asserted on what osls generates: the CloudFormation
 * template and the zips. No AWS credentials: the children get no AWS_* variable
 * and a fresh HOME.
 *
 * Each package run works in its own copy of the service (serverless.yml, infra/,
 * functions/, scripts/, config/, node_modules linked), so the repository's
 * config/targets.resolved.json is never overwritten and the runs go in parallel:
 *  - `standard`: the shipped config, default params;
 *  - `changed`: a config with one more target and a 5-minute schedule, stage prod,
 *    VPC, e-mail, KMS and chat topic params, schedule disabled;
 *  - `stale`: a resolved config that is not the one RENEWER_CONFIG names.
 */

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseDiagnoseEvent } from '../../functions/app/diagnose-event.js';
import { METRICS_NAMESPACE } from '../../functions/app/observability.js';

/** The `service` of logs and metrics in the standard (stage `test`) package: one per stage. */
const SERVICE_NAME = 'vault-renewer-test';

import { parseRenewEvent } from '../../functions/app/renew-event.js';
import { METRIC } from '../../functions/app/run-metrics.js';
import { loadConfigFile } from '../../functions/config/load.js';
import {
  DIGEST_SUFFIX,
  RESOLVED_CONFIG_FILE,
  resolvedConfigDigest,
} from '../../functions/config/resolved.js';
import {
  type PackageParams,
  PackageParamsError,
  packageTimeValues,
} from '../../infra/package-time-values.js';
import { BUNDLE_FILE } from '../../scripts/build.js';
import { writeResolvedConfig } from '../../scripts/lib/resolved-config.js';
import {
  type AlarmProperties,
  actions,
  asIamResource,
  copyService,
  npmRunPackage,
  OSLS,
  type Packaged,
  type PackageRun,
  props,
  REPO_ROOT,
  type RoleProperties,
  readZip,
  resourcesOfType,
  roleStatements,
  run,
  type Statement,
  secretArnPattern,
  secretsOf,
  statementsWith,
} from './package-workspace.js';

const CFN_LINT = join(REPO_ROOT, '.venv/bin/cfn-lint');
const SHIPPED_CONFIG = join(REPO_ROOT, 'config/targets.yaml');
/**
 * The bundle budget (aws-facts §4.5: code size is the cold-start lever); measured by npm run bench.
 * 420 KB until the targets object and the batch handler added 7 KB.
 */
const MAX_BUNDLE_BYTES = 430 * 1024;

const NEW_TARGET_APPROLE_ARN =
  'arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/audit-approle-AbCdEf';
const VPC = {
  subnets: ['subnet-0123456789abcdef0', 'subnet-0fedcba9876543210'],
  securityGroups: ['sg-0123456789abcdef0'],
};
const TOPIC_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const SECRETS_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ac';
// CloudFormation substitutions, not JavaScript ones.
const VIA_SNS = `sns.\${AWS::Region}.amazonaws.com`;
const VIA_SECRETS_MANAGER = `secretsmanager.\${AWS::Region}.amazonaws.com`;
const VPC_ACCESS_POLICY = `arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`;
/** The change-event bus of the `changed` package (param eventBusName). */
const CHANGED_BUS = 'credential-changes';
const busArn = (name: string) => ({
  'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${name}`,
});
/** The one statement renew and rotate need for change events: PutEvents on the configured bus. */
const putChangeEvents = (bus: string) => [
  { Sid: 'PutChangeEvents', Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn(bus) },
];

let standard: Packaged;
let changed: Packaged;
let stale: PackageRun;
let badParam: { code: number | null; output: string };
let changedConfigFile: string;
let workDir: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'serverless-package-'));

  // A new target (its AppRole secret given as an ARN) and a 5-minute schedule.
  changedConfigFile = join(workDir, 'changed-targets.yaml');
  const shipped = parseYaml(readFileSync(SHIPPED_CONFIG, 'utf8')) as {
    targets: unknown[];
  };
  writeFileSync(
    changedConfigFile,
    stringifyYaml({
      ...shipped,
      schedule: { intervalMinutes: 5 },
      targets: [
        ...shipped.targets,
        {
          name: 'audit-log',
          tokenSecret: 'vault/audit-log/token',
          approle: { secret: NEW_TARGET_APPROLE_ARN, role: 'audit-log' },
          leases: [
            { name: 'db', secret: 'vault/audit-log/db', reissuePath: 'database/creds/audit-log' },
          ],
        },
      ],
    }),
  );

  const staleRun = async (): Promise<PackageRun> => {
    const serviceDir = copyService(workDir, 'stale');
    writeResolvedConfig(
      join(serviceDir, 'config/targets.yaml'),
      join(serviceDir, RESOLVED_CONFIG_FILE),
    );
    const outDir = join(workDir, 'stale-out');
    const started = performance.now();
    const result = await run(serviceDir, process.execPath, [OSLS, 'package', '--package', outDir], {
      RENEWER_CONFIG: changedConfigFile,
    });
    return { ...result, durationMs: performance.now() - started, serviceDir, outDir };
  };

  // A schedule param that disagrees with the config: refused by package-time values.
  const badParamRun = () =>
    run(copyService(workDir, 'bad-param'), 'npm', [
      'run',
      'package',
      '--',
      '--param',
      'scheduleExpression=rate(10 minutes)',
      '--package',
      join(workDir, 'bad-param-out'),
    ]);

  [standard, changed, stale, badParam] = await Promise.all([
    npmRunPackage(workDir, 'standard', { stage: 'test' }),
    npmRunPackage(workDir, 'changed', {
      stage: 'prod',
      configFile: changedConfigFile,
      params: [
        'timeoutSeconds=120',
        'scheduleEnabled=false',
        `vpcSubnetIds=${VPC.subnets.join(',')}`,
        `vpcSecurityGroupIds=${VPC.securityGroups.join(',')}`,
        'alertEmails=oncall@example.com, platform@example.org',
        `alertTopicKmsKeyArn=${TOPIC_KEY}`,
        `secretsKmsKeyArn=${SECRETS_KEY}`,
        'chatTopic=true',
        `eventBusName=${CHANGED_BUS}`,
      ],
    }),
    staleRun(),
    badParamRun(),
  ]);
}, 240_000);

afterAll(() => {
  if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
});

describe('npm run package (osls, offline, no AWS credentials)', () => {
  it('packages each function on nodejs22.x, arm64, with explicit memory and timeout', () => {
    for (const [id, timeout] of [
      ['RenewLambdaFunction', 300],
      ['DiagnoseLambdaFunction', 300],
    ] as const) {
      expect(props(standard.template, id)).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        MemorySize: 512,
        Timeout: timeout,
      });
    }
    // The renew timeout stays under the schedule interval: 120 s for the 5-minute schedule.
    expect(props(changed.template, 'RenewLambdaFunction')).toMatchObject({ Timeout: 120 });
  });

  it('gives each function its environment: the alert topic and the shipped resolved config', () => {
    for (const id of ['RenewLambdaFunction', 'DiagnoseLambdaFunction']) {
      const { Environment } = props<{ Environment: { Variables: Record<string, unknown> } }>(
        standard.template,
        id,
      );
      expect(Environment.Variables).toMatchObject({
        ALERT_TOPIC_ARN: { Ref: 'AlertTopic' },
        RENEWER_CONFIG_FILE: RESOLVED_CONFIG_FILE,
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: 'INFO',
      });
    }
    // Change events go to the bus the param names: the account's default one unless given.
    const busOf = (template: Packaged['template'], id: string) =>
      props<{ Environment: { Variables: Record<string, unknown> } }>(template, id).Environment
        .Variables.EVENT_BUS_NAME;
    expect(busOf(standard.template, 'RenewLambdaFunction')).toBe('default');
    expect(busOf(standard.template, 'RotateLambdaFunction')).toBe('default');
    expect(busOf(changed.template, 'RenewLambdaFunction')).toBe(CHANGED_BUS);
    expect(busOf(changed.template, 'RotateLambdaFunction')).toBe(CHANGED_BUS);
    expect(busOf(standard.template, 'DiagnoseLambdaFunction')).toBeUndefined();
  });

  it('runs renew on an EventBridge Scheduler schedule derived from the config, with an event the handler takes as scheduled', () => {
    const schedule = props<{
      Name: string;
      ScheduleExpression: string;
      ScheduleExpressionTimezone: string;
      State: string;
      FlexibleTimeWindow: unknown;
      Target: { Arn: unknown; RoleArn: unknown; Input: string; RetryPolicy: unknown };
    }>(standard.template, 'RenewSchedulerSchedule1');
    expect(schedule).toMatchObject({
      Name: 'vault-renewer-test-renew',
      // config/targets.yaml: schedule.intervalMinutes 15
      ScheduleExpression: `rate(${standard.config.scheduleIntervalSeconds / 60} minutes)`,
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    expect(schedule.Target).toMatchObject({
      Arn: { 'Fn::GetAtt': ['RenewLambdaFunction', 'Arn'] },
      RoleArn: { 'Fn::GetAtt': ['RenewSchedulerRole', 'Arn'] },
      // A missed invoke is not replayed: the next run is the retry.
      RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
    });
    const input = JSON.parse(schedule.Target.Input) as unknown;
    const names = standard.config.targets.map((t) => t.name);
    expect(parseRenewEvent(input, names)).toMatchObject({ trigger: 'schedule', dryRun: false });

    // The changed config runs every 5 minutes, and the stage's schedule is paused.
    expect(props(changed.template, 'RenewSchedulerSchedule1')).toMatchObject({
      ScheduleExpression: 'rate(5 minutes)',
      State: 'DISABLED',
    });
    // Only the Scheduler schedule: no second trigger through an EventBridge rule.
    expect(resourcesOfType(standard.template, 'AWS::Events::Rule')).toEqual([]);
  });

  it('never overlaps renew runs, never retries them, drops stale events, and sends failures to the alert topic', () => {
    expect(props(standard.template, 'RenewLambdaFunction')).toMatchObject({
      ReservedConcurrentExecutions: 1,
    });
    expect(props(standard.template, 'RenewLambdaEvConf')).toEqual({
      FunctionName: { Ref: 'RenewLambdaFunction' },
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 300,
      DestinationConfig: { OnFailure: { Destination: { Ref: 'AlertTopic' } } },
    });
    // diagnose is invoked by a person; if invoked asynchronously, never twice.
    expect(props(standard.template, 'DiagnoseLambdaEvConf')).toMatchObject({
      MaximumRetryAttempts: 0,
    });
  });

  it('gives renew its own role: Secrets Manager only on the configured secrets, SNS only on the alert topic, PutEvents only on the change-event bus', () => {
    const statements = roleStatements(standard.template, 'RenewRole');
    const secrets = secretsOf(standard.config);
    expect(props(standard.template, 'RenewLambdaFunction')).toMatchObject({
      Role: { 'Fn::GetAtt': ['RenewRole', 'Arn'] },
    });

    expect(statementsWith(statements, 'secretsmanager:')).toEqual([
      {
        Sid: 'ReadAppRoleCredentials',
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: secrets.approle.map(asIamResource),
      },
      {
        Sid: 'ReadAndWriteTokensAndLeases',
        Effect: 'Allow',
        Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
        Resource: secrets.tokensAndLeases.map(asIamResource),
      },
      {
        Sid: 'BatchReadNeedsStar',
        Effect: 'Allow',
        Action: 'secretsmanager:BatchGetSecretValue',
        Resource: '*',
      },
    ]);
    expect(statementsWith(statements, 'sns:')).toEqual([
      {
        Sid: 'PublishAlerts',
        Effect: 'Allow',
        Action: 'sns:Publish',
        Resource: { Ref: 'AlertTopic' },
      },
    ]);
    // The incident table: read in batches and written, nothing else, on that table only.
    expect(statementsWith(statements, 'dynamodb:')).toEqual([
      {
        Sid: 'IncidentState',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': ['IncidentTable', 'Arn'] },
      },
    ]);
    // Nothing else with "*" than the batch read, and no service beyond these.
    expect(statementsWith(statements, 'events:')).toEqual(putChangeEvents('default'));
    expect(statementsWith(roleStatements(changed.template, 'RenewRole'), 'events:')).toEqual(
      putChangeEvents(CHANGED_BUS),
    );
    // Nothing else with "*" than the batch read, and no service beyond logs, SM, SNS and events.
    expect(statements.filter((s) => s.Resource === '*').map(actions)).toEqual([
      ['secretsmanager:BatchGetSecretValue'],
    ]);
    expect([...new Set(statements.flatMap(actions).map((a) => a.split(':')[0]))].sort()).toEqual([
      'dynamodb',
      'events',
      'logs',
      'secretsmanager',
      'sns',
    ]);
    expect(
      props<RoleProperties>(standard.template, 'RenewRole').AssumeRolePolicyDocument.Statement,
    ).toEqual([
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    // No shared execution role: each function has its own.
    expect(standard.template.Resources.IamRoleLambdaExecution).toBeUndefined();
  });

  it('gives diagnose a read-only role on every configured secret', () => {
    const statements = roleStatements(standard.template, 'DiagnoseRole');
    const secrets = secretsOf(standard.config);
    const all = [...new Set([...secrets.approle, ...secrets.tokensAndLeases])].sort();
    expect(statementsWith(statements, 'secretsmanager:')).toEqual([
      {
        Sid: 'ReadEveryTargetSecret',
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: all.map(asIamResource),
      },
      {
        Sid: 'BatchReadNeedsStar',
        Effect: 'Allow',
        Action: 'secretsmanager:BatchGetSecretValue',
        Resource: '*',
      },
    ]);
    expect(statementsWith(statements, 'sns:').map((s) => s.Resource)).toEqual([
      { Ref: 'AlertTopic' },
    ]);
    expect(statements.flatMap(actions)).not.toContain('secretsmanager:PutSecretValue');
    expect(statementsWith(statements, 'events:')).toEqual([]);
    expect(statementsWith(statements, 'dynamodb:')).toEqual([
      {
        Sid: 'ReadIncidents',
        Effect: 'Allow',
        Action: 'dynamodb:BatchGetItem',
        Resource: { 'Fn::GetAtt': ['IncidentTable', 'Arn'] },
      },
    ]);
  });

  it('keeps incident state in an on-demand table with TTL and point-in-time recovery', () => {
    expect(standard.template.Resources.IncidentTable).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'vault-renewer-test-incidents',
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'scope', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      },
    });
    expect(
      props<{ Environment: { Variables: Record<string, unknown> } }>(
        standard.template,
        'RenewLambdaFunction',
      ).Environment.Variables.INCIDENT_TABLE_NAME,
    ).toEqual({ Ref: 'IncidentTable' });
  });

  it("gives rotate its own role: the rotation actions on the fleet's secrets, SNS on the alert topic, incident state, PutEvents on the change-event bus", () => {
    const statements = roleStatements(standard.template, 'RotateRole');
    const secrets = secretsOf(standard.config);
    const all = [...new Set([...secrets.approle, ...secrets.tokensAndLeases])].sort();
    expect(props(standard.template, 'RotateLambdaFunction')).toMatchObject({
      Role: { 'Fn::GetAtt': ['RotateRole', 'Arn'] },
      Handler: 'functions/rotate.handler',
    });
    expect(statementsWith(statements, 'secretsmanager:')).toEqual([
      {
        Sid: 'RotateFleetSecrets',
        Effect: 'Allow',
        Action: [
          'secretsmanager:DescribeSecret',
          'secretsmanager:GetSecretValue',
          'secretsmanager:PutSecretValue',
          'secretsmanager:UpdateSecretVersionStage',
        ],
        Resource: all.map(asIamResource),
      },
    ]);
    expect(statements.filter((s) => s.Resource === '*')).toEqual([]);
    expect([...new Set(statements.flatMap(actions).map((a) => a.split(':')[0]))].sort()).toEqual([
      'dynamodb',
      'events',
      'logs',
      'secretsmanager',
      'sns',
    ]);
    expect(statementsWith(statements, 'dynamodb:')).toEqual([
      {
        Sid: 'IncidentState',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
        Resource: { 'Fn::GetAtt': ['IncidentTable', 'Arn'] },
      },
    ]);
    expect(statementsWith(statements, 'events:')).toEqual(putChangeEvents('default'));
    expect(statementsWith(roleStatements(changed.template, 'RotateRole'), 'events:')).toEqual(
      putChangeEvents(CHANGED_BUS),
    );
    expect(statementsWith(statements, 'sns:').map((s) => s.Resource)).toEqual([
      { Ref: 'AlertTopic' },
    ]);
  });

  it('lets Secrets Manager invoke rotate on behalf of this account only, with no per-secret resource', () => {
    expect(props(standard.template, 'RotateInvokedBySecretsManager')).toEqual({
      FunctionName: { 'Fn::GetAtt': ['RotateLambdaFunction', 'Arn'] },
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    const types = Object.values(standard.template.Resources).map(
      (r) => (r as { Type: string }).Type,
    );
    expect(types).not.toContain('AWS::SecretsManager::RotationSchedule');
    expect(standard.template.Outputs?.RotateFunctionArn).toBeDefined();
  });

  it('lets EventBridge Scheduler invoke renew and nothing else', () => {
    const role = props<RoleProperties>(standard.template, 'RenewSchedulerRole');
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
    ]);
    expect(role.Policies.flatMap((p) => p.PolicyDocument.Statement)).toEqual([
      {
        Sid: 'InvokeRenew',
        Effect: 'Allow',
        Action: 'lambda:InvokeFunction',
        Resource: [
          { 'Fn::GetAtt': ['RenewLambdaFunction', 'Arn'] },
          { 'Fn::Sub': `\${RenewLambdaFunction.Arn}:*` },
        ],
      },
    ]);
  });

  it('changes the IAM resources when a target is added to the config, with no edit to serverless.yml', () => {
    const before = roleStatements(standard.template, 'RenewRole');
    const after = roleStatements(changed.template, 'RenewRole');
    const resourcesOf = (statements: Statement[], sid: string) =>
      statements.find((s) => s.Sid === sid)?.Resource as unknown[];

    const added = (sid: string) =>
      resourcesOf(after, sid).filter(
        (r) => !resourcesOf(before, sid).some((b) => JSON.stringify(b) === JSON.stringify(r)),
      );
    expect(added('ReadAndWriteTokensAndLeases')).toEqual([
      secretArnPattern('vault/audit-log/db'),
      secretArnPattern('vault/audit-log/token'),
    ]);
    // Written as an ARN in the config: granted as that ARN.
    expect(added('ReadAppRoleCredentials')).toEqual([NEW_TARGET_APPROLE_ARN]);
    expect(resourcesOf(after, 'ReadAndWriteTokensAndLeases')).toHaveLength(
      resourcesOf(before, 'ReadAndWriteTokensAndLeases').length + 2,
    );
    // The same serverless.yml in both copies.
    expect(readFileSync(join(changed.serviceDir, 'serverless.yml'), 'utf8')).toBe(
      readFileSync(join(standard.serviceDir, 'serverless.yml'), 'utf8'),
    );
  });

  it('wires the errors, throttles, failures, heartbeat, secret_id expiry and change-event alarms to the alert topic', () => {
    const alarm = (id: string) => props<AlarmProperties>(standard.template, id);
    const toTopic = { AlarmActions: [{ Ref: 'AlertTopic' }], OKActions: [{ Ref: 'AlertTopic' }] };
    const renewFunction = [{ Name: 'FunctionName', Value: { Ref: 'RenewLambdaFunction' } }];
    const service = [{ Name: 'service', Value: SERVICE_NAME }];

    expect(alarm('RenewErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: renewFunction,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...toTopic,
    });
    expect(alarm('RenewThrottlesAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: renewFunction,
      ...toTopic,
    });
    // The project's own metrics, as functions/app/observability.ts and run-metrics.ts emit them.
    expect(alarm('RenewFailuresAlarm')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.Failures,
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      ...toTopic,
    });
    expect(alarm('RenewHeartbeatAlarm')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.RunsCompleted,
      Dimensions: service,
      Statistic: 'Sum',
      // One period per schedule interval; two intervals without a completed run alarm.
      Period: standard.config.scheduleIntervalSeconds,
      EvaluationPeriods: 2,
      DatapointsToAlarm: 2,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      ActionsEnabled: true,
      ...toTopic,
    });
    // The alarms the docs name on the renewer's own metrics: a secret_id expiring, lost change events.
    expect(alarm('RenewSecretIdExpiryAlarm')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.SoonestSecretIdExpirySeconds,
      Dimensions: service,
      Statistic: 'Minimum',
      Threshold: standard.config.secretIdWarnDays * 86_400,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'notBreaching',
      ...toTopic,
    });
    expect(alarm('RenewChangeEventsFailedAlarm')).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      MetricName: METRIC.ChangeEventsFailed,
      Dimensions: service,
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      ...toTopic,
    });
    // The changed stage: 5-minute periods, and no heartbeat notifications while its schedule is paused.
    expect(props<AlarmProperties>(changed.template, 'RenewHeartbeatAlarm')).toMatchObject({
      Period: 300,
      ActionsEnabled: false,
    });
  });

  it('ships a dashboard of the fleet whose every line is a metric the functions emit', () => {
    const body = props<{ DashboardName: string; DashboardBody: { 'Fn::Sub': [string, unknown] } }>(
      standard.template,
      'RenewerDashboard',
    );
    expect(body.DashboardName).toMatch(/^vault-renewer-/);
    const [text, values] = body.DashboardBody['Fn::Sub'];
    expect(values).toMatchObject({ RenewFunction: { Ref: 'RenewLambdaFunction' } });
    const dashboard = JSON.parse(
      text.replaceAll(/\$\{(AWS::Region|Service|RenewFunction)\}/g, 'x'),
    ) as { widgets: { properties: { metrics: (string | object)[][] } }[] };
    const ours = dashboard.widgets.flatMap((w) =>
      w.properties.metrics.filter((m) => m[0] === METRICS_NAMESPACE).map((m) => m[1]),
    );
    // A renamed metric would leave a line without data: each must be one the code emits.
    expect(ours.every((name) => Object.values(METRIC).includes(name as never))).toBe(true);
    expect(ours).toEqual(
      expect.arrayContaining([
        METRIC.RunDuration,
        METRIC.TargetsFailed,
        METRIC.Failures,
        METRIC.SoonestExpirySeconds,
        METRIC.SoonestSecretIdExpirySeconds,
        METRIC.IncidentsOpened,
        METRIC.ChangeEventsFailed,
      ]),
    );
  });

  it('creates a standard alert topic whose policy lets only this account and its alarms publish', () => {
    const topic = props<Record<string, unknown>>(standard.template, 'AlertTopic');
    expect(topic.FifoTopic).toBeUndefined();
    expect(topic.KmsMasterKeyId).toBeUndefined();
    const policy = props<{ PolicyDocument: { Statement: Statement[] } }>(
      standard.template,
      'AlertTopicPolicy',
    );
    const cloudWatch = policy.PolicyDocument.Statement.find(
      (s) => s.Sid === 'CloudWatchAlarmsPublish',
    );
    expect(cloudWatch).toMatchObject({
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    expect(
      policy.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow' && s.Principal === '*'),
    ).toEqual([]);
    expect(resourcesOfType(standard.template, 'AWS::SNS::Subscription')).toEqual([]);
  });

  it('subscribes the e-mail addresses and uses the KMS keys given as params', () => {
    const subscriptions = resourcesOfType(changed.template, 'AWS::SNS::Subscription').map(
      ([, r]) => r.Properties,
    );
    expect(subscriptions).toEqual([
      { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'oncall@example.com' },
      { TopicArn: { Ref: 'AlertTopic' }, Protocol: 'email', Endpoint: 'platform@example.org' },
    ]);
    expect(props(changed.template, 'AlertTopic')).toMatchObject({ KmsMasterKeyId: TOPIC_KEY });

    const kms = (roleId: string) =>
      statementsWith(roleStatements(changed.template, roleId), 'kms:').map((s) => ({
        actions: actions(s),
        resource: s.Resource,
        via: (s.Condition as { StringEquals: { 'kms:ViaService': { 'Fn::Sub': string } } })
          .StringEquals['kms:ViaService']['Fn::Sub'],
      }));
    expect(kms('RenewRole')).toEqual([
      {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resource: SECRETS_KEY,
        via: VIA_SECRETS_MANAGER,
      },
      {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resource: TOPIC_KEY,
        via: VIA_SNS,
      },
    ]);
    expect(kms('DiagnoseRole')).toEqual([
      {
        actions: ['kms:Decrypt'],
        resource: SECRETS_KEY,
        via: VIA_SECRETS_MANAGER,
      },
      {
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resource: TOPIC_KEY,
        via: VIA_SNS,
      },
    ]);
    // Without the params: no key at all.
    expect(statementsWith(roleStatements(standard.template, 'RenewRole'), 'kms:')).toEqual([]);
  });

  it('creates the chat topic only when chatTopic asks, and lets renew and rotate publish to it', () => {
    const variables = (template: Packaged['template'], id: string) =>
      props<{ Environment: { Variables: Record<string, unknown> } }>(template, id).Environment
        .Variables;
    for (const id of ['RenewLambdaFunction', 'RotateLambdaFunction']) {
      expect(variables(changed.template, id).CHAT_TOPIC_ARN).toEqual({ Ref: 'ChatTopic' });
      expect(variables(standard.template, id).CHAT_TOPIC_ARN).toBe('');
    }
    const topic = props<Record<string, unknown>>(changed.template, 'ChatTopic');
    expect(topic).toEqual({
      TopicName: { 'Fn::Sub': `\${AWS::StackName}-chat` },
      DisplayName: { 'Fn::Sub': `\${AWS::StackName} chat` },
      KmsMasterKeyId: TOPIC_KEY,
    });
    const policy = props<{ PolicyDocument: { Statement: Statement[] } }>(
      changed.template,
      'ChatTopicPolicy',
    );
    expect(
      policy.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow' && s.Principal === '*'),
    ).toEqual([]);
    expect(policy.PolicyDocument.Statement.find((s) => s.Sid === 'DenyPlainHttp')).toMatchObject({
      Effect: 'Deny',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    for (const role of ['RenewRole', 'RotateRole']) {
      expect(statementsWith(roleStatements(changed.template, role), 'sns:Publish')).toContainEqual(
        expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: 'ChatTopic' } }),
      );
    }
    // diagnose publishes its summary to the alert topic only.
    expect(
      statementsWith(roleStatements(changed.template, 'DiagnoseRole'), 'sns:Publish').map(
        (s) => s.Resource,
      ),
    ).not.toContainEqual({ Ref: 'ChatTopic' });
    expect(changed.template.Outputs.ChatTopicArn?.Value).toEqual({ Ref: 'ChatTopic' });
    expect(standard.template.Resources.ChatTopic).toBeUndefined();
    expect(standard.template.Outputs.ChatTopicArn).toBeUndefined();
  });

  it('places the functions in the VPC only when subnets and security groups are given', () => {
    for (const id of ['RenewLambdaFunction', 'DiagnoseLambdaFunction']) {
      expect(props<Record<string, unknown>>(standard.template, id).VpcConfig).toBeUndefined();
      expect(props(changed.template, id)).toMatchObject({
        VpcConfig: { SubnetIds: VPC.subnets, SecurityGroupIds: VPC.securityGroups },
      });
    }
    const vpcPolicy = {
      'Fn::Sub': VPC_ACCESS_POLICY,
    };
    for (const id of ['RenewRole', 'DiagnoseRole']) {
      expect(props<RoleProperties>(standard.template, id).ManagedPolicyArns).toEqual([]);
      expect(props<RoleProperties>(changed.template, id).ManagedPolicyArns).toEqual([vpcPolicy]);
    }
  });

  it('keeps the logs for the stage retention', () => {
    for (const fn of ['renew', 'diagnose']) {
      const id = `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LogGroup`;
      expect(props(standard.template, id)).toEqual({
        LogGroupName: `/aws/lambda/vault-renewer-test-${fn}`,
        RetentionInDays: 30,
      });
      expect(props(changed.template, id)).toMatchObject({ RetentionInDays: 90 });
    }
  });

  it('outputs the topic, the function names and console test events the functions accept', () => {
    const { Outputs } = standard.template;
    expect(Outputs.AlertTopicArn?.Value).toEqual({ Ref: 'AlertTopic' });
    expect(Outputs.RenewFunctionName?.Value).toEqual({ Ref: 'RenewLambdaFunction' });
    expect(Outputs.DiagnoseFunctionName?.Value).toEqual({ Ref: 'DiagnoseLambdaFunction' });
    const names = standard.config.targets.map((t) => t.name);
    const renewEvent = JSON.parse(String(Outputs.RenewConsoleTestEvent?.Value)) as unknown;
    expect(parseRenewEvent(renewEvent, names)).toMatchObject({ trigger: 'manual', dryRun: true });
    const diagnoseEvent = JSON.parse(String(Outputs.DiagnoseConsoleTestEvent?.Value)) as unknown;
    expect(parseDiagnoseEvent(diagnoseEvent, names)).toMatchObject({ login: false });
  });

  it('zips each function as its bundle, built as scripts/build.ts builds it, and the resolved config', () => {
    for (const packaged of [standard, changed]) {
      for (const fn of ['renew', 'diagnose']) {
        const files = readZip(join(packaged.outDir, `${fn}.zip`));
        expect([...files.keys()].sort()).toEqual([
          RESOLVED_CONFIG_FILE,
          `${RESOLVED_CONFIG_FILE}${DIGEST_SUFFIX}`,
          `functions/${fn}.cjs`,
        ]);
        // The digest is of the shipped bytes, so the cold start trusts them.
        expect(String(files.get(`${RESOLVED_CONFIG_FILE}${DIGEST_SUFFIX}`)).trim()).toBe(
          resolvedConfigDigest(String(files.get(RESOLVED_CONFIG_FILE))),
        );
        expect(
          props(packaged.template, `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`),
        ).toMatchObject({
          Handler: `functions/${fn}.handler`,
        });
        // The config the IAM statements were derived from is the one shipped.
        expect(JSON.parse(String(files.get(RESOLVED_CONFIG_FILE)))).toEqual(packaged.config);
        const bundle = files.get(`functions/${fn}.cjs`) ?? Buffer.alloc(0);
        // CommonJS: Lambda and `osls invoke local` both load it (scripts/build.ts BUNDLE_FILE).
        expect(bundle.toString('utf8')).toMatch(/module\.exports/);
        expect(bundle.length).toBeLessThan(MAX_BUNDLE_BYTES);
        // The AWS SDK stays out (the runtime provides it).
        expect(bundle.toString('utf8')).toMatch(/require\("@aws-sdk\/client-secrets-manager"\)/);
        if (fn === 'renew') {
          expect(bundle.toString('utf8')).toMatch(/require\("@aws-sdk\/client-eventbridge"\)/);
        }
        // Byte for byte what `npm run build` (scripts/build.ts) wrote in the same copy.
        expect(
          bundle.equals(readFileSync(join(packaged.serviceDir, 'dist', fn, BUNDLE_FILE))),
        ).toBe(true);
      }
    }
    expect(
      JSON.parse(String(readZip(join(changed.outDir, 'renew.zip')).get(RESOLVED_CONFIG_FILE)))
        .targets,
    ).toContainEqual(expect.objectContaining({ name: 'audit-log' }));
  });

  it('refuses to package when the shipped resolved config is not the config the IAM is derived from', () => {
    expect(stale.code).not.toBe(0);
    expect(stale.output).toContain(
      `${RESOLVED_CONFIG_FILE} was not written from ${changedConfigFile}`,
    );
    // Once, without stack frames, although osls resolves a dozen references to it.
    expect(stale.output.match(/was not written from/g)).toHaveLength(1);
    expect(stale.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    expect(existsSync(join(stale.outDir, 'cloudformation-template-update-stack.json'))).toBe(false);
  });

  it('refuses a bad deploy param once, with the message alone, although osls resolves it a dozen times', () => {
    expect(badParam.code).not.toBe(0);
    const message = 'scheduleExpression: rate(10 minutes) runs every 600 s';
    expect(badParam.output.split(message)).toHaveLength(2);
    expect(badParam.output).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  });

  // cfn-lint (maintained by AWS, offline, schema- and rule-based) comes with moto in the
  // stack's .venv (tools/local-stack/requirements.txt); globalSetup creates that venv.
  it.skipIf(!existsSync(CFN_LINT))(
    'passes cfn-lint (skipped only when .venv/bin/cfn-lint is absent)',
    async () => {
      const templates = [standard, changed].flatMap((p) => [
        join(p.outDir, 'cloudformation-template-update-stack.json'),
        join(p.outDir, 'cloudformation-template-create-stack.json'),
      ]);
      // W3005: osls adds `DependsOn: <Role>` to each function next to its `Fn::GetAtt <Role>.Arn`;
      // redundant (cfn-lint says so), harmless, and not ours to change.
      const result = await run(REPO_ROOT, CFN_LINT, [
        '--ignore-checks',
        'W3005',
        '--',
        ...templates,
      ]);
      expect(result.output).toBe('');
      expect(result.code).toBe(0);
    },
    60_000,
  );
});

describe('package-time params', () => {
  const config = loadConfigFile(SHIPPED_CONFIG);
  const defaults: PackageParams = {
    scheduleExpression: '',
    timeoutSeconds: '300',
    heartbeatMissedRuns: '2',
    vpcSubnetIds: '',
    vpcSecurityGroupIds: '',
    alertEmails: '',
    alertTopicKmsKeyArn: '',
    secretsKmsKeyArn: '',
    chatTopic: 'false',
    scheduleEnabled: 'true',
    scheduleTimezone: 'UTC',
    targetsWriterArn: '',
    eventBusName: 'default',
  };

  it('fail the package naming every bad param at once', () => {
    const attempt = () =>
      packageTimeValues(config, {
        ...defaults,
        scheduleExpression: 'rate(5 minutes)',
        timeoutSeconds: '900',
        vpcSubnetIds: 'subnet-0123456789abcdef0',
        alertEmails: 'a@example.com; b@example.com',
        secretsKmsKeyArn: 'alias/mine',
        chatTopic: 'yes',
        eventBusName: 'arn:aws:events:us-east-1:123456789012:event-bus/changes',
      });
    expect(attempt).toThrow(PackageParamsError);
    expect(attempt).toThrow(
      /scheduleExpression: rate\(5 minutes\) runs every 300 s but the config's schedule.intervalMinutes is 15/,
    );
    expect(attempt).toThrow(
      /timeoutSeconds: 900 must be shorter than the schedule interval \(900 s\)/,
    );
    expect(attempt).toThrow(/vpcSubnetIds, vpcSecurityGroupIds: give both/);
    expect(attempt).toThrow(/alertEmails: "a@example.com; b@example.com" is not an e-mail address/);
    expect(attempt).toThrow(/secretsKmsKeyArn: must be a KMS key ARN/);
    expect(attempt).toThrow(/chatTopic: must be true or false, got "yes"/);
    expect(attempt).toThrow(/eventBusName: must be an event bus name in this account and region/);
  });

  it("accept a rate, and a cron, whose longest gap is the config's interval", () => {
    expect(
      packageTimeValues(config, { ...defaults, scheduleExpression: 'rate(15 minutes)' }).schedule,
    ).toEqual({ expression: 'rate(15 minutes)', intervalSeconds: 900 });
    expect(
      packageTimeValues(config, { ...defaults, scheduleExpression: 'cron(0/15 * * * ? *)' })
        .schedule.expression,
    ).toBe('cron(0/15 * * * ? *)');
  });

  it('refuse a cron whose runs leave longer gaps than the interval, or skip days', () => {
    expect(() =>
      packageTimeValues(config, { ...defaults, scheduleExpression: 'cron(0 * * * ? *)' }),
    ).toThrow(
      /scheduleExpression: cron\(0 \* \* \* \? \*\) leaves up to 3600 s between runs but the config's schedule.intervalMinutes is 15/,
    );
    expect(() =>
      packageTimeValues(config, { ...defaults, scheduleExpression: 'cron(0/15 * ? * MON-FRI *)' }),
    ).toThrow(/runs on some days only/);
  });

  it('refuse a heartbeat window longer than CloudWatch allows', () => {
    const daily = { ...config, scheduleIntervalSeconds: 86_400 };
    expect(() => packageTimeValues(daily, { ...defaults, timeoutSeconds: '300' })).toThrow(
      /heartbeatMissedRuns: 2 runs of 86400 s exceed CloudWatch's one-day alarm window; use at most 1/,
    );
  });
});
