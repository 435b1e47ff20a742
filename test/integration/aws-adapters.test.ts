import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import { createDirectBatchGetItem } from '../../functions/aws/direct-batch-get-item.js';
import { createDirectBatchRead } from '../../functions/aws/direct-batch-read.js';
import { createDynamoDbIncidentStore } from '../../functions/aws/dynamodb-incident-store.js';
import { PublishError, SecretWriteError } from '../../functions/aws/errors.js';
import { createSecretsManagerStore } from '../../functions/aws/secrets-manager-store.js';
import { createSnsNotifier } from '../../functions/aws/sns-notifier.js';
import { composeMessage } from '../../functions/core/notification.js';
import { type OutgoingMessage, Severity } from '../../functions/core/notifier-port.js';
import { ProblemCode } from '../../functions/core/problems.js';
import {
  READ_CONCURRENCY,
  readAllSecrets,
  secretIdsOf,
} from '../../functions/core/secret-reads.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

/*
 * The adapters against the real moto server of the local stack, through the
 * real SDK clients. Clients get explicit endpoints: process.env is not touched.
 *
 * Where moto differs from AWS (moto 5.2):
 * - BatchGetSecretValue does not enforce the 20-id limit of SecretIdList; AWS
 *   rejects 21. The 3-call assertion below is what keeps the store honest.
 * - Publish to a topic that does not exist answers `NotFound` "Endpoint does
 *   not exist" (moto falls back to its platform-endpoint table); AWS says
 *   "Topic does not exist". Same code, so the same PublishError.code.
 * - Publish accepts a 100-character Subject (AWS: under 100) and measures the
 *   256 KiB limit in characters without the attributes (AWS: UTF-8 bytes of
 *   body plus attributes). The notifier validates before sending, so neither
 *   reaches moto.
 * - Secrets Manager's ResourceNotFoundException comes with HTTP 404; AWS
 *   sends 400 for client errors of its JSON protocol (aws-facts §2.4).
 * - PutSecretValue with a used ClientRequestToken and a different value is
 *   `ResourceExistsException`; for AWS the exact code is UNCONFIRMED
 *   (aws-facts §1.1).
 * - No IAM: AccessDenied (per secret or for a whole batch) cannot happen here;
 *   the unit tests cover a whole batch failing.
 * - SNS per-protocol messages (`MessageStructure=json`, moto/sns/models.py):
 *   moto delivers the protocol's key or `default`, but still hands SQS the
 *   message attributes, where AWS sends attributes only for String structure
 *   ("Amazon SNS message attributes"); it posts HTTP/HTTPS envelopes without
 *   `MessageAttributes` even for String structure; it delivers nothing to
 *   email or email-json. So moto cannot show what the per-protocol design would
 *   lose; the notifier uses a second topic for chat instead (docs/deploy.md),
 *   and what is asserted below is that design: both topics, String structure,
 *   attributes and filter policies on each.
 */

const env = stackEnv();
const credentials = {
  accessKeyId: env.AWS_ACCESS_KEY_ID,
  secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
};
const secretsManager = new SecretsManagerClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  credentials,
});
const sns = new SNSClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SNS,
  credentials,
});
const sqs = new SQSClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SQS,
  credentials,
});

/** Deleted after the run, so pointing the suite at a real account leaves nothing behind. */
const createdSecretIds: string[] = [];

afterAll(async () => {
  const limit = pLimit(8);
  await Promise.all(
    createdSecretIds.map((secretId) =>
      limit(() =>
        secretsManager.send(
          new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }),
        ),
      ),
    ),
  );
  secretsManager.destroy();
  sns.destroy();
  sqs.destroy();
});

/** A client of its own for the store under test, counting calls per command. */
function countingSecretsManagerClient(): {
  client: SecretsManagerClient;
  callsOf: (commandName: string) => number;
} {
  const client = new SecretsManagerClient({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    credentials,
  });
  const calls = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => (args) => {
      const name = context.commandName ?? '';
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCalls' },
  );
  return { client, callsOf: (commandName) => calls.get(commandName) ?? 0 };
}

async function createSecret(
  name: string,
  value: { SecretString: string } | { SecretBinary: Uint8Array },
): Promise<{ arn: string; versionId: string }> {
  const created = await secretsManager.send(new CreateSecretCommand({ Name: name, ...value }));
  createdSecretIds.push(name);
  if (created.ARN === undefined || created.VersionId === undefined) {
    throw new Error(`CreateSecret ${name} answered without ARN or VersionId`);
  }
  return { arn: created.ARN, versionId: created.VersionId };
}

