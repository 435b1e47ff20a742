import { randomUUID } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from 'vitest';
import { localRotationFunctionArn } from '../../tools/local-stack/rotation-function.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

/*
 * Contract: what a read without VersionId or VersionStage returns while
 * staging labels move, as AWS documents it (aws-facts §1.1 "Staging labels":
 * AWSCURRENT is what a caller gets when it names no version). The local stack
 * starts moto through tools/local-stack/moto-server.py, whose correction of
 * moto's `FakeSecret.default_version_id` these tests pin: plain moto 5.2.5
 * fails the first three (it keeps answering the old version after the move
 * and the empty AWSPENDING placeholder while a rotation is pending, answers
 * RotateSecret with the old version's id, and relabels the pending version
 * AWSPREVIOUS on a write), and moves the labels of a secret with no rotation
 * configured where AWS refuses.
 */

const env = stackEnv();
const client = new SecretsManagerClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
const created: string[] = [];

afterAll(async () => {
  for (const secretId of created) {
    await client.send(
      new DeleteSecretCommand({ SecretId: secretId, ForceDeleteWithoutRecovery: true }),
    );
  }
  client.destroy();
});

async function secretWith(value: string): Promise<{ name: string; versionId: string }> {
  const name = uniqueName('staging');
  const answer = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  created.push(name);
  return { name, versionId: answer.VersionId ?? '' };
}

async function plainRead(name: string): Promise<string | undefined> {
  return (await client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString;
}

async function batchRead(name: string): Promise<string | undefined> {
  const answer = await client.send(new BatchGetSecretValueCommand({ SecretIdList: [name] }));
  return answer.SecretValues?.[0]?.SecretString;
}

describe('reads without a version follow AWSCURRENT', () => {
  it('after UpdateSecretVersionStage moves AWSCURRENT, plain and batch reads return the new version', async () => {
    const { name, versionId: first } = await secretWith('{"v":1}');
    const second = randomUUID();
    await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: '{"v":2}',
        ClientRequestToken: second,
        VersionStages: ['AWSPENDING'],
      }),
    );
    expect(await plainRead(name)).toBe('{"v":1}');

    await client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: name,
        VersionStage: 'AWSCURRENT',
        MoveToVersionId: second,
        RemoveFromVersionId: first,
      }),
    );

    expect(await plainRead(name)).toBe('{"v":2}');
    expect(await batchRead(name)).toBe('{"v":2}');
    const stages = (await client.send(new DescribeSecretCommand({ SecretId: name })))
      .VersionIdsToStages;
    expect(stages?.[second]).toEqual(expect.arrayContaining(['AWSCURRENT', 'AWSPENDING']));
    expect(stages?.[first]).toEqual(['AWSPREVIOUS']);
  });

  it('RotateSecret stages an empty AWSPENDING placeholder and leaves AWSCURRENT readable', async () => {
    const { name, versionId: first } = await secretWith('{"v":1}');
    const token = randomUUID();
    const rotationLambdaArn = await localRotationFunctionArn(env);
    await client.send(
      new RotateSecretCommand({
        SecretId: name,
        ClientRequestToken: token,
        RotationLambdaARN: rotationLambdaArn,
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );

    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.RotationLambdaARN).toBe(rotationLambdaArn);
    expect(described.VersionIdsToStages?.[token]).toEqual(['AWSPENDING']);
    expect(described.VersionIdsToStages?.[first]).toEqual(['AWSCURRENT']);
    expect(await plainRead(name)).toBe('{"v":1}');
    expect(await batchRead(name)).toBe('{"v":1}');
    // The placeholder has no value: the createSecret step is what gives it one.
    await expect(
      client.send(
        new GetSecretValueCommand({ SecretId: name, VersionId: token, VersionStage: 'AWSPENDING' }),
      ),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('RotateSecret answers with the new version; a write during the rotation leaves AWSPENDING alone', async () => {
    const { name, versionId: first } = await secretWith('{"v":1}');
    const started = await client.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: await localRotationFunctionArn(env),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    const pending = started.VersionId ?? '';
    expect(pending).not.toBe(first);

    const written = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: '{"v":2}' }),
    );

    const stages = (await client.send(new DescribeSecretCommand({ SecretId: name })))
      .VersionIdsToStages;
    expect(stages?.[pending]).toEqual(['AWSPENDING']);
    expect(stages?.[written.VersionId ?? '']).toEqual(['AWSCURRENT']);
    expect(stages?.[first]).toEqual(['AWSPREVIOUS']);
    expect(await plainRead(name)).toBe('{"v":2}');
  });

  it('RotateSecret refuses a secret with no rotation configured and moves no label', async () => {
    const { name, versionId: first } = await secretWith('{"v":1}');

    const refused = await client
      .send(new RotateSecretCommand({ SecretId: name }))
      .catch((error: unknown) => error);

    expect(refused).toMatchObject({ name: 'InvalidRequestException' });
    const stages = (await client.send(new DescribeSecretCommand({ SecretId: name })))
      .VersionIdsToStages;
    expect(stages).toEqual({ [first]: ['AWSCURRENT'] });
    expect(await plainRead(name)).toBe('{"v":1}');
  });

  it('RotateSecret without a function ARN rotates with the one the configuration stored', async () => {
    const { name } = await secretWith('{"v":1}');
    const arn = await localRotationFunctionArn(env);
    await client.send(
      new RotateSecretCommand({
        SecretId: name,
        RotationLambdaARN: arn,
        RotationRules: { AutomaticallyAfterDays: 30 },
        RotateImmediately: false,
      }),
    );

    await client.send(new RotateSecretCommand({ SecretId: name }));

    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described).toMatchObject({ RotationEnabled: true, RotationLambdaARN: arn });
  });

  it('a version written without stages becomes AWSCURRENT and moves AWSPREVIOUS (unchanged moto behaviour)', async () => {
    const { name, versionId: first } = await secretWith('{"v":1}');
    const written = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: '{"v":2}' }),
    );
    expect(await plainRead(name)).toBe('{"v":2}');
    const stages = (await client.send(new DescribeSecretCommand({ SecretId: name })))
      .VersionIdsToStages;
    expect(stages?.[written.VersionId ?? '']).toEqual(['AWSCURRENT']);
    expect(stages?.[first]).toEqual(['AWSPREVIOUS']);
  });
});
