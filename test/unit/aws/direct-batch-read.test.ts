import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { createDirectBatchRead, parseAnswer } from '../../../functions/aws/direct-batch-read.js';
import { createSecretsManagerStore } from '../../../functions/aws/secrets-manager-store.js';
import {
  CREDENTIALS,
  loopbackAws,
  type Received,
  type Reply,
  signatureHolds,
} from './loopback-aws.js';

/*
 * The direct read against a real HTTP server on loopback: what goes on the
 * wire (checked by signing the received request again with the SDK's own
 * signer), what it takes from an answer, and that every answer it does not
 * take goes to the SDK, which then behaves as it always has.
 */

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';
const loopback = loopbackAws('application/x-amz-json-1.1');

function client(options: { maxAttempts?: number } = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: CREDENTIALS,
    endpoint: loopback.endpoint(),
    maxAttempts: options.maxAttempts ?? 3,
  });
}

function entry(name: string) {
  return {
    ARN: `${ARN}:${name}-AbC123`,
    Name: name,
    VersionId: `version-of-${name}`,
    SecretString: `value of ${name}`,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 1_790_000_000.5,
  };
}

/** Answers BatchGetSecretValue for every id asked, the way Secrets Manager does. */
function answering(request: Received): Reply {
  const { SecretIdList: ids } = JSON.parse(request.body) as { SecretIdList: string[] };
  return {
    status: 200,
    body: JSON.stringify({
      SecretValues: ids.filter((id) => !id.startsWith('missing')).map(entry),
      Errors: ids
        .filter((id) => id.startsWith('missing'))
        .map((id) => ({
          SecretId: id,
          ErrorCode: 'ResourceNotFoundException',
          Message: "Secrets Manager can't find the specified secret.",
        })),
    }),
  };
}

describe('the direct BatchGetSecretValue', () => {
  it('sends the request the SDK documents, signed so the SDK’s signer agrees', async () => {
    loopback.answer(answering);
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    const answer = await read({ SecretIdList: ['app/a', 'app/b'] }, undefined);
    await read.close();

    expect(loopback.received()).toHaveLength(1);
    const [request] = loopback.received();
    if (request === undefined) throw new Error('no request');
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request.headers['x-amz-target']).toBe('secretsmanager.BatchGetSecretValue');
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=[^,]*host[^,]*x-amz-target[^,]*, Signature=[0-9a-f]{64}$/,
    );
    expect(JSON.parse(request.body)).toEqual({ SecretIdList: ['app/a', 'app/b'] });
    expect(await signatureHolds(sdk, 'secretsmanager', request)).toBe(true);
    expect(answer?.SecretValues?.map((value) => value.Name)).toEqual(['app/a', 'app/b']);
  });

  it('a tampered request fails the signature check (the check can fail)', async () => {
    loopback.answer(answering);
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    await read({ SecretIdList: ['app/a'] }, undefined);
    await read.close();

    const [request] = loopback.received();
    if (request === undefined) throw new Error('no request');
    expect(
      await signatureHolds(sdk, 'secretsmanager', {
        ...request,
        body: '{"SecretIdList":["app/b"]}',
      }),
    ).toBe(false);
  });

  it('passes NextToken on, and the store follows it across pages', async () => {
    loopback.answer((request) => {
      const { SecretIdList: ids, NextToken: token } = JSON.parse(request.body) as {
        SecretIdList: string[];
        NextToken?: string;
      };
      return token === undefined
        ? {
            status: 200,
            body: JSON.stringify({ SecretValues: [entry(ids[0] ?? '')], NextToken: 'page-2' }),
          }
        : { status: 200, body: JSON.stringify({ SecretValues: ids.slice(1).map(entry) }) };
    });
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });
    const store = createSecretsManagerStore({ client: sdk, directRead: read });

    const results = await store.readBatch(['first', 'second']);
    await read.close();

    // Both pages went the direct way: the SDK would add its own headers.
    expect(told).toEqual([]);
    expect(loopback.received().map((r) => r.headers['amz-sdk-invocation-id'])).toEqual([
      undefined,
      undefined,
    ]);
    expect(loopback.received().map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { SecretIdList: ['first', 'second'] },
      { SecretIdList: ['first', 'second'], NextToken: 'page-2' },
    ]);
    expect([...results.values()].map((r) => r.ok && r.secret.versionId)).toEqual([
      'version-of-first',
      'version-of-second',
    ]);
  });

  it('reads the same results as the SDK, per-secret errors included', async () => {
    loopback.answer(answering);
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });
    const ids = ['app/a', `${ARN}:app/b-AbC123`, 'missing/c'];

    const direct = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch(
      ids,
    );
    const throughSdk = await createSecretsManagerStore({ client: sdk }).readBatch(ids);
    await read.close();

    expect(told).toEqual([]);
    expect(
      loopback.received().map((r) => r.headers['amz-sdk-invocation-id'] === undefined),
    ).toEqual([true, false]);
    expect(direct).toEqual(throughSdk);
    expect(direct.get('missing/c')).toMatchObject({
      ok: false,
      failure: { code: 'ResourceNotFoundException' },
    });
  });
});

