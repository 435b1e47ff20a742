/**
 * What serverless.yml takes from the target list and the stage params at
 * package time (through `infra/package-time.cjs`): the Secrets Manager
 * statements of each function's role (infra/secret-grants.ts), the schedule derived from `schedule.intervalMinutes`,
 * the heartbeat alarm's period, VPC placement and the optional resources (KMS
 * grants, e-mail subscriptions, the chat topic).
 *
 * Pure functions of the loaded config and the params, so a new target in the
 * config changes the IAM resources with no edit to serverless.yml, and the
 * packaging test can call them directly. Nothing here needs AWS credentials:
 * ARNs are `Fn::Sub` templates CloudFormation completes at deploy time.
 */

import { EVENT_BUS_NAME_PATTERN } from '../functions/app/environment.js';
import type { RenewerConfig } from '../functions/config/types.js';
import { cronLongestGapSeconds } from './cron-schedule.js';
import {
  type CfnValue,
  diagnoseSecretStatements,
  type GrantScope,
  type IamStatement,
  renewSecretStatements,
  rotateSecretStatements,
  secretGrants,
} from './secret-grants.js';

export type { CfnValue } from './secret-grants.js';

import { SIGNING_ALGORITHM } from '../functions/aws/sts-web-identity.js';
import { TARGET_TAG_KEY } from '../functions/core/web-identity-port.js';
import { FAN_OUT_IDS, fanOutValues } from './fan-out.js';

/** The stage params serverless.yml passes in (`params:` / `--param`), as strings. */
export interface PackageParams {
  readonly scheduleExpression: string;
  readonly timeoutSeconds: string;
  readonly heartbeatMissedRuns: string;
  readonly vpcSubnetIds: string;
  readonly vpcSecurityGroupIds: string;
  readonly alertEmails: string;
  readonly alertTopicKmsKeyArn: string;
  readonly secretsKmsKeyArn: string;
  readonly chatTopic: string;
  readonly eventBusName: string;
  readonly scheduleEnabled: string;
  readonly scheduleTimezone: string;
  readonly targetsWriterArn: string;
}

export const PARAM_NAMES: readonly (keyof PackageParams)[] = [
  'scheduleExpression',
  'timeoutSeconds',
  'heartbeatMissedRuns',
  'vpcSubnetIds',
  'vpcSecurityGroupIds',
  'alertEmails',
  'alertTopicKmsKeyArn',
  'secretsKmsKeyArn',
  'chatTopic',
  'eventBusName',
  'scheduleEnabled',
  'scheduleTimezone',
  'targetsWriterArn',
];

/** Logical ids of resources in infra/*.yml that the generated resources refer to. */
export const LOGICAL_IDS = {
  alertTopic: 'AlertTopic',
  chatTopic: 'ChatTopic',
  renewRole: 'RenewRole',
  diagnoseRole: 'DiagnoseRole',
  rotateRole: 'RotateRole',
} as const;

