import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  createDirectBatchGetItem,
  parseBatchGetItemAnswer,
} from '../../../functions/aws/direct-batch-get-item.js';
import { createDynamoDbIncidentStore } from '../../../functions/aws/dynamodb-incident-store.js';
import type { IncidentItem } from '../../../functions/core/incident-port.js';
import {
  CREDENTIALS,
  loopbackAws,
  type Received,
  type Reply,
  signatureHolds,
} from './loopback-aws.js';

/*
 * The direct BatchGetItem against a real HTTP server on loopback: what goes on
 * the wire (checked by signing the received request again with the SDK's own
 * signer), that the incident store reads the same items through it as through
 * the SDK, and that every answer it does not take goes to the SDK.
 */

const TABLE = 'vault-renewer-incidents';
const loopback = loopbackAws('application/x-amz-json-1.0');

function client(options: { maxAttempts?: number } = {}): DynamoDBClient {
  return new DynamoDBClient({
    region: 'eu-west-1',
    credentials: CREDENTIALS,
    endpoint: loopback.endpoint(),
    maxAttempts: options.maxAttempts ?? 3,
  });
}

/** Stored items: one target with an open incident, one whose incidents all closed. */
const STORED: Record<string, IncidentItem & { expiresAt?: number }> = {
  'target#billing': {
    scope: 'target#billing',
    incidents: {
      'lease-renew-failed/db': {
        severity: 'ERROR' as IncidentItem['incidents'][string]['severity'],
        openedAt: '2026-12-01T10:00:00.000Z',
        lastPublishedAt: '2026-12-01T10:00:00.000Z',
      },
    },
    version: 3,
  },
  'target#orders': { scope: 'target#orders', incidents: {}, version: 7, expiresAt: 1_799_999_999 },
};

type Keys = { Keys: Record<string, { S: string }>[] };

/** Answers BatchGetItem the way DynamoDB does: the items found, `unprocessed` keys handed back. */
function answering(unprocessed: readonly string[] = []) {
  return (request: Received): Reply => {
    const { RequestItems: asked } = JSON.parse(request.body) as {
      RequestItems: Record<string, Keys>;
    };
    const keys = (asked[TABLE]?.Keys ?? []).map((key) => key.scope?.S ?? '');
    const found = keys.filter(
      (scope) => STORED[scope] !== undefined && !unprocessed.includes(scope),
    );
    const left = keys.filter((scope) => unprocessed.includes(scope));
    return {
      status: 200,
      body: JSON.stringify({
        Responses: { [TABLE]: found.map((scope) => marshall(STORED[scope])) },
        UnprocessedKeys:
          left.length === 0
            ? {}
            : { [TABLE]: { Keys: left.map((scope) => ({ scope: { S: scope } })) } },
      }),
    };
  };
}

const viaSdk = (received: Received[]) =>
  received.map((request) => request.headers['amz-sdk-invocation-id'] !== undefined);