describe('SecretsManagerStore on moto', () => {
  it('reads the 45 secrets of 15 targets in 3 BatchGetSecretValue calls of at most 20', async () => {
    const prefix = uniqueName('read-all');
    const targets = Array.from({ length: 15 }, (_, i) => ({
      name: `t${i}`,
      vault: { address: 'http://127.0.0.1:8200' },
      tokenSecretId: `${prefix}/t${i}/token`,
      approle: { secretId: `${prefix}/t${i}/approle`, mount: 'approle' },
      incrementSeconds: 3600,
      leases: [
        {
          name: 'db',
          secretId: `${prefix}/t${i}/db`,
          reissuePath: 'database/creds/x',
          incrementSeconds: 3600,
        },
      ],
      notify: { onRelogin: false, onReissue: false },
    }));
    const names = targets.flatMap(secretIdsOf);
    const limit = pLimit(8);
    await Promise.all(
      names.map((name) => limit(() => createSecret(name, { SecretString: `{"n":"${name}"}` }))),
    );
    const { client, callsOf } = countingSecretsManagerClient();
    const store = createSecretsManagerStore({ client });

    const results = await readAllSecrets(targets, (ids) => store.readBatch(ids), READ_CONCURRENCY);

    expect(callsOf('BatchGetSecretValueCommand')).toBe(3);
    expect([...results.keys()].sort()).toEqual([...names].sort());
    for (const name of names) {
      expect(results.get(name)).toMatchObject({
        ok: true,
        secret: { secretId: name, value: `{"n":"${name}"}` },
      });
    }
    client.destroy();
  });

  it('keeps a missing id as its own failure while the others succeed', async () => {
    const prefix = uniqueName('missing');
    const present = [`${prefix}/one`, `${prefix}/two`];
    const missing = `${prefix}/never-created`;
    for (const name of present) await createSecret(name, { SecretString: 'x' });
    const store = createSecretsManagerStore({ client: secretsManager });

    const results = await store.readBatch([present[0] as string, missing, present[1] as string]);

    expect(results.get(present[0] as string)?.ok).toBe(true);
    expect(results.get(present[1] as string)?.ok).toBe(true);
    expect(results.get(missing)).toMatchObject({
      ok: false,
      failure: { secretId: missing, code: 'ResourceNotFoundException' },
    });
  });

  it('resolves a secret asked for by name, by ARN and by ARN without its suffix', async () => {
    const name = uniqueName('by-id-form');
    const { arn, versionId } = await createSecret(name, { SecretString: '{"token":"t"}' });
    const partialArn = arn.slice(0, -'-AbC123'.length);
    const store = createSecretsManagerStore({ client: secretsManager });

    const results = await store.readBatch([name, arn, partialArn]);

    for (const id of [name, arn, partialArn]) {
      expect(results.get(id)).toEqual({
        ok: true,
        secret: { secretId: id, value: '{"token":"t"}', versionId },
      });
    }
  });

  it('reports a binary-only secret as BinarySecretUnsupported', async () => {
    const name = uniqueName('binary');
    await createSecret(name, { SecretBinary: new Uint8Array([0xde, 0xad, 0xbe, 0xef]) });

    const results = await createSecretsManagerStore({ client: secretsManager }).readBatch([name]);

    expect(results.get(name)).toMatchObject({
      ok: false,
      failure: { secretId: name, code: 'BinarySecretUnsupported' },
    });
  });

  it('reads the same through the direct path as through the SDK, and never falls back', async () => {
    const prefix = uniqueName('direct');
    const { arn } = await createSecret(`${prefix}/by-arn`, { SecretString: '{"token":"t"}' });
    await createSecret(`${prefix}/by-name`, { SecretString: '{"role_id":"r"}' });
    await createSecret(`${prefix}/binary`, { SecretBinary: new Uint8Array([1, 2, 3]) });
    const ids = [
      `${prefix}/by-name`,
      arn,
      arn.slice(0, -'-AbC123'.length),
      `${prefix}/binary`,
      `${prefix}/never-created`,
    ];
    const told: string[] = [];
    const { client, callsOf } = countingSecretsManagerClient();
    const directRead = createDirectBatchRead(client, {
      onFallback: (reason) => told.push(reason),
    });

    const direct = await createSecretsManagerStore({ client, directRead }).readBatch(ids);
    // Nothing went through the SDK's middleware: the direct path answered.
    expect(callsOf('BatchGetSecretValueCommand')).toBe(0);
    const throughSdk = await createSecretsManagerStore({ client }).readBatch(ids);
    await directRead.close();
    client.destroy();

    expect(callsOf('BatchGetSecretValueCommand')).toBe(1);
    expect(told).toEqual([]);
    expect(direct).toEqual(throughSdk);
    expect([...direct.values()].map((result) => result.ok)).toEqual([
      true,
      true,
      true,
      false,
      false,
    ]);
  });

  it('writes a new version: AWSCURRENT moves to it, AWSPREVIOUS keeps the old one', async () => {
    const name = uniqueName('write');
    const first = await createSecret(name, { SecretString: '{"token":"old"}' });
    const token = deterministicRequestToken(name, 'accessor-new');
    const store = createSecretsManagerStore({ client: secretsManager });

    const written = await store.write({
      secretId: name,
      value: '{"token":"new"}',
      clientRequestToken: token,
    });

    expect(written).toEqual({ versionId: token, arn: first.arn });
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    expect(current).toMatchObject({ VersionId: token, SecretString: '{"token":"new"}' });
    const previous = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );
    expect(previous).toMatchObject({ VersionId: first.versionId, SecretString: '{"token":"old"}' });
  });

  it('creates one version when the same token and value are written twice', async () => {
    const name = uniqueName('idempotent');
    const first = await createSecret(name, { SecretString: '{"token":"old"}' });
    const write = {
      secretId: name,
      value: '{"token":"new"}',
      clientRequestToken: deterministicRequestToken(name, 'accessor-new'),
    };
    const store = createSecretsManagerStore({ client: secretsManager });

    await store.write(write);
    await store.write(write);

    const listed = await secretsManager.send(new ListSecretVersionIdsCommand({ SecretId: name }));
    const stagesById = Object.fromEntries(
      (listed.Versions ?? []).map((version) => [version.VersionId, version.VersionStages]),
    );
    expect(stagesById).toEqual({
      [first.versionId]: ['AWSPREVIOUS'],
      [write.clientRequestToken]: ['AWSCURRENT'],
    });
  });

  it('refuses another value under a used token with a SecretWriteError that omits the value', async () => {
    const name = uniqueName('token-reuse');
    await createSecret(name, { SecretString: '{"token":"old"}' });
    const clientRequestToken = deterministicRequestToken(name, 'accessor-new');
    const store = createSecretsManagerStore({ client: secretsManager });
    await store.write({ secretId: name, value: '{"token":"first"}', clientRequestToken });

    const planted = '{"token":"hvs.PLANTED-SECOND"}';
    const rewriting = store.write({ secretId: name, value: planted, clientRequestToken });

    const error = await rewriting.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SecretWriteError);
    expect(error).toMatchObject({ secretId: name, code: 'ResourceExistsException' });
    expect((error as Error).message).not.toContain('hvs.PLANTED-SECOND');
  });

  it('throws SecretWriteError with the AWS code when the secret does not exist', async () => {
    const name = uniqueName('write-missing');

    const writing = createSecretsManagerStore({ client: secretsManager }).write({
      secretId: name,
      value: '{"token":"t"}',
      clientRequestToken: deterministicRequestToken(name),
    });

    await expect(writing).rejects.toBeInstanceOf(SecretWriteError);
    // No httpStatusCode here: moto answers 404, AWS's JSON protocol answers 400.
    await expect(writing).rejects.toMatchObject({
      secretId: name,
      code: 'ResourceNotFoundException',
    });
  });
});

