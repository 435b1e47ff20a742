import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createDirectBatchRead, parseAnswer } from '../../../functions/aws/direct-batch-read.js';
import { createSecretsManagerStore } from '../../../functions/aws/secrets-manager-store.js';

/*
 * The direct read against a real HTTP server on loopback: what goes on the
 * wire (checked by signing the received request again with the SDK's own
 * signer), what it takes from an answer, and that every answer it does not
 * take goes to the SDK, which then behaves as it always has.
 */

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret';

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Reply = { status: number; body: string; headers?: Record<string, string> };

let server: Server;
let endpoint: string;
let received: Received[] = [];
let reply: (request: Received) => Reply = () => ({ status: 500, body: '{}' });

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(entry);
      const answer = reply(entry);
      response
        .writeHead(answer.status, {
          'content-type': 'application/x-amz-json-1.1',
          ...answer.headers,
        })
        .end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  endpoint = `http://127.0.0.1:${address.port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});
afterEach(() => {
  received = [];
});

function client(options: { maxAttempts?: number } = {}): SecretsManagerClient {
  return new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: CREDENTIALS,
    endpoint,
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

/** Signs the received request again with the SDK's signer and the same date. */
async function signatureHolds(sdk: SecretsManagerClient, request: Received): Promise<boolean> {
  const signer = await sdk.config.signer({
    name: 'sigv4',
    signingName: 'secretsmanager',
    signingRegion: 'eu-west-1',
    properties: {},
  });
  const authorization = String(request.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  // The body's hash is worked out again from the body received, not taken from its header.
  const headers = Object.fromEntries(
    signedNames
      .filter((name) => name !== 'x-amz-content-sha256')
      .map((name) => [name, String(request.headers[name])]),
  );
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const [hostname = '', port] = String(request.headers.host).split(':');
  const again = (await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: new URL(request.url, 'http://x').pathname,
      query: Object.fromEntries(new URL(request.url, 'http://x').searchParams),
      headers,
      body: request.body,
    } as never,
    { signingDate },
  )) as unknown as { headers: Record<string, string> };
  return again.headers.authorization === authorization;
}

describe('the direct BatchGetSecretValue', () => {
  it('sends the request the SDK documents, signed so the SDK’s signer agrees', async () => {
    reply = answering;
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    const answer = await read({ SecretIdList: ['app/a', 'app/b'] }, undefined);
    await read.close();

    expect(received).toHaveLength(1);
    const [request] = received;
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
    expect(await signatureHolds(sdk, request)).toBe(true);
    expect(answer?.SecretValues?.map((value) => value.Name)).toEqual(['app/a', 'app/b']);
  });

  it('a tampered request fails the signature check (the check can fail)', async () => {
    reply = answering;
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    await read({ SecretIdList: ['app/a'] }, undefined);
    await read.close();

    const [request] = received;
    if (request === undefined) throw new Error('no request');
    expect(await signatureHolds(sdk, { ...request, body: '{"SecretIdList":["app/b"]}' })).toBe(
      false,
    );
  });

  it('passes NextToken on, and the store follows it across pages', async () => {
    reply = (request) => {
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
    };
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });
    const store = createSecretsManagerStore({ client: sdk, directRead: read });

    const results = await store.readBatch(['first', 'second']);
    await read.close();

    // Both pages went the direct way: the SDK would add its own headers.
    expect(told).toEqual([]);
    expect(received.map((r) => r.headers['amz-sdk-invocation-id'])).toEqual([undefined, undefined]);
    expect(received.map((r) => JSON.parse(r.body) as unknown)).toEqual([
      { SecretIdList: ['first', 'second'] },
      { SecretIdList: ['first', 'second'], NextToken: 'page-2' },
    ]);
    expect([...results.values()].map((r) => r.ok && r.secret.versionId)).toEqual([
      'version-of-first',
      'version-of-second',
    ]);
  });

  it('reads the same results as the SDK, per-secret errors included', async () => {
    reply = answering;
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
    expect(received.map((r) => r.headers['amz-sdk-invocation-id'] === undefined)).toEqual([
      true,
      false,
    ]);
    expect(direct).toEqual(throughSdk);
    expect(direct.get('missing/c')).toMatchObject({
      ok: false,
      failure: { code: 'ResourceNotFoundException' },
    });
  });
});

describe('an endpoint with a path', () => {
  it('posts to the path with a trailing slash, as the SDK does, and signs it', async () => {
    reply = answering;
    const sdk = new SecretsManagerClient({
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      endpoint: `${endpoint}/secrets-manager?stage=blue`,
    });
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    await read({ SecretIdList: ['app/a'] }, undefined);
    await createSecretsManagerStore({ client: sdk }).readBatch(['app/a']);
    await read.close();

    expect(told).toEqual([]);
    const [direct, throughSdk] = received;
    expect(direct?.url).toBe('/secrets-manager/');
    expect(direct?.url).toBe(throughSdk?.url);
    if (direct !== undefined) expect(await signatureHolds(sdk, direct)).toBe(true);
  });
});

describe('what the direct read gives back to the SDK', () => {
  it('an error status: the SDK sends it again and names the error; the next calls go to the SDK for a while', async () => {
    reply = () => ({
      status: 400,
      body: JSON.stringify({ __type: 'AccessDeniedException', Message: 'not allowed' }),
    });
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
    expect(received.map((r) => r.headers['amz-sdk-invocation-id'] === undefined)).toEqual([
      true,
      false,
      false,
    ]);
    expect(told).toEqual(['HTTP 400']);

    // After the cooldown the direct path is tried again.
    clock += 60_000;
    reply = answering;
    received = [];
    const later = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    expect(later.get('app/a')?.ok).toBe(true);
    expect(received.map((r) => r.headers['amz-sdk-invocation-id'])).toEqual([undefined]);
    await read.close();
  });

  it('throttling: one direct attempt, then the SDK’s own retries', async () => {
    let calls = 0;
    reply = (request) => {
      calls += 1;
      return calls <= 2
        ? {
            status: 400,
            body: JSON.stringify({ __type: 'ThrottlingException', Message: 'Rate exceeded' }),
          }
        : answering(request);
    };
    const sdk = client();
    const read = createDirectBatchRead(sdk);

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch([
      'app/a',
    ]);
    await read.close();

    expect(results.get('app/a')?.ok).toBe(true);
    expect(received).toHaveLength(3);
  }, 15_000);

  it('an answer of another shape goes to the SDK', async () => {
    let calls = 0;
    reply = (request) => {
      calls += 1;
      return calls === 1
        ? { status: 200, body: JSON.stringify({ SecretValues: 'not a list' }) }
        : answering(request);
    };
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
    reply = answering;
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchRead(sdk, { onFallback: (reason) => told.push(reason) });

    const results = await createSecretsManagerStore({ client: sdk, directRead: read }).readBatch(
      ['app/a'],
      { signal: AbortSignal.abort() },
    );
    await read.close();

    expect(results.get('app/a')).toMatchObject({ ok: false, failure: { code: 'AbortError' } });
    expect(received).toHaveLength(0);
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
