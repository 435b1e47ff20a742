/**
 * What the stack gets when the config keeps targets in S3 (`targetsObject`)
 * and fans the run out (`fanOut`), for infra/package-time-values.ts:
 *
 * - the targets bucket: versioned, encrypted, private, TLS only; the
 *   targets object may be written by the deploy role alone (stage param
 *   `targetsWriterArn`), and the functions may only read it;
 * - with `fanOut`: the renewBatch and aggregate functions, and the state
 *   machine the schedule starts instead of the renew function. A
 *   Distributed Map reads the targets object (JSON Lines) and hands each
 *   batch to renewBatch, retrying a failed batch with backoff and tolerating
 *   failed batches, so the aggregate step always runs and reports them.
 *
 * Nothing of it exists for a config without them: small fleets pay for
 * nothing new.
 */

import type { RenewerConfig } from '../functions/config/types.js';
import type { CfnValue } from './secret-grants.js';

export const FAN_OUT_IDS = {
  bucket: 'TargetsBucket',
  stateMachine: 'FanOutStateMachine',
  renewBatchFunction: 'RenewBatchLambdaFunction',
  aggregateFunction: 'AggregateLambdaFunction',
  aggregateRole: 'AggregateRole',
} as const;

/** Under Step Functions' 256 KB between states, with room for the batch input. */
export const MAX_BATCH_INPUT_BYTES = 240 * 1024;
/** Where the map's ResultWriter puts each run's results, and the aggregate its report. */
export const RUNS_PREFIX = 'runs';
export const REPORTS_PREFIX = 'reports';
/** Results and reports are kept this long; the targets object's old versions too. */
const KEEP_DAYS = 30;

const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

export interface FanOutParams {
  /** The role that deploys and runs `npm run targets:push`: the only writer of the targets object. */
  readonly targetsWriterArn: string;
  readonly scheduleEnabled: string;
  readonly scheduleExpression: string;
  readonly scheduleTimezone: string;
  readonly eventBusName: string;
  /** The functions' VPC placement, as serverless.yml takes it. */
  readonly vpc: unknown;
  /** The function roles' managed policies (the VPC's ENI permissions, when in a VPC). */
  readonly managedPolicyArns: readonly unknown[];
  /** The stage has a chat topic: the aggregate step publishes its chat form too. */
  readonly chatTopic: boolean;
  /** The renew function's timeout: a batch gets the same. */
  readonly timeoutSeconds: number;
}

export interface FanOutValues {
  /** Problems with the params, named by param. */
  readonly problems: readonly string[];
  /** TARGETS_BUCKET of the functions: the bucket, or empty. */
  readonly targetsBucketEnv: CfnValue;
  /** The renew function's own schedule: off when the state machine's starts the runs. */
  readonly renewScheduleEnabled: boolean;
  /** Functions merged into serverless.yml's `functions`. */
  readonly functions: Readonly<Record<string, unknown>>;
  readonly resources: Readonly<Record<string, unknown>>;
  readonly outputs: Readonly<Record<string, unknown>>;
}

const sub = (text: string) => ({ 'Fn::Sub': text });
/** A `DefinitionSubstitutions` placeholder in the state machine's definition. */
const substituted = (name: string): string => `\${${name}}`;