describe('SnsNotifier on moto', () => {
  const message: OutgoingMessage = {
    subject: '[CRITICAL] billing-api: Vault token expires in 12 minutes',
    body: 'The Vault token of billing-api could not be renewed — it dies in 12 minutes.\n\n{"version":1,"event":"token.renew-failed"}',
    attributes: { severity: 'CRITICAL', target: 'billing-api', event: 'token.renew-failed' },
  };
  let topicArn: string;
  let queueUrl: string;

  beforeAll(async () => {
    const created = await sns.send(new CreateTopicCommand({ Name: uniqueName('alerts') }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('alerts-sink') }));
    if (created.TopicArn === undefined || queue.QueueUrl === undefined) {
      throw new Error('CreateTopic or CreateQueue answered without an ARN or URL');
    }
    topicArn = created.TopicArn;
    queueUrl = queue.QueueUrl;
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: attributes.Attributes?.QueueArn,
      }),
    );
  });

  afterAll(async () => {
    await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }));
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl }));
  });

  async function receiveOne(): Promise<Message> {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 2,
        MaxNumberOfMessages: 10,
      }),
    );
    expect(received.Messages).toHaveLength(1);
    return received.Messages?.[0] as Message;
  }

  it('delivers Subject, Message and MessageAttributes intact to a subscribed queue', async () => {
    await createSnsNotifier({ client: sns, topicArn }).publish(message);

    // Without raw delivery SQS receives the SNS JSON envelope.
    const envelope = JSON.parse((await receiveOne()).Body ?? '{}');
    expect(envelope).toMatchObject({
      Type: 'Notification',
      TopicArn: topicArn,
      Subject: message.subject,
      Message: message.body,
      MessageAttributes: {
        severity: { Type: 'String', Value: 'CRITICAL' },
        target: { Type: 'String', Value: 'billing-api' },
        event: { Type: 'String', Value: 'token.renew-failed' },
      },
    });
  });

  it('throws PublishError with the AWS code when the topic does not exist', async () => {
    const missingTopicArn = topicArn.replace(/:[^:]+$/, `:${uniqueName('no-such-topic')}`);

    const publishing = createSnsNotifier({ client: sns, topicArn: missingTopicArn }).publish(
      message,
    );

    const error = await publishing.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({
      topicArn: missingTopicArn,
      code: 'NotFoundException',
      httpStatusCode: 404,
    });
    expect((error as Error).message).not.toContain(message.body);
  });
});

