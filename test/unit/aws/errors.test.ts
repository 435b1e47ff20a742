import {
  GetSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { NotFoundException } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import {
  describeAwsFailure,
  PublishError,
  SecretStoreError,
  SecretWriteError,
} from '../../../functions/aws/errors.js';

describe('describeAwsFailure', () => {
  it('takes the code from a service exception name and the status from $metadata', () => {
    const error = new ResourceNotFoundException({
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });

    expect(describeAwsFailure(error)).toEqual({
      code: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      httpStatusCode: 400,
    });
  });

  it('takes the code of a network error, which the SDK also decorates with $metadata', async () => {
    // Nothing listens on port 9.
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: 'app/token' }))
      .catch((caught: unknown) => caught);
    client.destroy();

    expect(error).toHaveProperty('$metadata');
    expect(describeAwsFailure(error)).toEqual({
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:9',
    });
  });

  it('names an aborted call by its error name', () => {
    const error = Object.assign(new Error('Request aborted'), { name: 'AbortError' });

    expect(describeAwsFailure(error).code).toBe('AbortError');
  });

  it('copes with something thrown that is not an Error', () => {
    expect(describeAwsFailure('boom')).toEqual({ code: 'UnknownError', message: 'boom' });
  });

  it('removes planted values from the message', () => {
    const error = new Error('could not store hvs.PLANTED because hvs.PLANTED is bad');

    expect(describeAwsFailure(error, ['hvs.PLANTED']).message).toBe(
      'could not store [REDACTED] because [REDACTED] is bad',
    );
  });
});

describe('SecretWriteError', () => {
  it('names the secret and AWS code, keeps the SDK error as cause, and never holds the value', () => {
    const value = '{"token":"hvs.PLANTED-TOKEN"}';
    const cause = new ResourceExistsException({
      message: `You can't modify an existing version; it holds ${value}`,
      $metadata: { httpStatusCode: 400 },
    });

    const error = new SecretWriteError(
      'vault/billing-api/token',
      describeAwsFailure(cause, [value]),
      {
        cause,
      },
    );

    expect(error).toBeInstanceOf(SecretStoreError);
    expect(error).toMatchObject({
      name: 'SecretWriteError',
      secretId: 'vault/billing-api/token',
      code: 'ResourceExistsException',
      httpStatusCode: 400,
      cause,
    });
    expect(error.message).toContain('"vault/billing-api/token"');
    expect(error.message).toContain('ResourceExistsException');
    expect(error.message).not.toContain('hvs.PLANTED-TOKEN');
  });
});

describe('PublishError', () => {
  it('names the topic and AWS code and keeps the SDK error as cause', () => {
    const topicArn = 'arn:aws:sns:us-east-1:123456789012:missing';
    const cause = new NotFoundException({
      message: 'Topic does not exist',
      $metadata: { httpStatusCode: 404 },
    });

    const error = new PublishError(topicArn, describeAwsFailure(cause), { cause });

    expect(error).toMatchObject({
      name: 'PublishError',
      topicArn,
      code: 'NotFoundException',
      httpStatusCode: 404,
      cause,
    });
    expect(error.message).toBe(
      `SNS Publish to ${topicArn} failed: NotFoundException: Topic does not exist`,
    );
  });
});
