/**
 * What the jwt login relies on, pinned against the local stack: STS
 * GetWebIdentityToken answers a token of the shape AWS documents
 * (aws-facts "Added 2026-12-06": issuer, audience, subject, expiry, the
 * nested `https://sts.amazonaws.com/` claims with the request tags), signed
 * by a key the issuer's discovery publishes; and OpenBao's jwt auth method,
 * trusting that issuer, logs a token in only when the bound claims match.
 *
 * AWS's model names the disabled-federation error
 * `OutboundWebIdentityFederationDisabledException` (403); the reference
 * writes it without the suffix. The client accepts both.
 */

import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { GetWebIdentityTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { vaultApi } from '../../tools/local-stack/openbao.js';
import { localIssuerUrl } from '../../tools/local-stack/stack.js';
import { stackEnv, uniqueName } from '../support/stack-env.js';

const env = stackEnv();
const sts = new STSClient({
  region: env.AWS_REGION,
  endpoint: env.AWS_ENDPOINT_URL_STS,
  credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
});
const issuer = localIssuerUrl(env.AWS_ENDPOINT_URL_STS);
const ROLE_ARN = 'arn:aws:iam::123456789012:role/vault-renewer-local-renew';
const AWS_CLAIMS = 'https://sts.amazonaws.com/';
const TARGET_TAG = 'vault-renewer-target';

afterAll(() => sts.destroy());
afterEach(() => settings({ federation: true, throttle: 0, subject: ROLE_ARN }));

function settings(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${issuer}/settings`, { method: 'POST', body: JSON.stringify(body) });
}

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function tokenFor(target: string, audience = 'vault', algorithm = 'RS256') {
  const answer = await sts.send(
    new GetWebIdentityTokenCommand({
      Audience: [audience],
      SigningAlgorithm: algorithm,
      DurationSeconds: 300,
      Tags: [{ Key: TARGET_TAG, Value: target }],
    }),
  );
  return { jwt: answer.WebIdentityToken ?? '', expiration: answer.Expiration };
}

const vault = (method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown) =>
  vaultApi(env.VAULT_ADDR, method, `/v1/${path}`, {
    token: env.VAULT_TOKEN,
    ...(body === undefined ? {} : { body }),
  });

describe('STS GetWebIdentityToken on the local stack', () => {
  it.each(['RS256', 'ES384'])(
    'answers a %s token with the claims AWS documents, verifiable with the issuer keys',
    async (algorithm) => {
      const before = Math.floor(Date.now() / 1000);
      const { jwt, expiration } = await tokenFor('app', 'vault.example', algorithm);
      const [header = '', claims = '', signature = ''] = jwt.split('.');
      expect(decode(header)).toMatchObject({ alg: algorithm, typ: 'JWT' });
      const body = decode(claims);
      expect(body).toMatchObject({
        iss: issuer,
        aud: 'vault.example',
        sub: ROLE_ARN,
        [AWS_CLAIMS]: {
          aws_account: expect.stringMatching(/^\d{12}$/),
          source_region: env.AWS_REGION,
          request_tags: { [TARGET_TAG]: 'app' },
        },
      });
      expect(body.exp).toBe((body.iat as number) + 300);
      expect(body.iat as number).toBeGreaterThanOrEqual(before - 1);
      expect(typeof body.jti).toBe('string');
      expect(expiration?.getTime()).toBe((body.exp as number) * 1000);

      // Discovery names the issuer and its keys; the token's kid is one of them.
      const discovery = (await (
        await fetch(`${issuer}/.well-known/openid-configuration`)
      ).json()) as { issuer: string; jwks_uri: string };
      expect(discovery.issuer).toBe(issuer);
      const jwks = (await (await fetch(discovery.jwks_uri)).json()) as {
        keys: (Record<string, string> & { kid: string })[];
      };
      const key = jwks.keys.find((k) => k.kid === decode(header).kid);
      expect(key).toBeDefined();
      const verified = verify(
        algorithm === 'RS256' ? 'sha256' : 'sha384',
        Buffer.from(`${header}.${claims}`),
        {
          key: createPublicKey({ key: key as JsonWebKey, format: 'jwk' }),
          ...(algorithm === 'ES384' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
        },
        Buffer.from(signature, 'base64url'),
      );
      expect(verified).toBe(true);
    },
  );

  it('refuses with AWS codes when federation is off or the caller is throttled', async () => {
    await settings({ federation: false });
    await expect(tokenFor('app')).rejects.toMatchObject({
      name: 'OutboundWebIdentityFederationDisabledException',
      $metadata: { httpStatusCode: 403 },
    });
    // More than the SDK's three attempts: its retries give up, as they would on a busy STS.
    await settings({ federation: true, throttle: 5 });
    await expect(tokenFor('app')).rejects.toMatchObject({ name: 'Throttling' });
    await settings({ throttle: 0 });
    await expect(tokenFor('app')).resolves.toMatchObject({ jwt: expect.any(String) });
  });
});

describe("OpenBao's jwt auth trusting the local issuer", () => {
  it('logs in a token whose audience, subject and target tag match, and names the claim that refuses one', async () => {
    const mount = uniqueName('jwt');
    await vault('POST', `sys/auth/${mount}`, { type: 'jwt' });
    await vault('POST', `auth/${mount}/config`, { oidc_discovery_url: issuer });
    await vault('POST', `auth/${mount}/role/app`, {
      role_type: 'jwt',
      user_claim: 'sub',
      bound_audiences: ['vault.example'],
      bound_subject: ROLE_ARN,
      bound_claims: { [`/https:~1~1sts.amazonaws.com~1/request_tags/${TARGET_TAG}`]: 'app' },
      token_type: 'service',
      token_ttl: 3600,
      token_policies: ['default'],
    });
    const login = (jwt: string) =>
      vaultApi(env.VAULT_ADDR, 'POST', `/v1/auth/${mount}/login`, { body: { role: 'app', jwt } });

    const good = (await login((await tokenFor('app', 'vault.example')).jwt)) as {
      auth: { client_token: string; renewable: boolean; metadata: Record<string, string> };
    };
    expect(good.auth.client_token).toMatch(/^(hvs|s)\./);
    expect(good.auth.renewable).toBe(true);

    await expect(login((await tokenFor('other', 'vault.example')).jwt)).rejects.toThrow(
      /error validating claims: claim .*\/https:~1~1sts.amazonaws.com~1\/request_tags\/vault-renewer-target.* does not match/,
    );
    await expect(login((await tokenFor('app', 'elsewhere')).jwt)).rejects.toThrow(/audience/i);
    await settings({ subject: 'arn:aws:iam::123456789012:role/someone-else' });
    await expect(login((await tokenFor('app', 'vault.example')).jwt)).rejects.toThrow(/sub/i);
  });
});
