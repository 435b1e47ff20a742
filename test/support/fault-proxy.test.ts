import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FaultProxy, rateLimited, startFaultProxy } from './fault-proxy.js';
import { stackEnv, uniqueName } from './stack-env.js';

const env = stackEnv();
const awsConfig = {
  region: env.AWS_REGION,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
};

/** Vault through the proxy (or directly), answering status and parsed body. */
async function vault(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  options: { body?: unknown; signal?: AbortSignal } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: unknown }> {
  const response = await request(`${baseUrl}${path}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' },
    body: options.body === undefined ? null : JSON.stringify(options.body),
    signal: options.signal ?? null,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
  };
}

/** Whether a KV v2 secret exists, asked of Vault directly (not through the proxy). */
async function kvExists(name: string): Promise<boolean> {
  const { status } = await vault(env.VAULT_ADDR, 'GET', `/v1/secret/data/${name}`);
  expect([200, 404]).toContain(status);
  return status === 200;
}

describe('fault proxy in front of OpenBao', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await startFaultProxy(env.VAULT_ADDR);
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('forwards requests unchanged and records method, path and outcome', async () => {
    const viaProxy = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');

    expect(viaProxy.status).toBe(200);
    expect(viaProxy.body).toMatchObject({ data: { policies: ['root'] } });
    expect(proxy.requests).toEqual([
      expect.objectContaining({
        method: 'GET',
        path: '/v1/auth/token/lookup-self',
        target: undefined,
        faulted: false,
        outcome: 'forwarded',
        status: 200,
      }),
    ]);
  });

  it('answers matching requests with the given status, body and headers for the next N only', async () => {
    const fault = proxy.addFault({
      match: { method: 'GET', path: /lookup-self/ },
      status: 503,
      body: { errors: ['Vault is sealed'] },
      headers: { 'x-fault': 'injected' },
      times: 2,
    });

    const first = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');
    const health = await vault(proxy.url, 'GET', '/v1/sys/health');
    const second = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');
    const third = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');

    expect(first).toMatchObject({
      status: 503,
      headers: { 'x-fault': 'injected', 'content-type': 'application/json' },
      body: { errors: ['Vault is sealed'] },
    });
    expect(health.status).toBe(200);
    expect(second.status).toBe(503);
    expect(third.status).toBe(200);
    expect(fault.applied).toBe(2);
    expect(proxy.requests.map((r) => [r.path, r.faulted, r.outcome])).toEqual([
      ['/v1/auth/token/lookup-self', true, 'fault-status'],
      ['/v1/sys/health', false, 'forwarded'],
      ['/v1/auth/token/lookup-self', true, 'fault-status'],
      ['/v1/auth/token/lookup-self', false, 'forwarded'],
    ]);
  });

  it('answers 429 with Retry-After for rate limiting', async () => {
    proxy.addFault(rateLimited(7, { match: { path: '/v1/sys/health' }, times: 1 }));

    const limited = await vault(proxy.url, 'GET', '/v1/sys/health?standbyok=true');
    const next = await vault(proxy.url, 'GET', '/v1/sys/health?standbyok=true');

    expect(limited).toMatchObject({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { errors: ['rate limit quota exceeded'] },
    });
    expect(next.status).toBe(200);
  });

  it('adds latency before forwarding', async () => {
    proxy.addFault({ match: { path: '/v1/sys/health' }, latencyMs: 400 });

    const startedAt = performance.now();
    const slow = await vault(proxy.url, 'GET', '/v1/sys/health');
    const elapsedMs = performance.now() - startedAt;

    expect(slow.status).toBe(200);
    expect(elapsedMs).toBeGreaterThanOrEqual(390);
  });

  it('drops the connection before forwarding: the upstream never sees the request', async () => {
    const name = uniqueName('drop-before');
    proxy.addFault({ match: { method: 'POST' }, drop: 'before-forward', times: 1 });

    const write = vault(proxy.url, 'POST', `/v1/secret/data/${name}`, { body: { data: { a: 1 } } });

    await expect(write).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(await kvExists(name)).toBe(false);
    expect(proxy.requests.at(-1)?.outcome).toBe('dropped-before-forward');
  });

  it('drops the connection after forwarding: the upstream acted, the client never hears', async () => {
    const name = uniqueName('drop-after');
    proxy.addFault({ match: { method: 'POST' }, drop: 'after-forward', times: 1 });

    const write = vault(proxy.url, 'POST', `/v1/secret/data/${name}`, { body: { data: { a: 1 } } });

    await expect(write).rejects.toMatchObject({ code: 'UND_ERR_SOCKET' });
    expect(await kvExists(name)).toBe(true);
    expect(proxy.requests.at(-1)?.outcome).toBe('dropped-after-forward');
  });

  it('holds the answer past the client deadline while the upstream processes the request', async () => {
    const name = uniqueName('slow-answer');
    proxy.addFault({ match: { method: 'POST' }, responseDelayMs: 1_500 });

    const write = vault(proxy.url, 'POST', `/v1/secret/data/${name}`, {
      body: { data: { a: 1 } },
      signal: AbortSignal.timeout(200),
    });

    await expect(write).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await kvExists(name)).toBe(true);
  });

  it('applies a fault to the given fraction of matching requests', async () => {
    await proxy.close();
    const draws = [0.1, 0.9, 0.2, 0.7];
    proxy = await startFaultProxy(env.VAULT_ADDR, { random: () => draws.shift() ?? 1 });
    proxy.addFault({ match: { path: '/v1/sys/health' }, rate: 0.5, status: 500 });

    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) {
      statuses.push((await vault(proxy.url, 'GET', '/v1/sys/health')).status);
    }

    expect(statuses).toEqual([500, 200, 500, 200]);
  });

  it('stops faulting after clearFaults or remove()', async () => {
    const removed = proxy.addFault({ match: { path: '/v1/sys/health' }, status: 500 });
    proxy.addFault({ match: { path: '/v1/auth/token/lookup-self' }, status: 502 });

    const before = await vault(proxy.url, 'GET', '/v1/sys/health');
    removed.remove();
    const afterRemove = await vault(proxy.url, 'GET', '/v1/sys/health');
    const otherBefore = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');
    proxy.clearFaults();
    const otherAfter = await vault(proxy.url, 'GET', '/v1/auth/token/lookup-self');

    expect([before.status, afterRemove.status, otherBefore.status, otherAfter.status]).toEqual([
      500, 200, 502, 200,
    ]);
  });
});

describe('fault proxy in front of moto', () => {
  let proxy: FaultProxy;
  beforeEach(async () => {
    proxy = await startFaultProxy(env.AWS_ENDPOINT_URL_SECRETS_MANAGER);
  });
  afterEach(async () => {
    await proxy.close();
  });

  it('matches Secrets Manager operations by X-Amz-Target', async () => {
    const secretsManager = new SecretsManagerClient({ ...awsConfig, endpoint: proxy.url });
    const name = uniqueName('target');
    proxy.addFault({
      match: { target: 'secretsmanager.GetSecretValue' },
      status: 400,
      body: { __type: 'ResourceNotFoundException', Message: 'injected by the fault proxy' },
      times: 1,
    });

    await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    const missing = secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    await expect(missing).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'injected by the fault proxy',
    });
    const found = await secretsManager.send(new GetSecretValueCommand({ SecretId: name }));

    expect(found.SecretString).toBe('v1');
    expect(proxy.requests.map((r) => [r.target, r.outcome, r.status])).toEqual([
      ['secretsmanager.CreateSecret', 'forwarded', 200],
      ['secretsmanager.GetSecretValue', 'fault-status', 400],
      ['secretsmanager.GetSecretValue', 'forwarded', 200],
    ]);
  });

  it('matches SNS operations by the form Action', async () => {
    const sns = new SNSClient({ ...awsConfig, endpoint: proxy.url });
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: uniqueName('target') }));
    proxy.addFault({
      match: { target: 'Publish' },
      status: 404,
      headers: { 'content-type': 'text/xml' },
      body:
        '<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>' +
        '<Message>Topic does not exist</Message></Error><RequestId>x</RequestId></ErrorResponse>',
      times: 1,
    });

    const publish = sns.send(new PublishCommand({ TopicArn, Message: 'hello' }));

    await expect(publish).rejects.toMatchObject({
      name: 'NotFoundException',
      message: 'Topic does not exist',
    });
    expect(proxy.requests.map((r) => [r.target, r.outcome])).toEqual([
      ['CreateTopic', 'forwarded'],
      ['Publish', 'fault-status'],
    ]);
  });

  it('lets the SDK retry a write whose answer was lost, with the same ClientRequestToken', async () => {
    const secretsManager = new SecretsManagerClient({ ...awsConfig, endpoint: proxy.url });
    const name = uniqueName('lost-answer');
    await secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: 'v1' }));
    proxy.addFault({
      match: { target: 'secretsmanager.PutSecretValue' },
      drop: 'after-forward',
      times: 1,
    });

    const put = await secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }),
    );
    const versions = await secretsManager.send(new ListSecretVersionIdsCommand({ SecretId: name }));

    const puts = proxy.requests.filter((r) => r.target === 'secretsmanager.PutSecretValue');
    expect(puts.map((r) => r.outcome)).toEqual(['dropped-after-forward', 'forwarded']);
    expect(puts[0]?.headers['amz-sdk-request']).toBe('attempt=1; max=3');
    expect(puts[1]?.headers['amz-sdk-request']).toMatch(/^attempt=2; max=3/);
    // The retry resends the same ClientRequestToken, so moto keeps one version for it.
    expect(puts[1]?.body).toBe(puts[0]?.body);
    expect(versions.Versions).toHaveLength(2);
    expect(versions.Versions?.map((v) => v.VersionId)).toContain(put.VersionId);
  });
});
