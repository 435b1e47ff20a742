import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  CreateTopicCommand,
  type MessageAttributeValue,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { stackEnv, uniqueName } from '../support/stack-env.js';

/*
 * What the stack's AWS (moto 5.2.5 in server mode) really answers to the SDK v3 calls the
 * renewer makes. Each assertion is moto's observed behaviour; a `moto ≠ AWS:` comment marks
 * where real AWS differs (reference: /work/shared/reference/aws-facts.md). Code that must
 * also work on AWS cannot rely on the marked behaviour.
 */

const env = stackEnv();
const base = {
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
};
const secretsManager = new SecretsManagerClient({
  ...base,
  endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
});
const sns = new SNSClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_SNS });
const sqs = new SQSClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_SQS });

/** A ClientRequestToken (32–64 chars; it becomes the VersionId). */
function requestToken(label: string): string {
  return `${label}-${'0'.repeat(40)}`.slice(0, 40);
}

async function stages(secretId: string): Promise<Record<string, string[]> | undefined> {
  return (await secretsManager.send(new DescribeSecretCommand({ SecretId: secretId })))
    .VersionIdsToStages;
}

describe('Secrets Manager (moto)', () => {
  it('moves AWSCURRENT to each new version and AWSPREVIOUS to the one before', async () => {
    const name = uniqueName('stages');
    const [v1, v2, v3] = [requestToken('v1'), requestToken('v2'), requestToken('v3')];

    await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: v1 }),
    );
    const afterCreate = await stages(name);
    const put = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: v2 }),
    );
    const afterSecond = await stages(name);
    await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'three', ClientRequestToken: v3 }),
    );
    const afterThird = await stages(name);
    const previous = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' }),
    );

    expect(afterCreate).toEqual({ [v1]: ['AWSCURRENT'] });
    expect(put).toMatchObject({ VersionId: v2, VersionStages: ['AWSCURRENT'] });
    expect(afterSecond).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
    // moto ≠ AWS: AWS leaves unlabelled (deprecated) versions out of VersionIdsToStages;
    // moto lists v1 with an empty array.
    expect(afterThird).toEqual({ [v1]: [], [v2]: ['AWSPREVIOUS'], [v3]: ['AWSCURRENT'] });
    expect(previous).toMatchObject({
      VersionId: v2,
      SecretString: 'two',
      VersionStages: ['AWSPREVIOUS'],
    });
  });

  it('treats a repeated ClientRequestToken with the same value as the same version', async () => {
    const name = uniqueName('idempotent');
    const [v1, v2] = [requestToken('v1'), requestToken('v2')];
    await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: v1 }),
    );
    const first = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: v2 }),
    );

    const repeated = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: v2 }),
    );
    const versions = await secretsManager.send(new ListSecretVersionIdsCommand({ SecretId: name }));

    expect(repeated.VersionId).toBe(first.VersionId);
    expect(repeated.VersionStages).toEqual(['AWSCURRENT']);
    expect(versions.Versions?.map((version) => version.VersionId).sort()).toEqual([v1, v2].sort());
    expect(await stages(name)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
  });

  it('rejects a repeated ClientRequestToken with a different value: ResourceExistsException, 400', async () => {
    const name = uniqueName('token-reuse');
    const v1 = requestToken('v1');
    await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: v1 }),
    );

    const reuse = secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: v1 }),
    );

    // AWS documents that this fails; its exact code is unconfirmed (aws-facts §1.1).
    await expect(reuse).rejects.toMatchObject({
      name: 'ResourceExistsException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    const current = await secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    expect(current).toMatchObject({ VersionId: v1, SecretString: 'one' });
  });

  it("ignores a replay of an older version's token: AWSCURRENT stays where it is", async () => {
    const name = uniqueName('replay');
    const [v1, v2] = [requestToken('v1'), requestToken('v2')];
    await secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: 'one', ClientRequestToken: v1 }),
    );
    await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: v2 }),
    );

    const replay = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'one', ClientRequestToken: v1 }),
    );

    expect(replay).toMatchObject({ VersionId: v1, VersionStages: ['AWSPREVIOUS'] });
    expect(await stages(name)).toEqual({ [v1]: ['AWSPREVIOUS'], [v2]: ['AWSCURRENT'] });
  });

  it('rejects a ClientRequestToken shorter than 32 characters', async () => {
    const name = uniqueName('short-token');
    await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: 'one' }));

    const put = secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'two', ClientRequestToken: 'x' }),
    );

    await expect(put).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: 'ClientRequestToken must be 32-64 characters long.',
    });
  });

  it('reports a missing secret of a BatchGetSecretValue in Errors[] and returns the others', async () => {
    const present = uniqueName('batch');
    const missing = uniqueName('batch-missing');
    await secretsManager.send(new CreateSecretCommand({ Name: present, SecretString: 'here' }));

    const batch = await secretsManager.send(
      new BatchGetSecretValueCommand({ SecretIdList: [present, missing] }),
    );

    expect(batch.$metadata.httpStatusCode).toBe(200);
    expect(batch.SecretValues).toEqual([
      expect.objectContaining({
        Name: present,
        SecretString: 'here',
        VersionStages: ['AWSCURRENT'],
      }),
    ]);
    expect(batch.Errors).toEqual([
      {
        SecretId: missing,
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      },
    ]);
    expect(batch.NextToken).toBeUndefined();
  });

  it('answers a BatchGetSecretValue of only missing secrets with Errors[], not an exception', async () => {
    const ids = Array.from({ length: 21 }, (_, index) => uniqueName(`absent${index}`));

    const batch = await secretsManager.send(new BatchGetSecretValueCommand({ SecretIdList: ids }));

    expect(batch.SecretValues).toEqual([]);
    // moto ≠ AWS: AWS rejects more than 20 ids in SecretIdList; moto answers all 21.
    expect(batch.Errors?.map((error) => [error.SecretId, error.ErrorCode])).toEqual(
      ids.map((id) => [id, 'ResourceNotFoundException']),
    );
  });

  it('rejects SecretIdList together with Filters', async () => {
    const batch = secretsManager.send(
      new BatchGetSecretValueCommand({
        SecretIdList: [uniqueName('both')],
        Filters: [{ Key: 'name', Values: ['both'] }],
      }),
    );

    await expect(batch).rejects.toMatchObject({
      name: 'InvalidParameterException',
      message: "Either 'SecretIdList' or 'Filters' must be provided, but not both.",
    });
  });

  it('answers GetSecretValue of a missing secret with ResourceNotFoundException', async () => {
    const get = secretsManager.send(new GetSecretValueCommand({ SecretId: uniqueName('nope') }));

    await expect(get).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      $fault: 'client',
      // moto ≠ AWS: AWS sends client errors of its JSON protocol with HTTP 400.
      $metadata: { httpStatusCode: 404 },
    });
  });
});

