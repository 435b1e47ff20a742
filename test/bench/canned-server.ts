/**
 * The bench's stand-in for Vault, Secrets Manager and SNS: every request gets
 * a valid canned answer after a fixed delay, so the bench measures the
 * renewer's engine, not a server. It runs in its own process (see bench.ts)
 * so it never competes with the renewer for the event loop.
 *
 * Answers (all healthy, so a run is steady state):
 * - Vault `auth/token/renew-self` and `sys/leases/renew`: renewed for 1h;
 *   `auth/<mount>/role/<role>/secret-id/lookup`: a secret_id far from expiry.
 * - Secrets Manager `BatchGetSecretValue`: a token, AppRole or lease document
 *   per id, by the id's last path segment; `PutSecretValue` is counted.
 * - DynamoDB `BatchGetItem` on the incident table: no item (a healthy fleet has
 *   no open incident); `BatchGetItem` and `PutItem` are counted.
 * - SNS `Publish`: counted.
 * GET /__stats returns the counters as JSON.
 *
 *   BENCH_DELAY_MS=5 tsx test/bench/canned-server.ts   → prints `PORT <n>`
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const DELAY_MS = Number(process.env.BENCH_DELAY_MS ?? '5');
/** The accessor every canned renewal reports; lease documents name it as their owner. */
export const BENCH_ACCESSOR = 'bench-accessor';

const stats = {
  vault: 0,
  vaultRenewSelf: 0,
  vaultLeaseRenew: 0,
  vaultSecretIdLookup: 0,
  smBatchGet: 0,
  smSecretsServed: 0,
  smPut: 0,
  snsPublish: 0,
  ddbBatchGet: 0,
  ddbKeysRead: 0,
  ddbPut: 0,
  other: 0,
};

function documentFor(id: string): string {
  if (id.endsWith('/token')) {
    return JSON.stringify({ token: 's.bench-not-a-real-token', accessor: BENCH_ACCESSOR });
  }
  if (id.endsWith('/approle')) {
    return JSON.stringify({ role_id: 'bench-role', secret_id: 'bench-secret-id' });
  }
  return JSON.stringify({
    lease_id: `database/creds/bench/${id}`,
    lease_duration: 3600,
    renewable: true,
    data: { username: 'bench', password: 'bench-password' },
    token_accessor: BENCH_ACCESSOR,
  });
}

function answer(
  request: IncomingMessage,
  body: string,
): { status: number; type: string; text: string } {
  const url = request.url ?? '/';
  if (url.startsWith('/v1/')) {
    stats.vault += 1;
    if (url.startsWith('/v1/auth/token/renew-self')) {
      stats.vaultRenewSelf += 1;
      return json(200, {
        request_id: 'r',
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: null,
        warnings: null,
        auth: {
          client_token: '',
          accessor: BENCH_ACCESSOR,
          policies: ['default', 'bench'],
          token_policies: ['default', 'bench'],
          lease_duration: 3600,
          renewable: true,
          token_type: 'service',
          orphan: true,
        },
      });
    }
    if (url.startsWith('/v1/sys/leases/renew')) {
      stats.vaultLeaseRenew += 1;
      const { lease_id: leaseId } = JSON.parse(body || '{}') as { lease_id?: string };
      return json(200, {
        request_id: 'r',
        lease_id: leaseId ?? '',
        renewable: true,
        lease_duration: 3600,
        data: null,
        warnings: null,
        auth: null,
      });
    }
    if (/^\/v1\/auth\/[^/]+\/role\/[^/]+\/secret-id\/lookup$/.test(url)) {
      stats.vaultSecretIdLookup += 1;
      return json(200, {
        request_id: 'r',
        data: {
          expiration_time: '2099-01-01T00:00:00Z',
          secret_id_num_uses: 0,
          secret_id_ttl: 0,
        },
      });
    }
    stats.other += 1;
    return json(404, { errors: [] });
  }
  const target = request.headers['x-amz-target'];
  if (target === 'secretsmanager.BatchGetSecretValue') {
    stats.smBatchGet += 1;
    const { SecretIdList: ids = [] } = JSON.parse(body) as { SecretIdList?: string[] };
    stats.smSecretsServed += ids.length;
    return json(200, {
      SecretValues: ids.map((id) => ({
        ARN: `arn:aws:secretsmanager:us-east-1:123456789012:secret:${id}-AbCdEf`,
        Name: id,
        VersionId: '11111111-1111-4111-8111-111111111111',
        SecretString: documentFor(id),
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_790_000_000,
      })),
      Errors: [],
    });
  }
  if (target === 'secretsmanager.PutSecretValue') {
    stats.smPut += 1;
    const { SecretId: id, ClientRequestToken: version } = JSON.parse(body) as {
      SecretId: string;
      ClientRequestToken: string;
    };
    return json(200, { ARN: id, Name: id, VersionId: version, VersionStages: ['AWSCURRENT'] });
  }
  if (target === 'DynamoDB_20120810.BatchGetItem') {
    stats.ddbBatchGet += 1;
    const { RequestItems: items = {} } = JSON.parse(body) as {
      RequestItems?: Record<string, { Keys?: unknown[] }>;
    };
    const tables = Object.keys(items);
    stats.ddbKeysRead += tables.reduce((n, t) => n + (items[t]?.Keys?.length ?? 0), 0);
    return {
      status: 200,
      type: 'application/x-amz-json-1.0',
      text: JSON.stringify({
        Responses: Object.fromEntries(tables.map((t) => [t, []])),
        UnprocessedKeys: {},
      }),
    };
  }
  if (target === 'DynamoDB_20120810.PutItem') {
    stats.ddbPut += 1;
    return { status: 200, type: 'application/x-amz-json-1.0', text: '{}' };
  }
  if (body.includes('Action=Publish')) {
    stats.snsPublish += 1;
    return {
      status: 200,
      type: 'text/xml',
      text: '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
    };
  }
  stats.other += 1;
  return json(400, { __type: 'UnknownOperationException', message: 'not canned' });
}

function json(status: number, value: unknown) {
  return { status, type: 'application/json', text: JSON.stringify(value) };
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    if (request.url === '/__stats') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats));
      return;
    }
    const reply = answer(request, Buffer.concat(chunks).toString('utf8'));
    setTimeout(() => {
      response
        .writeHead(reply.status, {
          'content-type': reply.type,
          'content-length': Buffer.byteLength(reply.text),
        })
        .end(reply.text);
    }, DELAY_MS);
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${typeof address === 'object' && address !== null ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
