/**
 * The field world's AWS services, in the wire protocols the SDK (and the
 * renewer's direct reads, functions/aws/direct-*.ts) speak (aws-facts §2.4):
 *
 * - Secrets Manager, JSON 1.1: `BatchGetSecretValue` answers the current
 *   version of each secret; `PutSecretValue` stores a new one (VersionId =
 *   ClientRequestToken, idempotent on it) unless the account's 50 writes per
 *   second are used up in the last second: then 400 `ThrottlingException`.
 * - DynamoDB, JSON 1.0: `BatchGetItem` and `PutItem` with the condition
 *   expressions the incident store sends, on items kept by their `scope` key.
 * - SNS, Query: `Publish`, counted by the `target`, `event` and `cause`
 *   attributes the renewer sets.
 * - EventBridge, JSON 1.1: `PutEvents`, accepted and counted.
 */

import { randomUUID } from 'node:crypto';
import type { FieldWorld, Reply } from './field-world.js';

const JSON_11 = 'application/x-amz-json-1.1';
const JSON_10 = 'application/x-amz-json-1.0';
/** The incident table's hash key (functions/aws/dynamodb-incident-store.ts). */
const TABLE_KEY = 'scope';

function awsJson(contentType: string, status: number, body: unknown): Reply {
  return {
    status,
    headers: { 'content-type': contentType, 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

/** The JSON protocols' error shape: `__type` and the message (aws-facts §2.4). */
function awsError(contentType: string, type: string, message: string): Reply {
  return awsJson(contentType, 400, { __type: type, Message: message, message });
}

function parse(body: string): Record<string, unknown> {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Answers a JSON-protocol call by its `X-Amz-Target`; an operation it does not know is counted as unhandled. */
export function answerAwsJson(world: FieldWorld, target: string, body: string): Reply {
  const input = parse(body);
  switch (target) {
    case 'secretsmanager.BatchGetSecretValue':
      return batchGetSecretValue(world, input);
    case 'secretsmanager.PutSecretValue':
      return putSecretValue(world, input);
    case 'secretsmanager.GetSecretValue':
      return getSecretValue(world, input);
    case 'DynamoDB_20120810.BatchGetItem':
      return batchGetItem(world, input);
    case 'DynamoDB_20120810.PutItem':
      return putItem(world, input);
    case 'AWSEvents.PutEvents':
      return putEvents(world, input);
    default:
      world.unhandled(target);
      return awsError(
        target.startsWith('DynamoDB') ? JSON_10 : JSON_11,
        'UnknownOperationException',
        `the field bench does not answer ${target}`,
      );
  }
}

function batchGetSecretValue(world: FieldWorld, input: Record<string, unknown>): Reply {
  world.bump('smReads');
  const ids = Array.isArray(input.SecretIdList) ? input.SecretIdList.map(String) : [];
  const values: unknown[] = [];
  const errors: unknown[] = [];
  for (const id of ids) {
    const secret = world.secret(id);
    if (secret === undefined) {
      errors.push({
        SecretId: id,
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      });
      continue;
    }
    values.push({
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: secret.createdMs / 1000,
    });
  }
  return awsJson(JSON_11, 200, { SecretValues: values, Errors: errors });
}

/** One version: AWSCURRENT, or AWSPREVIOUS when asked (the renewer reads it to retire a replaced token). */
function getSecretValue(world: FieldWorld, input: Record<string, unknown>): Reply {
  world.bump('smReads');
  const secret = world.secret(String(input.SecretId ?? ''));
  const previous = input.VersionStage === 'AWSPREVIOUS';
  const version =
    secret === undefined
      ? undefined
      : previous
        ? secret.previous
        : { versionId: secret.versionId, value: secret.value };
  if (secret === undefined || version === undefined) {
    return awsError(
      JSON_11,
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret value for staging label: AWSPREVIOUS",
    );
  }
  return awsJson(JSON_11, 200, {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.value,
    VersionStages: [previous ? 'AWSPREVIOUS' : 'AWSCURRENT'],
  });
}

function putSecretValue(world: FieldWorld, input: Record<string, unknown>): Reply {
  const nowMs = world.clock.now();
  world.bump('smWriteAttempts');
  world.smAttemptWindow.record(nowMs);
  // The quota counts requests, before anything else is looked at.
  if (world.smWindow.full(nowMs)) {
    world.bump('throttledWrites');
    return awsError(JSON_11, 'ThrottlingException', 'Rate exceeded');
  }
  world.smWindow.record(nowMs);
  world.bump('smWritesAccepted');
  const secret = world.secret(String(input.SecretId ?? ''));
  if (secret === undefined) {
    return awsError(
      JSON_11,
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  }
  const value = typeof input.SecretString === 'string' ? input.SecretString : '';
  const versionId =
    typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID();
  const earlier = secret.versions.get(versionId);
  if (earlier !== undefined && earlier !== value) {
    return awsError(
      JSON_11,
      'ResourceExistsException',
      'A resource with the ID you requested already exists.',
    );
  }
  // The same token with the same value is the same version: nothing new is stored.
  if (earlier === undefined) world.storeVersion(secret, value, versionId);
  return awsJson(JSON_11, 200, {
    ARN: secret.arn,
    Name: secret.name,
    VersionId: versionId,
    VersionStages: ['AWSCURRENT'],
  });
}

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

function tableOf(world: FieldWorld, name: string): Map<string, Record<string, unknown>> {
  let table = world.items.get(name);
  if (table === undefined) {
    table = new Map();
    world.items.set(name, table);
  }
  return table;
}

/** The item's key: its `scope` attribute as DynamoDB JSON, whatever its type. */
function keyOf(item: Item): string {
  return JSON.stringify(item[TABLE_KEY] ?? null);
}

function batchGetItem(world: FieldWorld, input: Record<string, unknown>): Reply {
  world.bump('incidentReads');
  const requests = (input.RequestItems ?? {}) as Record<string, { Keys?: Item[] }>;
  const responses: Record<string, unknown[]> = {};
  for (const [name, request] of Object.entries(requests)) {
    const table = tableOf(world, name);
    responses[name] = (request.Keys ?? []).flatMap((key) => {
      const item = table.get(keyOf(key));
      return item === undefined ? [] : [item];
    });
  }
  return awsJson(JSON_10, 200, { Responses: responses, UnprocessedKeys: {} });
}

/** DynamoDB compares numbers as numbers, everything else as written. */
function sameValue(left: AttributeValue | undefined, right: AttributeValue | undefined): boolean {
  if (left === undefined || right === undefined) return false;
  if (typeof left.N === 'string' && typeof right.N === 'string') {
    return Number(left.N) === Number(right.N);
  }
  return JSON.stringify(left) === JSON.stringify(right);
}

/**
 * The condition expressions the incident store writes with:
 * `attribute_not_exists(#scope)`, `attribute_exists(x)`, `#version = :expected`.
 * Anything else is reported as unhandled rather than guessed at.
 */
function conditionHolds(
  expression: string,
  stored: Item | undefined,
  names: Record<string, string>,
  values: Record<string, AttributeValue>,
): boolean | undefined {
  const name = (token: string) => names[token] ?? token;
  const exists = /^attribute_(not_)?exists\(\s*([#\w]+)\s*\)$/.exec(expression.trim());
  if (exists !== null) {
    const present = stored?.[name(exists[2] ?? '')] !== undefined;
    return exists[1] === undefined ? present : !present;
  }
  const equals = /^([#\w]+)\s*=\s*(:\w+)$/.exec(expression.trim());
  if (equals !== null) {
    return sameValue(stored?.[name(equals[1] ?? '')], values[equals[2] ?? '']);
  }
  return undefined;
}

function putItem(world: FieldWorld, input: Record<string, unknown>): Reply {
  const table = tableOf(world, String(input.TableName ?? ''));
  const item = (input.Item ?? {}) as Item;
  const key = keyOf(item);
  const stored = table.get(key) as Item | undefined;
  if (typeof input.ConditionExpression === 'string') {
    const holds = conditionHolds(
      input.ConditionExpression,
      stored,
      (input.ExpressionAttributeNames ?? {}) as Record<string, string>,
      (input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>,
    );
    if (holds === undefined) {
      world.unhandled(`dynamodb condition ${input.ConditionExpression}`);
      return awsError(JSON_10, 'ValidationException', 'condition not understood by the bench');
    }
    if (!holds) {
      world.bump('incidentConflicts');
      return awsError(
        JSON_10,
        'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
        'The conditional request failed',
      );
    }
  }
  world.bump('incidentWrites');
  table.set(key, item);
  return awsJson(JSON_10, 200, {});
}

function putEvents(world: FieldWorld, input: Record<string, unknown>): Reply {
  const entries = Array.isArray(input.Entries) ? input.Entries : [];
  world.bump('changeEvents', entries.length);
  return awsJson(JSON_11, 200, {
    FailedEntryCount: 0,
    Entries: entries.map(() => ({ EventId: randomUUID() })),
  });
}

/** SNS Query `Publish`: the message attributes, by name (`MessageAttributes.entry.N.*`). */
export function answerSns(world: FieldWorld, body: string): Reply {
  const form = new URLSearchParams(body);
  if (form.get('Action') !== 'Publish') {
    world.unhandled(`sns ${form.get('Action') ?? '(no action)'}`);
    return {
      status: 400,
      headers: { 'content-type': 'text/xml' },
      body: '<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>not answered by the field bench</Message></Error><RequestId>r</RequestId></ErrorResponse>',
    };
  }
  const attributes = new Map<string, string>();
  for (const [field, name] of form) {
    const entry = /^MessageAttributes\.entry\.(\d+)\.Name$/.exec(field)?.[1];
    if (entry === undefined) continue;
    attributes.set(name, form.get(`MessageAttributes.entry.${entry}.Value.StringValue`) ?? '');
  }
  world.messagePublished(attributes);
  return {
    status: 200,
    headers: { 'content-type': 'text/xml' },
    body: `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>${randomUUID()}</MessageId></PublishResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></PublishResponse>`,
  };
}