describe('SNS → SQS delivery (moto)', () => {
  const attributes: Record<string, MessageAttributeValue> = {
    severity: { DataType: 'String', StringValue: 'CRITICAL' },
    target: { DataType: 'String', StringValue: 'billing-api' },
  };

  /** A topic and a queue subscribed to it, with the queue policy AWS needs for delivery. */
  async function subscribedQueue(
    rawMessageDelivery: boolean,
    { queuePolicy = true } = {},
  ): Promise<{ topicArn: string; queueUrl: string }> {
    const { TopicArn: topicArn } = await sns.send(
      new CreateTopicCommand({ Name: uniqueName('alerts') }),
    );
    const { QueueUrl: queueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: uniqueName('alerts') }),
    );
    if (topicArn === undefined || queueUrl === undefined) throw new Error('no topic or queue');
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const queueArn = Attributes?.QueueArn ?? '';
    if (queuePolicy) {
      const policy = {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'sns.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
          },
        ],
      };
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: queueUrl,
          Attributes: { Policy: JSON.stringify(policy) },
        }),
      );
    }
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: String(rawMessageDelivery) },
      }),
    );
    return { topicArn, queueUrl };
  }

  /** Receives until `count` messages arrived (moto delivers synchronously; AWS may not). */
  async function receive(queueUrl: string, count: number): Promise<Message[]> {
    const received: Message[] = [];
    const deadline = Date.now() + 10_000;
    while (received.length < count && Date.now() < deadline) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MessageAttributeNames: ['All'],
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      received.push(...Messages);
    }
    expect(received).toHaveLength(count);
    return received;
  }

  async function receiveOne(queueUrl: string): Promise<Message> {
    const [message] = await receive(queueUrl, 1);
    return message as Message;
  }

  it('wraps the message in the SNS JSON envelope when raw delivery is off', async () => {
    const { topicArn, queueUrl } = await subscribedQueue(false);

    const published = await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'vault-renewer: billing-api token renewal failed',
        Message: '{"version":1,"event":"renew-failed"}',
        MessageAttributes: attributes,
      }),
    );
    const message = await receiveOne(queueUrl);
    const envelope = JSON.parse(message.Body ?? '') as Record<string, unknown>;

    expect(Object.keys(envelope).sort()).toEqual([
      'Message',
      'MessageAttributes',
      'MessageId',
      'Signature',
      'SignatureVersion',
      'SigningCertURL',
      'Subject',
      'Timestamp',
      'TopicArn',
      'Type',
      'UnsubscribeURL',
    ]);
    expect(envelope).toMatchObject({
      Type: 'Notification',
      MessageId: published.MessageId,
      TopicArn: topicArn,
      Subject: 'vault-renewer: billing-api token renewal failed',
      Message: '{"version":1,"event":"renew-failed"}',
      MessageAttributes: {
        severity: { Type: 'String', Value: 'CRITICAL' },
        target: { Type: 'String', Value: 'billing-api' },
      },
    });
    expect(envelope.Timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // moto ≠ AWS: AWS signs with SignatureVersion "1" unless the topic asks for "2"; moto
    // always says "2" (its signature is not verifiable either).
    expect(envelope.SignatureVersion).toBe('2');
    // Envelope attributes stay in the body; the SQS message itself carries none.
    expect(message.MessageAttributes).toBeUndefined();
  });

  it('delivers the bare message with SQS message attributes when raw delivery is on', async () => {
    const { topicArn, queueUrl } = await subscribedQueue(true);

    await sns.send(
      new PublishCommand({
        TopicArn: topicArn,
        Subject: 'vault-renewer: billing-api token renewal failed',
        Message: '{"version":1,"event":"renew-failed"}',
        MessageAttributes: attributes,
      }),
    );
    const message = await receiveOne(queueUrl);

    // The Subject is not delivered at all with raw delivery.
    expect(message.Body).toBe('{"version":1,"event":"renew-failed"}');
    expect(message.MessageAttributes).toEqual({
      severity: { DataType: 'String', StringValue: 'CRITICAL' },
      target: { DataType: 'String', StringValue: 'billing-api' },
    });
  });

  it('delivers to a queue without a policy that allows SNS', async () => {
    const { topicArn, queueUrl } = await subscribedQueue(true, { queuePolicy: false });

    await sns.send(new PublishCommand({ TopicArn: topicArn, Message: 'no policy' }));
    const message = await receiveOne(queueUrl);

    // moto ≠ AWS: no IAM; AWS silently drops messages the queue policy does not allow.
    expect(message.Body).toBe('no policy');
  });

  it('accepts subjects that SNS rejects', async () => {
    const { topicArn, queueUrl } = await subscribedQueue(false);

    // moto ≠ AWS: AWS wants a Subject under 100 characters without line breaks or control
    // characters (InvalidParameter); moto accepts both. Validate subjects before Publish.
    await sns.send(
      new PublishCommand({ TopicArn: topicArn, Subject: 's'.repeat(100), Message: 'a' }),
    );
    await sns.send(new PublishCommand({ TopicArn: topicArn, Subject: 'two\nlines', Message: 'b' }));
    const delivered = (await receive(queueUrl, 2)).map(
      (message) => JSON.parse(message.Body ?? '') as { Subject: string; Message: string },
    );

    expect(delivered.map(({ Message, Subject }) => [Message, Subject]).sort()).toEqual([
      ['a', 's'.repeat(100)],
      ['b', 'two\nlines'],
    ]);
  });

  it('answers Publish to a missing topic with NotFoundException, 404', async () => {
    const publish = sns.send(
      new PublishCommand({
        TopicArn: `arn:aws:sns:${env.AWS_REGION}:123456789012:${uniqueName('missing')}`,
        Message: 'lost',
      }),
    );

    await expect(publish).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
      // moto ≠ AWS: AWS says "Topic does not exist".
      message: 'Endpoint does not exist',
    });
  });
});