describe('SnsNotifier with a chat topic on moto', () => {
  const target = {
    name: 'billing-api',
    vault: { address: 'https://vault.example.com:8200' },
    tokenSecretId: 'billing-api/token',
    approle: { secretId: 'billing-api/approle', mount: 'approle' },
    incrementSeconds: 3600,
    leases: [],
    notify: { onRelogin: false, onReissue: false },
  };
  const messageOf = (severity: Severity) =>
    composeMessage(
      {
        code: ProblemCode.VaultUnreachable,
        severity,
        summary: 'Vault did not answer.',
        secondsUntilExpiry: 600,
      },
      target,
      {
        service: 'vault-renewer-it',
        runId: 'run-1',
        occurredAt: '2026-12-01T10:00:00.000Z',
        intervalSeconds: 900,
        dryRun: false,
      },
    );
  const topics: string[] = [];
  const queues: string[] = [];
  async function topic(name: string): Promise<string> {
    const created = await sns.send(new CreateTopicCommand({ Name: uniqueName(name) }));
    if (created.TopicArn === undefined) throw new Error('CreateTopic answered without an ARN');
    topics.push(created.TopicArn);
    return created.TopicArn;
  }

  async function subscribedQueue(topicArn: string, filterPolicy?: object): Promise<string> {
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('sink') }));
    if (queue.QueueUrl === undefined) throw new Error('CreateQueue answered without a URL');
    queues.push(queue.QueueUrl);
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: attributes.Attributes?.QueueArn,
        ...(filterPolicy === undefined
          ? {}
          : { Attributes: { FilterPolicy: JSON.stringify(filterPolicy) } }),
      }),
    );
    return queue.QueueUrl;
  }

  async function envelopes(queueUrl: string): Promise<Record<string, unknown>[]> {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 1,
        MaxNumberOfMessages: 10,
      }),
    );
    return (received.Messages ?? []).map((m) => JSON.parse(m.Body ?? '{}'));
  }

  /** Fresh topics and queues per test: no test reads another's messages. */
  async function setUp() {
    const alertTopicArn = await topic('alerts');
    const chatTopicArn = await topic('chat');
    return {
      alertTopicArn,
      chatTopicArn,
      alertQueue: await subscribedQueue(alertTopicArn),
      chatQueue: await subscribedQueue(chatTopicArn),
      criticalChatQueue: await subscribedQueue(chatTopicArn, { severity: ['CRITICAL'] }),
    };
  }

  afterAll(async () => {
    for (const arn of topics) await sns.send(new DeleteTopicCommand({ TopicArn: arn }));
    for (const url of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  });

  it('sends the alert topic the human text and JSON document, and the chat topic the chat form, each with the attributes', async () => {
    const { alertTopicArn, chatTopicArn, alertQueue, chatQueue } = await setUp();
    const message = messageOf(Severity.Critical);

    await createSnsNotifier({ client: sns, topicArn: alertTopicArn, chatTopicArn }).publish(
      message,
    );

    const attributes = {
      severity: { Type: 'String', Value: 'CRITICAL' },
      target: { Type: 'String', Value: 'billing-api' },
      event: { Type: 'String', Value: 'vault-unreachable' },
      schema: { Type: 'String', Value: 'vault-renewer/notification/v1' },
    };
    const [alert] = await envelopes(alertQueue);
    expect(alert).toMatchObject({
      TopicArn: alertTopicArn,
      Subject: message.subject,
      Message: message.body,
      MessageAttributes: attributes,
    });
    const [chat] = await envelopes(chatQueue);
    expect(chat).toMatchObject({ TopicArn: chatTopicArn, MessageAttributes: attributes });
    expect(JSON.parse(String(chat?.Message))).toEqual(message.chat);
    expect(JSON.parse(String(chat?.Message))).toMatchObject({
      version: '1.0',
      source: 'custom',
      metadata: { threadId: 'vault-renewer-it:billing-api:vault-unreachable' },
    });
  });

  it("lets a chat subscription's filter policy pick by severity", async () => {
    const { alertTopicArn, chatTopicArn, criticalChatQueue, chatQueue } = await setUp();
    const notifier = createSnsNotifier({ client: sns, topicArn: alertTopicArn, chatTopicArn });

    await notifier.publish(messageOf(Severity.Warning));
    await notifier.publish(messageOf(Severity.Critical));

    const picked = await envelopes(criticalChatQueue);
    expect(picked.map((e) => JSON.parse(String(e.Message)).content.keywords[0])).toEqual([
      'CRITICAL',
    ]);
    expect(await envelopes(chatQueue)).toHaveLength(2);
  });

  it('sends no chat form without a chat topic', async () => {
    const { alertTopicArn, alertQueue, chatQueue } = await setUp();
    await createSnsNotifier({ client: sns, topicArn: alertTopicArn }).publish(
      messageOf(Severity.Critical),
    );

    expect(await envelopes(alertQueue)).toHaveLength(1);
    expect(await envelopes(chatQueue)).toEqual([]);
  });

  it('names the chat topic when only the chat publish fails', async () => {
    const { alertTopicArn, chatTopicArn, alertQueue } = await setUp();
    const missing = chatTopicArn.replace(/:[^:]+$/, `:${uniqueName('no-such-chat')}`);

    const error = await createSnsNotifier({
      client: sns,
      topicArn: alertTopicArn,
      chatTopicArn: missing,
    })
      .publish(messageOf(Severity.Critical))
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(PublishError);
    expect(error).toMatchObject({ topicArn: missing });
    // The alert topic got its message first.
    expect(await envelopes(alertQueue)).toHaveLength(1);
  });
});