/** One problem with a param, named by the param, so the deploy fails with every fix at once. */
export class PackageParamsError extends Error {
  public constructor(problems: readonly string[]) {
    super(
      `Invalid deploy params (${problems.length}):\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'PackageParamsError';
  }
}

export interface Schedule {
  /** `rate(...)` or `cron(...)`, as EventBridge Scheduler takes it. */
  readonly expression: string;
  /** The config's interval: the planner's horizon and the heartbeat period are derived from it. */
  readonly intervalSeconds: number;
}

const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const UNIT_SECONDS: Readonly<Record<string, number>> = {
  minute: 60,
  minutes: 60,
  hour: 3600,
  hours: 3600,
  day: 86_400,
  days: 86_400,
};

/** `rate(15 minutes)` for 900 s: singular unit for 1, as EventBridge requires (aws-facts §4.1). */
export function rateExpression(intervalSeconds: number): string {
  const minutes = intervalSeconds / 60;
  return `rate(${minutes} ${minutes === 1 ? 'minute' : 'minutes'})`;
}

export interface Heartbeat {
  /** CloudWatch period: one schedule interval, so each period should hold one run. */
  readonly periodSeconds: number;
  /** Periods without a completed run before the alarm fires. */
  readonly evaluationPeriods: number;
}

/** Thresholds of the alarms on the renewer's own metrics that come from the config. */
export interface AlarmValues {
  /** `secretIdWarnDays` in seconds: the soonest secret_id expiry alarm fires below it. */
  readonly secretIdExpirySeconds: number;
}

export interface RenewFunctionValues {
  readonly timeoutSeconds: number;
}

export interface Vpc {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

export interface PackageTimeValues {
  readonly schedule: Schedule;
  readonly heartbeat: Heartbeat;
  readonly alarms: AlarmValues;
  readonly renew: RenewFunctionValues & {
    /** The renew role's Secrets Manager statements (infra/secret-grants.ts). */
    readonly secretStatements: readonly IamStatement[];
  };
  readonly diagnose: {
    /** Read-only statements on every configured secret. */
    readonly secretStatements: readonly IamStatement[];
  };
  readonly rotate: {
    /** The rotation protocol's actions on the fleet's secrets. */
    readonly secretStatements: readonly IamStatement[];
  };
  /** How the statements name the secrets: each one, or by name prefix. */
  readonly secretScope: GrantScope;
  /** `provider.vpc`, or `false` when the functions run outside a VPC. */
  readonly vpc: Vpc | false;
  /** `ManagedPolicyArns` of the function roles: the ENI permissions a VPC function needs. */
  readonly managedPolicyArns: readonly CfnValue[];
  /** `CHAT_TOPIC_ARN` of the functions: the chat topic, or empty when the stage has none. */
  readonly chatTopicArnEnv: CfnValue;
  /** TARGETS_BUCKET of the functions: the targets bucket, or empty (infra/fan-out.ts). */
  readonly targetsBucketEnv: CfnValue;
  /** The renew function's own schedule: off when a fanned-out run's state machine is started instead. */
  readonly renewScheduleEnabled: boolean;
  /** Functions that exist only with fan-out (renewBatch, aggregate). */
  readonly fanOutFunctions: Readonly<Record<string, unknown>>;
  /** Resources that exist only when a param or the config asks for them. */
  readonly optionalResources: {
    readonly Resources: Readonly<Record<string, unknown>>;
    readonly Outputs: Readonly<Record<string, unknown>>;
  };
}

const MAX_LAMBDA_TIMEOUT_SECONDS = 900;
/** CreateNetworkInterface & co. cannot be scoped to a subnet; AWS's managed policy is the norm. */
const VPC_ACCESS_POLICY = {
  'Fn::Sub': `arn:\${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole`,
};
/** CloudWatch refuses alarms whose evaluation window is longer than a day. */
const MAX_ALARM_WINDOW_SECONDS = 86_400;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/[A-Za-z0-9/_-]+$/;
/** Deliberately plain: SNS checks the address; this catches a list pasted with `;` or spaces. */
const EMAIL = /^[^\s@,;]+@[^\s@,;]+\.[^\s@,;]+$/;

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function wholeNumber(value: string): number | undefined {
  return /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}

export function packageTimeValues(config: RenewerConfig, params: PackageParams): PackageTimeValues {
  const problems: string[] = [];
  const intervalSeconds = config.scheduleIntervalSeconds;

  // The schedule: derived from the config unless a stage sets one, which must agree with it.
  let expression = params.scheduleExpression.trim();
  if (expression === '') {
    expression = rateExpression(intervalSeconds);
  } else {
    const rate = RATE.exec(expression);
    if (rate !== null) {
      const seconds = Number(rate[1]) * (UNIT_SECONDS[rate[2] ?? ''] ?? 0);
      if (seconds !== intervalSeconds) {
        problems.push(
          `scheduleExpression: ${expression} runs every ${seconds} s but the config's schedule.intervalMinutes is ${intervalSeconds / 60} (${intervalSeconds} s); the planner's horizon is computed from the config, so they must agree (leave scheduleExpression empty to derive it)`,
        );
      }
    } else if (!/^cron\([^()]+\)$/.test(expression)) {
      problems.push(
        `scheduleExpression: must be rate(N minutes|hours|days) or cron(...) (6 fields), got ${JSON.stringify(expression)}`,
      );
    } else {
      const gapSeconds = cronLongestGapSeconds(expression);
      if (typeof gapSeconds === 'string') {
        problems.push(`scheduleExpression: ${expression} ${gapSeconds}`);
      } else if (gapSeconds !== intervalSeconds) {
        problems.push(
          `scheduleExpression: ${expression} leaves up to ${gapSeconds} s between runs but the config's schedule.intervalMinutes is ${intervalSeconds / 60} (${intervalSeconds} s); the planner's horizon is computed from the config, so the longest gap must be the interval`,
        );
      }
    }
  }

  const timeoutSeconds = wholeNumber(params.timeoutSeconds);
  if (timeoutSeconds === undefined || timeoutSeconds < 1) {
    problems.push('timeoutSeconds: must be a whole number of seconds');
  } else if (timeoutSeconds > MAX_LAMBDA_TIMEOUT_SECONDS) {
    problems.push(`timeoutSeconds: must be at most ${MAX_LAMBDA_TIMEOUT_SECONDS} (Lambda's limit)`);
  } else if (timeoutSeconds >= intervalSeconds) {
    problems.push(
      `timeoutSeconds: ${timeoutSeconds} must be shorter than the schedule interval (${intervalSeconds} s), or a slow run swallows the next one`,
    );
  }

  const evaluationPeriods = wholeNumber(params.heartbeatMissedRuns);
  if (evaluationPeriods === undefined || evaluationPeriods < 1) {
    problems.push('heartbeatMissedRuns: must be a whole number of runs, at least 1');
  } else if (evaluationPeriods * intervalSeconds > MAX_ALARM_WINDOW_SECONDS) {
    problems.push(
      `heartbeatMissedRuns: ${evaluationPeriods} runs of ${intervalSeconds} s exceed CloudWatch's one-day alarm window; use at most ${Math.max(1, Math.floor(MAX_ALARM_WINDOW_SECONDS / intervalSeconds))}`,
    );
  }

  const subnetIds = list(params.vpcSubnetIds);
  const securityGroupIds = list(params.vpcSecurityGroupIds);
  if ((subnetIds.length === 0) !== (securityGroupIds.length === 0)) {
    problems.push(
      'vpcSubnetIds, vpcSecurityGroupIds: give both (the function needs subnets and a security group) or neither',
    );
  }
  for (const id of subnetIds.filter((s) => !SUBNET_ID.test(s))) {
    problems.push(`vpcSubnetIds: ${JSON.stringify(id)} is not a subnet id (subnet-...)`);
  }
  for (const id of securityGroupIds.filter((s) => !SECURITY_GROUP_ID.test(s))) {
    problems.push(`vpcSecurityGroupIds: ${JSON.stringify(id)} is not a security group id (sg-...)`);
  }

  const emails = list(params.alertEmails);
  for (const email of emails.filter((e) => !EMAIL.test(e))) {
    problems.push(`alertEmails: ${JSON.stringify(email)} is not an e-mail address`);
  }
  if (new Set(emails).size !== emails.length) {
    problems.push('alertEmails: lists an address twice');
  }

  const topicKey = params.alertTopicKmsKeyArn.trim();
  const secretsKey = params.secretsKmsKeyArn.trim();
  for (const [name, value] of [
    ['alertTopicKmsKeyArn', topicKey],
    ['secretsKmsKeyArn', secretsKey],
  ] as const) {
    if (value !== '' && !KMS_KEY_ARN.test(value)) {
      problems.push(`${name}: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
    }
  }

  const chatTopic = params.chatTopic.trim();
  if (chatTopic !== 'true' && chatTopic !== 'false') {
    problems.push(`chatTopic: must be true or false, got ${JSON.stringify(params.chatTopic)}`);
  }
  // serverless.yml passes it on as EVENT_BUS_NAME, which the functions check at
  // cold start: a bad one must fail the package, not every run after the deploy.
  if (!EVENT_BUS_NAME_PATTERN.test(params.eventBusName.trim())) {
    problems.push(
      'eventBusName: must be an event bus name in this account and region (letters, digits, . _ - /), not an ARN',
    );
  }

  const inVpc = subnetIds.length > 0;
  const vpc: Vpc | false = inVpc ? { subnetIds, securityGroupIds } : false;
  const fanOut = fanOutValues(
    config,
    {
      targetsWriterArn: params.targetsWriterArn,
      scheduleEnabled: params.scheduleEnabled,
      scheduleExpression: expression,
      scheduleTimezone:
        params.scheduleTimezone.trim() === '' ? 'UTC' : params.scheduleTimezone.trim(),
      eventBusName: params.eventBusName.trim(),
      vpc,
      managedPolicyArns: inVpc ? [VPC_ACCESS_POLICY] : [],
      chatTopic: params.chatTopic.trim() === 'true',
      timeoutSeconds: timeoutSeconds ?? 1,
    },
    {
      renewRole: LOGICAL_IDS.renewRole,
      roles: [LOGICAL_IDS.renewRole, LOGICAL_IDS.diagnoseRole, LOGICAL_IDS.rotateRole],
    },
  );
  problems.push(...fanOut.problems);

  if (problems.length > 0) throw new PackageParamsError(problems);

  const grants = secretGrants(config);
  return {
    schedule: { expression, intervalSeconds },
    heartbeat: { periodSeconds: intervalSeconds, evaluationPeriods: evaluationPeriods ?? 1 },
    alarms: { secretIdExpirySeconds: config.secretIdWarnDays * 86_400 },
    renew: {
      timeoutSeconds: timeoutSeconds ?? 1,
      secretStatements: renewSecretStatements(grants),
    },
    diagnose: { secretStatements: diagnoseSecretStatements(grants) },
    rotate: { secretStatements: rotateSecretStatements(grants) },
    secretScope: grants.scope,
    vpc,
    managedPolicyArns: inVpc ? [VPC_ACCESS_POLICY] : [],
    chatTopicArnEnv: chatTopic === 'true' ? { Ref: LOGICAL_IDS.chatTopic } : '',
    targetsBucketEnv: fanOut.targetsBucketEnv,
    renewScheduleEnabled: fanOut.renewScheduleEnabled,
    fanOutFunctions: fanOut.functions,
    optionalResources: {
      Resources: {
        ...fanOut.resources,
        ...(config.webIdentityAudiences === undefined
          ? {}
          : { RenewWebIdentityPolicy: webIdentityPolicy(config.webIdentityAudiences) }),
        ...emailSubscriptions(emails),
        ...(chatTopic === 'true' ? chatTopicResources(topicKey) : {}),
        ...(secretsKey === ''
          ? {}
          : {
              RenewSecretsKmsPolicy: secretsKmsPolicy(LOGICAL_IDS.renewRole, secretsKey, [
                'kms:Decrypt',
                'kms:GenerateDataKey',
              ]),
              // diagnose only reads.
              DiagnoseSecretsKmsPolicy: secretsKmsPolicy(LOGICAL_IDS.diagnoseRole, secretsKey, [
                'kms:Decrypt',
              ]),
              RotateSecretsKmsPolicy: secretsKmsPolicy(LOGICAL_IDS.rotateRole, secretsKey, [
                'kms:Decrypt',
                'kms:GenerateDataKey',
              ]),
            }),
        ...(topicKey === ''
          ? {}
          : {
              // Merged into AlertTopic (infra/alerts.yml) by logical id.
              [LOGICAL_IDS.alertTopic]: { Properties: { KmsMasterKeyId: topicKey } },
              RenewAlertTopicKmsPolicy: topicKmsPolicy(LOGICAL_IDS.renewRole, topicKey),
              DiagnoseAlertTopicKmsPolicy: topicKmsPolicy(LOGICAL_IDS.diagnoseRole, topicKey),
              RotateAlertTopicKmsPolicy: topicKmsPolicy(LOGICAL_IDS.rotateRole, topicKey),
              ...(config.fanOut === undefined
                ? {}
                : {
                    AggregateAlertTopicKmsPolicy: topicKmsPolicy(
                      FAN_OUT_IDS.aggregateRole,
                      topicKey,
                    ),
                  }),
            }),
      },
      Outputs: {
        ...fanOut.outputs,
        ...(chatTopic === 'true'
          ? {
              ChatTopicArn: {
                Description:
                  'SNS topic with each alert in Amazon Q chat form; map it to a Slack or Teams channel in Amazon Q Developer in chat applications',
                Value: { Ref: LOGICAL_IDS.chatTopic },
              },
            }
          : {}),
      },
    },
  };
}

/**
 * The chat topic: Amazon Q Developer in chat applications subscribes to it
 * (HTTPS) once it is mapped to a Slack or Teams channel, and the renew and
 * rotate functions publish the chat form of each message to it. A topic of
 * its own rather than a per-protocol message on the alert topic: see
 * `functions/aws/sns-notifier.ts` and docs/deploy.md.
 */
function chatTopicResources(topicKey: string): Record<string, unknown> {
  const topic = { Ref: LOGICAL_IDS.chatTopic };
  const publish = (roleLogicalId: string) => ({
    Type: 'AWS::IAM::RolePolicy',
    Properties: {
      RoleName: { Ref: roleLogicalId },
      PolicyName: 'chat-topic-publish',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          { Sid: 'PublishChatForm', Effect: 'Allow', Action: 'sns:Publish', Resource: topic },
        ],
      },
    },
  });
  return {
    [LOGICAL_IDS.chatTopic]: {
      Type: 'AWS::SNS::Topic',
      Properties: {
        // Standard, not FIFO: Amazon Q's HTTPS subscription needs a standard topic.
        TopicName: { 'Fn::Sub': `\${AWS::StackName}-chat` },
        DisplayName: { 'Fn::Sub': `\${AWS::StackName} chat` },
        // The alert topic's key, when it has one: the same publishers, the same grants.
        ...(topicKey === '' ? {} : { KmsMasterKeyId: topicKey }),
      },
    },
    ChatTopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [topic],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              // As the default policy: the account administers and subscribes through IAM.
              Sid: 'AccountAdministers',
              Effect: 'Allow',
              Principal: {
                AWS: { 'Fn::Sub': `arn:\${AWS::Partition}:iam::\${AWS::AccountId}:root` },
              },
              Action: [
                'sns:GetTopicAttributes',
                'sns:SetTopicAttributes',
                'sns:AddPermission',
                'sns:RemovePermission',
                'sns:DeleteTopic',
                'sns:Subscribe',
                'sns:ListSubscriptionsByTopic',
                'sns:Publish',
              ],
              Resource: topic,
            },
            {
              Sid: 'DenyPlainHttp',
              Effect: 'Deny',
              Principal: '*',
              Action: 'sns:Publish',
              Resource: topic,
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        },
      },
    },
    RenewChatTopicPolicy: publish(LOGICAL_IDS.renewRole),
    RotateChatTopicPolicy: publish(LOGICAL_IDS.rotateRole),
  };
}

/** One subscription per address, with a logical id stable across deploys (derived from the address). */
function emailSubscriptions(emails: readonly string[]): Record<string, unknown> {
  const resources: Record<string, unknown> = {};
  for (const email of emails) {
    resources[`AlertEmailSubscription${logicalIdPart(email)}`] = {
      Type: 'AWS::SNS::Subscription',
      Properties: {
        TopicArn: { Ref: LOGICAL_IDS.alertTopic },
        Protocol: 'email',
        Endpoint: email,
      },
    };
  }
  return resources;
}

/** `ops@example.com` → `OpsExampleCom`: letters and digits only, as CloudFormation requires. */
export function logicalIdPart(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join('')
    .slice(0, 200);
}

/**
 * Secrets encrypted with a customer-managed key: GetSecretValue needs
 * kms:Decrypt and PutSecretValue kms:GenerateDataKey on that key, and only
 * when Secrets Manager asks on the role's behalf (kms:ViaService).
 */
/**
 * The renew role, and only it, may have STS sign web identity tokens: for
 * the config's audiences, RS256, for at most five minutes, tagged with the
 * target's name and nothing else (functions/aws/sts-web-identity.ts).
 */
export function webIdentityPolicy(audiences: readonly string[]) {
  return {
    Type: 'AWS::IAM::RolePolicy',
    Properties: {
      RoleName: { Ref: LOGICAL_IDS.renewRole },
      PolicyName: 'web-identity',
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'SignWebIdentityTokensForTheTargets',
            Effect: 'Allow',
            Action: ['sts:GetWebIdentityToken', 'sts:TagGetWebIdentityToken'],
            Resource: '*',
            Condition: {
              'ForAllValues:StringEquals': {
                'sts:IdentityTokenAudience': [...audiences],
                'aws:TagKeys': [TARGET_TAG_KEY],
              },
              StringEquals: { 'sts:SigningAlgorithm': SIGNING_ALGORITHM },
              NumericLessThanEquals: { 'sts:DurationSeconds': 300 },
            },
          },
        ],
      },
    },
  };
}

function secretsKmsPolicy(roleLogicalId: string, keyArn: string, actions: readonly string[]) {
  return kmsViaServicePolicy(roleLogicalId, 'secrets-kms', keyArn, actions, 'secretsmanager');
}

/** Publishing to an encrypted topic: SNS asks KMS for a data key on the publisher's behalf. */
function topicKmsPolicy(roleLogicalId: string, keyArn: string) {
  return kmsViaServicePolicy(
    roleLogicalId,
    'alert-topic-kms',
    keyArn,
    ['kms:Decrypt', 'kms:GenerateDataKey'],
    'sns',
  );
}

function kmsViaServicePolicy(
  roleLogicalId: string,
  policyName: string,
  keyArn: string,
  actions: readonly string[],
  service: 'secretsmanager' | 'sns',
) {
  return {
    Type: 'AWS::IAM::RolePolicy',
    Properties: {
      RoleName: { Ref: roleLogicalId },
      PolicyName: policyName,
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'KeyOnlyViaService',
            Effect: 'Allow',
            Action: [...actions],
            Resource: keyArn,
            Condition: {
              StringEquals: {
                'kms:ViaService': { 'Fn::Sub': `${service}.\${AWS::Region}.amazonaws.com` },
              },
            },
          },
        ],
      },
    },
  };
}