describe('an endpoint with a path', () => {
  it('posts to the path with a trailing slash, as the SDK does, and signs it', async () => {
    loopback.answer(answering);
    const sdk = new SecretsManagerClient({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      endpoint: `${loopback.endpoint()}/secrets-manager?stage=blue`,
    });
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    await read({ SecretIdList: ['app/a'] }, undefined);
    await createSecretsManagerStore({ client: sdk }).readBatch(['app/a']);
    await read.close();

    expect(told).toEqual([]);
    const [direct, throughSdk] = loopback.received();
    expect(direct?.url).toBe('/secrets-manager/');
    expect(direct?.url).toBe(throughSdk?.url);
    if (direct !== undefined)
      expect(await signatureHolds(sdk, 'secretsmanager', direct)).toBe(true);
  });
});

describe('what the direct read gives back to the SDK', () => {
  it('an error status: the SDK sends it again and names the error; the next calls go to the SDK for a while', async () => {
    loopback.answer(() => ({
      status: 400,
      body: JSON.stringify({ __type: 'AccessDeniedException', Message: 'not allowed' }),
    }));
    const sdk = client();
    const told: string[] = [];
    let clock = 1_000_000;
    const read = createDirectBatchRead(sdk, {
      onFallback: (reason) => told.push(reason),
      cooldownMs: 60_000,
      now: () => clock,
    });

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    const again = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);

    expect(results.get('app/a')).toEqual({
      ok: false,
      failure: { secretId: 'app/a', code: 'AccessDeniedException', message: 'not allowed' },
    });
    expect(again).toEqual(results);
    // The first read: the direct attempt, then the SDK's (AccessDenied is not retried);
    // the second, inside the cooldown: the SDK's alone.
    expect(
      loopback.received().map((r) => r.headers['amz-sdk-invocation-id'] === undefined),
    ).toEqual([true, false, false]);
    expect(told).toEqual(['HTTP 400']);

    // After the cooldown the direct path is tried again.
    clock += 60_000;
    loopback.answer(answering);
    loopback.forget();
    const later = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    expect(later.get('app/a')?.ok).toBe(true);
    expect(loopback.received().map((r) => r.headers['amz-sdk-invocation-id'])).toEqual([undefined]);
    await read.close();
  });

  it('throttling: one direct attempt, then the SDK’s own retries', async () => {
    let calls = 0;
    loopback.answer((request) => {
      calls += 1;
      return calls <= 2
        ? {
            status: 400,
            body: JSON.stringify({ __type: 'ThrottlingException', Message: 'Rate exceeded' }),
          }
        : answering(request);
    });
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    await read.close();

    expect(results.get('app/a')?.ok).toBe(true);
    expect(loopback.received()).toHaveLength(3);
  }, 15_000);

  it('an answer of another shape goes to the SDK', async () => {
    let calls = 0;
    loopback.answer((request) => {
      calls += 1;
      return calls === 1
        ? { status: 200, body: JSON.stringify({ SecretValues: 'not a list' }) }
        : answering(request);
    });
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    await read.close();

    expect(results.get('app/a')?.ok).toBe(true);
    expect(told).toEqual(['an answer of another shape']);
  });

  it('a refused connection: the SDK’s network error names it', async () => {
    const sdk = new SecretsManagerClient({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
    });
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    await read.close();

    expect(results.get('app/a')).toMatchObject({ ok: false, failure: { code: 'ECONNREFUSED' } });
    expect(told).toEqual(['network: ECONNREFUSED']);
  });

  it('a passed deadline sends nothing and fails as the SDK fails it', async () => {
    loopback.answer(answering);
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch(
      ['app/a'],
      { signal: AbortSignal.abort() },
    );
    await read.close();

    expect(results.get('app/a')).toMatchObject({ ok: false, failure: { code: 'AbortError' } });
    expect(loopback.received()).toHaveLength(0);
    expect(told).toEqual([]);
  });
});

describe('parseAnswer', () => {
  it.each([
    ['not JSON', 'nope'],
    ['an array', '[]'],
    ['SecretValues not a list', '{"SecretValues":{}}'],
    ['a value not an object', '{"SecretValues":[1]}'],
    ['a SecretString not a string', '{"SecretValues":[{"Name":"a","SecretString":5}]}'],
    ['an error code not a string', '{"Errors":[{"SecretId":"a","ErrorCode":7}]}'],
    ['NextToken not a string', '{"SecretValues":[],"NextToken":3}'],
  ])('refuses %s', (_name, text) => {
    expect(parseAnswer(text)).toBeUndefined();
  });

  it('takes an empty answer and a null NextToken', () => {
    expect(parseAnswer('{}')).toEqual({ SecretValues: [], Errors: [] });
    expect(parseAnswer('{"SecretValues":[],"Errors":[],"NextToken":null}')).toEqual({
      SecretValues: [],
      Errors: [],
    });
  });
});