describe('DynamoDbIncidentStore on moto', () => {
  it('reads the same items through the direct path as through the SDK, and never falls back', async () => {
    const dynamodb = new DynamoDBClient({
      region: env.AWS_REGION,
      endpoint: env.AWS_ENDPOINT_URL_DYNAMODB,
      credentials,
    });
    let sdkReads = 0;
    dynamodb.middlewareStack.add(
      (next, context) => (args) => {
        if (context.commandName === 'BatchGetItemCommand') sdkReads += 1;
        return next(args);
      },
      { step: 'initialize', name: 'countReads' },
    );
    const tableName = uniqueName('incidents');
    await dynamodb.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [{ AttributeName: 'scope', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'scope', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const told: string[] = [];
    const directRead = createDirectBatchGetItem(dynamodb, {
      onFallback: (reason) => told.push(reason),
    });
    try {
      const sdkStore = createDynamoDbIncidentStore(dynamodb, tableName);
      const open = {
        scope: 'target#billing',
        incidents: {
          'lease-renew-failed/db': {
            severity: Severity.Error,
            openedAt: '2026-12-01T10:00:00.000Z',
            lastPublishedAt: '2026-12-01T10:00:00.000Z',
          },
        },
        version: 1,
      };
      expect(await sdkStore.write(open, undefined)).toBe(true);
      expect(
        await sdkStore.write({ scope: 'target#orders', incidents: {}, version: 4 }, undefined),
      ).toBe(true);
      // 100 scopes, as a run asks them: two stored, the rest never written.
      const scopes = [
        'target#billing',
        'target#orders',
        ...Array.from({ length: 98 }, (_, i) => `target#quiet-${i}`),
      ];

      const direct = await createDynamoDbIncidentStore(dynamodb, tableName, {
        directRead,
      }).readBatch(scopes);
      expect(sdkReads).toBe(0);
      const throughSdk = await sdkStore.readBatch(scopes);

      expect(sdkReads).toBe(1);
      expect(told).toEqual([]);
      expect(direct).toEqual(throughSdk);
      expect(direct.get('target#billing')).toEqual(open);
      expect(direct.get('target#orders')).toEqual({
        scope: 'target#orders',
        incidents: {},
        version: 4,
      });
      expect(direct.size).toBe(2);
    } finally {
      await directRead.close();
      await dynamodb.send(new DeleteTableCommand({ TableName: tableName }));
      dynamodb.destroy();
    }
  });
});