describe('the direct BatchGetItem', () => {
  it('sends the request the SDK documents, signed so the SDK’s signer agrees', async () => {
    loopback.answer(answering());
    const sdk = client();
    const read = createDirectBatchGetItem(sdk);

    const answer = await read(TABLE, [{ scope: { S: 'target#billing' } }], undefined);
    await read.close();

    const [request] = loopback.received();
    if (request === undefined) throw new Error('no request');
    expect(loopback.received()).toHaveLength(1);
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/');
    expect(request.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(request.headers['x-amz-target']).toBe('DynamoDB_20120810.BatchGetItem');
    expect(request.headers['x-amz-security-token']).toBe(CREDENTIALS.sessionToken);
    expect(request.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/dynamodb\/aws4_request, /,
    );
    expect(JSON.parse(request.body)).toEqual({
      RequestItems: { [TABLE]: { Keys: [{ scope: { S: 'target#billing' } }] } },
    });
    expect(await signatureHolds(sdk, 'dynamodb', request)).toBe(true);
    expect(await signatureHolds(sdk, 'dynamodb', { ...request, body: '{}' })).toBe(false);
    expect(answer?.Responses?.[TABLE]).toEqual([marshall(STORED['target#billing'])]);
  });

  it('the incident store reads the same items as through the SDK', async () => {
    loopback.answer(answering());
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchGetItem(sdk, { onFallback: (reason) => told.push(reason) });
    const scopes = ['target#billing', 'target#orders', 'target#quiet'];

    const direct = await createDynamoDbIncidentStore(sdk, TABLE, { directRead: read }).readBatch(
      scopes,
    );
    const directRequests = viaSdk(loopback.received());
    loopback.forget();
    const throughSdk = await createDynamoDbIncidentStore(sdk, TABLE).readBatch(scopes);
    await read.close();

    expect(told).toEqual([]);
    expect(directRequests).toEqual([false]);
    expect(viaSdk(loopback.received())).toEqual([true]);
    expect([...direct.keys()]).toEqual(['target#billing', 'target#orders']);
    expect(direct).toEqual(throughSdk);
  });

  it('an item left unprocessed once is read in the next round', async () => {
    let calls = 0;
    loopback.answer((request) => {
      calls += 1;
      return answering(calls === 1 ? ['target#orders'] : [])(request);
    });
    const sdk = client();
    const read = createDirectBatchGetItem(sdk);

    const items = await createDynamoDbIncidentStore(sdk, TABLE, { directRead: read }).readBatch([
      'target#billing',
      'target#orders',
    ]);
    await read.close();

    expect([...items.keys()]).toEqual(['target#billing', 'target#orders']);
    expect(items.get('target#orders')).toEqual({
      scope: 'target#orders',
      incidents: {},
      version: 7,
    });
    expect(items.get('target#billing')?.incidents).toEqual(STORED['target#billing']?.incidents);
    expect(viaSdk(loopback.received())).toEqual([false, false]);
  });
});

describe('what the direct BatchGetItem gives back to the SDK', () => {
  it('an error status: the SDK sends it again and names the error', async () => {
    loopback.answer(() => ({
      status: 400,
      body: JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#ResourceNotFoundException',
        message: 'Requested resource not found',
      }),
    }));
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchGetItem(sdk, { onFallback: (reason) => told.push(reason) });

    const reading = createDynamoDbIncidentStore(sdk, TABLE, { directRead: read }).readBatch([
      'target#billing',
    ]);
    await expect(reading).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await read.close();

    expect(viaSdk(loopback.received())).toEqual([false, true]);
    expect(told).toEqual(['HTTP 400']);
  });

  it('a binary attribute goes to the SDK, which decodes it', async () => {
    let calls = 0;
    loopback.answer((request) => {
      calls += 1;
      return calls === 1
        ? {
            status: 200,
            body: JSON.stringify({
              Responses: { [TABLE]: [{ scope: { S: 'target#billing' }, blob: { B: 'AAE=' } }] },
            }),
          }
        : answering()(request);
    });
    const sdk = client();
    const told: string[] = [];
    const read = createDirectBatchGetItem(sdk, { onFallback: (reason) => told.push(reason) });

    const items = await createDynamoDbIncidentStore(sdk, TABLE, { directRead: read }).readBatch([
      'target#billing',
    ]);
    await read.close();

    expect(items.get('target#billing')?.version).toBe(3);
    expect(told).toEqual(['an answer of another shape']);
  });

  it('the table picks the endpoint: an account in a table ARN is asked at its own endpoint', async () => {
    // No endpoint override: the SDK's rules choose; the dispatcher tells the origin.
    const sdk = new DynamoDBClient({
      region: 'eu-west-1',
      credentials: { ...CREDENTIALS, accountId: '111111111111' },
      maxAttempts: 1,
    });
    const told: string[] = [];
    const read = createDirectBatchGetItem(sdk, {
      onFallback: (reason) => told.push(reason),
      cooldownMs: 0,
      // A refused connection needs no network: the dispatcher never connects.
      dispatcher: refusingDispatcher((origin) => told.push(origin)),
    });

    await read('arn:aws:dynamodb:eu-west-1:222222222222:table/x', [], undefined);
    await read(TABLE, [], undefined);
    await read.close();

    expect(told.filter((entry) => entry.startsWith('https://'))).toEqual([
      'https://222222222222.ddb.eu-west-1.amazonaws.com',
      'https://111111111111.ddb.eu-west-1.amazonaws.com',
    ]);
  });
});

/** A dispatcher that fails every request at once, telling which origin it was for. */
function refusingDispatcher(seen: (origin: string) => void) {
  return {
    dispatch(
      options: { origin?: unknown },
      handler: { onResponseError?: (controller: unknown, error: Error) => void },
    ): boolean {
      seen(String(options.origin));
      handler.onResponseError?.(
        {},
        Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      );
      return true;
    },
  } as never;
}

describe('parseBatchGetItemAnswer', () => {
  it.each([
    ['not JSON', 'nope'],
    ['Responses not an object', '{"Responses":[]}'],
    ['items not a list', `{"Responses":{"${TABLE}":{}}}`],
    ['an attribute of two kinds', `{"Responses":{"${TABLE}":[{"a":{"S":"x","N":"1"}}]}}`],
    ['a number not a string', `{"Responses":{"${TABLE}":[{"a":{"N":1}}]}}`],
    ['NULL other than true', `{"Responses":{"${TABLE}":[{"a":{"NULL":false}}]}}`],
    ['a binary value', `{"Responses":{"${TABLE}":[{"a":{"B":"AAE="}}]}}`],
    ['a binary set in a map', `{"Responses":{"${TABLE}":[{"a":{"M":{"b":{"BS":["AAE="]}}}}]}}`],
    ['unprocessed keys not a list', `{"UnprocessedKeys":{"${TABLE}":{"Keys":{}}}}`],
  ])('refuses %s', (_name, text) => {
    expect(parseBatchGetItemAnswer(text)).toBeUndefined();
  });

  it('takes every other kind DynamoDB sends, nested', () => {
    const item = {
      s: { S: 'x' },
      n: { N: '1.5' },
      t: { BOOL: true },
      z: { NULL: true },
      ss: { SS: ['a'] },
      ns: { NS: ['1'] },
      l: { L: [{ S: 'y' }, { M: { k: { N: '2' } } }] },
    };
    expect(parseBatchGetItemAnswer(JSON.stringify({ Responses: { [TABLE]: [item] } }))).toEqual({
      Responses: { [TABLE]: [item] },
      UnprocessedKeys: {},
    });
  });
});