export function fanOutValues(
  config: RenewerConfig,
  params: FanOutParams,
  service: { readonly renewRole: string; readonly roles: readonly string[] },
): FanOutValues {
  const scheduleOn = params.scheduleEnabled.trim() !== 'false';
  const object = config.targetsObject;
  if (object === undefined) {
    return {
      problems: [],
      targetsBucketEnv: '',
      renewScheduleEnabled: scheduleOn,
      functions: {},
      resources: {},
      outputs: {},
    };
  }
  const writer = params.targetsWriterArn.trim();
  const problems = IAM_ROLE_ARN.test(writer)
    ? []
    : [
        'targetsWriterArn: must be the IAM role ARN that pushes the targets object (the deploy role): with targetsObject in the config, nobody else may write it',
      ];
  const bucket = { Ref: FAN_OUT_IDS.bucket };
  const objectArn = sub(`arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}/${object.key}`);
  const resources: Record<string, unknown> = {
    [FAN_OUT_IDS.bucket]: {
      Type: 'AWS::S3::Bucket',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
          ],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [
            {
              Id: 'runs',
              Status: 'Enabled',
              Prefix: `${RUNS_PREFIX}/`,
              ExpirationInDays: KEEP_DAYS,
            },
            {
              Id: 'reports',
              Status: 'Enabled',
              Prefix: `${REPORTS_PREFIX}/`,
              ExpirationInDays: KEEP_DAYS,
            },
            {
              Id: 'old-versions',
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: KEEP_DAYS },
            },
          ],
        },
      },
    },
    TargetsBucketPolicy: {
      Type: 'AWS::S3::BucketPolicy',
      Properties: {
        Bucket: bucket,
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [
                sub(`arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}`),
                sub(`arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}/*`),
              ],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
            {
              Sid: 'TargetsWrittenByTheDeployRoleOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
              Resource: objectArn,
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': writer } },
            },
          ],
        },
      },
    },
    // Every function reads the targets object, and only it.
    ReadTargetsObjectPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'read-targets-object',
        // The aggregate step reads its first line: a target to name in run-wide messages.
        Roles: [
          ...service.roles,
          ...(config.fanOut === undefined ? [] : [FAN_OUT_IDS.aggregateRole]),
        ].map((role) => ({ Ref: role })),
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadTargets', Effect: 'Allow', Action: 's3:GetObject', Resource: objectArn },
          ],
        },
      },
    },
  };
  const outputs: Record<string, unknown> = {
    TargetsBucket: {
      Description: 'Bucket of the targets object: npm run targets:push -- --bucket <this>',
      Value: bucket,
    },
  };
  const fanOut = config.fanOut;
  if (fanOut === undefined) {
    return {
      problems,
      targetsBucketEnv: bucket,
      renewScheduleEnabled: scheduleOn,
      functions: {},
      resources,
      outputs,
    };
  }

  const functions = {
    renewBatch: {
      handler: 'functions/renew.batchHandler',
      description: 'One batch of a fanned-out renewal run (started by the FanOut state machine)',
      role: service.renewRole,
      environment: { EVENT_BUS_NAME: params.eventBusName },
      vpc: params.vpc,
      timeout: params.timeoutSeconds,
      // Step Functions retries a failed batch itself, with backoff.
      maximumRetryAttempts: 0,
    },
    aggregate: {
      handler: 'functions/aggregate.handler',
      description: "The last step of a fanned-out run: the run's report, heartbeat and run causes",
      role: FAN_OUT_IDS.aggregateRole,
      vpc: params.vpc,
      timeout: 120,
      maximumRetryAttempts: 0,
    },
  };
  const lambdaRetry = [
    {
      ErrorEquals: [
        'Lambda.ServiceException',
        'Lambda.AWSLambdaException',
        'Lambda.SdkClientException',
        'Lambda.TooManyRequestsException',
        'States.Timeout',
      ],
      IntervalSeconds: 5,
      MaxAttempts: 3,
      BackoffRate: 2,
      JitterStrategy: 'FULL',
    },
  ];
  const definition = {
    Comment: 'vault-renewer: one renewal run, fanned out in batches of the targets object',
    StartAt: 'RenewInBatches',
    States: {
      RenewInBatches: {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSONL' },
          Parameters: { Bucket: substituted('Bucket'), Key: object.key },
        },
        ItemBatcher: {
          MaxItemsPerBatch: fanOut.batchSize,
          MaxInputBytesPerBatch: MAX_BATCH_INPUT_BYTES,
          BatchInput: { 'runId.$': '$$.Execution.Name', concurrency: fanOut.maxConcurrency },
        },
        MaxConcurrency: fanOut.maxConcurrency,
        // A failed batch is reported by the last step, never the end of the run.
        ToleratedFailurePercentage: 100,
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'RenewBatch',
          States: {
            RenewBatch: {
              Type: 'Task',
              Resource: 'arn:aws:states:::lambda:invoke',
              Parameters: { FunctionName: substituted('RenewBatchArn'), 'Payload.$': '$' },
              OutputPath: '$.Payload',
              TimeoutSeconds: params.timeoutSeconds + 30,
              Retry: lambdaRetry,
              End: true,
            },
          },
        },
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { Bucket: substituted('Bucket'), Prefix: RUNS_PREFIX },
        },
        ResultPath: '$.map',
        Next: 'Aggregate',
      },
      Aggregate: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke',
        Parameters: {
          FunctionName: substituted('AggregateArn'),
          Payload: {
            'runId.$': '$$.Execution.Name',
            'startedAt.$': '$$.Execution.StartTime',
            'results.$': '$.map.ResultWriterDetails',
          },
        },
        OutputPath: '$.Payload',
        TimeoutSeconds: 150,
        Retry: lambdaRetry,
        End: true,
      },
    },
  };
  const stateMachineArn = { Ref: FAN_OUT_IDS.stateMachine };
  Object.assign(resources, {
    FanOutStateMachineRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'vault-renewer fan-out state machine',
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'states.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'fan-out',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'InvokeTheBatchAndAggregateFunctions',
                  Effect: 'Allow',
                  Action: 'lambda:InvokeFunction',
                  Resource: [
                    { 'Fn::GetAtt': [FAN_OUT_IDS.renewBatchFunction, 'Arn'] },
                    { 'Fn::GetAtt': [FAN_OUT_IDS.aggregateFunction, 'Arn'] },
                  ],
                },
                {
                  Sid: 'ReadTheTargets',
                  Effect: 'Allow',
                  Action: 's3:GetObject',
                  Resource: objectArn,
                },
                {
                  Sid: 'WriteTheResults',
                  Effect: 'Allow',
                  Action: [
                    's3:PutObject',
                    's3:GetObject',
                    's3:ListMultipartUploadParts',
                    's3:AbortMultipartUpload',
                  ],
                  Resource: sub(
                    `arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}/${RUNS_PREFIX}/*`,
                  ),
                },
                {
                  // A Distributed Map runs each batch as a child execution of this machine.
                  Sid: 'RunChildExecutions',
                  Effect: 'Allow',
                  Action: [
                    'states:StartExecution',
                    'states:DescribeExecution',
                    'states:StopExecution',
                  ],
                  Resource: [
                    sub(
                      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:\${AWS::StackName}-fan-out`,
                    ),
                    sub(
                      `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:execution:\${AWS::StackName}-fan-out:*`,
                    ),
                  ],
                },
              ],
            },
          },
        ],
      },
    },
    [FAN_OUT_IDS.stateMachine]: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: sub(`\${AWS::StackName}-fan-out`),
        StateMachineType: 'STANDARD',
        RoleArn: { 'Fn::GetAtt': ['FanOutStateMachineRole', 'Arn'] },
        Definition: definition,
        DefinitionSubstitutions: {
          Bucket: bucket,
          RenewBatchArn: { 'Fn::GetAtt': [FAN_OUT_IDS.renewBatchFunction, 'Arn'] },
          AggregateArn: { 'Fn::GetAtt': [FAN_OUT_IDS.aggregateFunction, 'Arn'] },
        },
      },
    },
    // The aggregate step reads the map's results and writes the run's report.
    // renewBatch runs as the renew role: it may also write its own logs.
    RenewBatchLogsPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        PolicyName: 'renew-batch-logs',
        Roles: [{ Ref: service.renewRole }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'WriteBatchLogs',
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: sub(
                `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-renewBatch:*`,
              ),
            },
          ],
        },
      },
    },
    // The aggregate step: the map's results, the run's report, the alerts and incidents. No secret.
    [FAN_OUT_IDS.aggregateRole]: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'vault-renewer aggregate step of a fanned-out run',
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'lambda.amazonaws.com' },
              Action: 'sts:AssumeRole',
            },
          ],
        },
        ManagedPolicyArns: [...params.managedPolicyArns],
        Policies: [
          {
            PolicyName: 'aggregate',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'WriteOwnLogs',
                  Effect: 'Allow',
                  Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
                  Resource: sub(
                    `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/\${AWS::StackName}-aggregate:*`,
                  ),
                },
                {
                  Sid: 'ReadResults',
                  Effect: 'Allow',
                  Action: 's3:GetObject',
                  Resource: sub(
                    `arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}/${RUNS_PREFIX}/*`,
                  ),
                },
                {
                  Sid: 'WriteReports',
                  Effect: 'Allow',
                  Action: 's3:PutObject',
                  Resource: sub(
                    `arn:\${AWS::Partition}:s3:::\${${FAN_OUT_IDS.bucket}}/${REPORTS_PREFIX}/*`,
                  ),
                },
                {
                  Sid: 'PublishAlerts',
                  Effect: 'Allow',
                  Action: 'sns:Publish',
                  Resource: [
                    { Ref: 'AlertTopic' },
                    ...(params.chatTopic ? [{ Ref: 'ChatTopic' }] : []),
                  ],
                },
                {
                  Sid: 'IncidentState',
                  Effect: 'Allow',
                  Action: ['dynamodb:BatchGetItem', 'dynamodb:PutItem'],
                  Resource: { 'Fn::GetAtt': ['IncidentTable', 'Arn'] },
                },
              ],
            },
          },
        ],
      },
    },
    FanOutSchedulerRole: {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: 'EventBridge Scheduler starts the vault-renewer fan-out state machine',
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { Service: 'scheduler.amazonaws.com' },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
            },
          ],
        },
        Policies: [
          {
            PolicyName: 'start-fan-out',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [
                { Effect: 'Allow', Action: 'states:StartExecution', Resource: stateMachineArn },
              ],
            },
          },
        ],
      },
    },
    FanOutSchedule: {
      Type: 'AWS::Scheduler::Schedule',
      Properties: {
        Name: sub(`\${AWS::StackName}-fan-out`),
        Description: 'Scheduled renewal run of vault-renewer, fanned out by Step Functions',
        ScheduleExpression: params.scheduleExpression,
        ScheduleExpressionTimezone: params.scheduleTimezone,
        State: scheduleOn ? 'ENABLED' : 'DISABLED',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: stateMachineArn,
          RoleArn: { 'Fn::GetAtt': ['FanOutSchedulerRole', 'Arn'] },
          Input: '{}',
          // As for the single run: the next scheduled run is the retry.
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        },
      },
    },
    FanOutExecutionsFailedAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: sub(`\${AWS::StackName}-fan-out-failed`),
        AlarmDescription:
          'A fanned-out renewal run failed as a whole (not one batch: those are Failures). Runbook: docs/runbook.md#fan-out-failed',
        Namespace: 'AWS/States',
        MetricName: 'ExecutionsFailed',
        Dimensions: [{ Name: 'StateMachineArn', Value: stateMachineArn }],
        Statistic: 'Sum',
        Period: 300,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
      },
    },
  });
  outputs.FanOutStateMachineArn = {
    Description: 'The state machine each scheduled run starts (console: Step Functions)',
    Value: stateMachineArn,
  };
  return {
    problems,
    targetsBucketEnv: bucket,
    renewScheduleEnabled: false,
    functions,
    resources,
    outputs,
  };
}
