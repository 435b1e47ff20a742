import {
  ResourceExistsException,
  ResourceNotFoundException,
  type SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretStoreError } from '../../../functions/aws/errors.js';
import {
  createSecretProvisioning,
  type ProvisioningWrite,
  SecretProvisioningError,
} from '../../../functions/aws/secret-provisioning.js';

/*
 * What each call sends and how each failure reads, against a client whose
 * `send` answers from a function. test/integration/vault-bootstrap.test.ts
 * runs the same calls against moto through the bootstrap.
 */

type Sent = { readonly command: string; readonly input: Record<string, unknown> };

function provisioningAnswering(answer: (command: string) => unknown) {
  const sent: Sent[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      sent.push({ command: command.constructor.name, input: command.input });
      const output = answer(command.constructor.name);
      if (output instanceof Error) throw output;
      return output;
    },
  } as unknown as SecretsManagerClient;
  return { provisioning: createSecretProvisioning({ client }), sent };
}

const status400 = { $metadata: { httpStatusCode: 400 } };

/** IAM's refusal: not modelled by Secrets Manager, so the SDK answers its base exception. */
function accessDenied(message: string): SecretsManagerServiceException {
  return new SecretsManagerServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    message,
    ...status400,
  });
}

const NEW_SECRET: ProvisioningWrite = {
  secretId: 'vault/billing-api/token',
  value: '{"token":"hvs.PLANTED-TOKEN"}',
  exists: false,
  clientRequestToken: '0c9a4c1e-4ad5-8d1f-9b7e-3f3c2e1d0a99',
  target: 'billing-api',
  description: 'vault-renewer: Vault token of billing-api',
};

describe('SecretProvisioning.read', () => {
  it('answers the SecretString of a secret that exists', async () => {
    const { provisioning, sent } = provisioningAnswering(() => ({ SecretString: '{"a":1}' }));

    expect(await provisioning.read('vault/app/token')).toEqual({ exists: true, text: '{"a":1}' });
    expect(sent).toEqual([
      { command: 'GetSecretValueCommand', input: { SecretId: 'vault/app/token' } },
    ]);
  });

  it('answers exists without text for a secret with no SecretString', async () => {
    const { provisioning } = provisioningAnswering(() => ({ SecretBinary: new Uint8Array([1]) }));

    expect(await provisioning.read('vault/app/token')).toEqual({ exists: true });
  });

  it('answers a missing secret as not existing instead of failing', async () => {
    const { provisioning } = provisioningAnswering(
      () => new ResourceNotFoundException({ message: 'not found', ...status400 }),
    );

    expect(await provisioning.read('vault/app/token')).toEqual({ exists: false });
  });

  it('fails any other error as SecretProvisioningError naming the secret and AWS code', async () => {
    const cause = accessDenied('not allowed');
    const { provisioning } = provisioningAnswering(() => cause);

    const error = await provisioning.read('vault/app/token').catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(SecretStoreError);
    expect(error).toMatchObject({
      name: 'SecretProvisioningError',
      message: 'cannot read secret vault/app/token: AccessDeniedException: not allowed',
      secretId: 'vault/app/token',
      code: 'AccessDeniedException',
      httpStatusCode: 400,
      cause,
    });
  });
});

describe('SecretProvisioning.write', () => {
  it('creates a missing secret with its description, KMS key, tags and request token', async () => {
    const { provisioning, sent } = provisioningAnswering(() => ({}));

    const outcome = await provisioning.write({ ...NEW_SECRET, kmsKeyId: 'alias/renewer' });

    expect(outcome).toBe('created');
    expect(sent).toEqual([
      {
        command: 'CreateSecretCommand',
        input: {
          Name: NEW_SECRET.secretId,
          SecretString: NEW_SECRET.value,
          ClientRequestToken: NEW_SECRET.clientRequestToken,
          Description: NEW_SECRET.description,
          KmsKeyId: 'alias/renewer',
          Tags: [
            { Key: 'managed-by', Value: 'vault-renewer' },
            { Key: 'vault-renewer-target', Value: 'billing-api' },
          ],
        },
      },
    ]);
  });

  it('puts a new version of a secret that exists, under the same request token', async () => {
    const { provisioning, sent } = provisioningAnswering(() => ({}));

    const outcome = await provisioning.write({ ...NEW_SECRET, exists: true });

    expect(outcome).toBe('updated');
    expect(sent.map((call) => call.command)).toEqual(['PutSecretValueCommand']);
    // No description, KMS key or tags: those belong to the secret, which exists already.
    expect(sent[0]?.input).toEqual({
      SecretId: NEW_SECRET.secretId,
      SecretString: NEW_SECRET.value,
      ClientRequestToken: NEW_SECRET.clientRequestToken,
    });
  });

  it('refuses to create a secret named by ARN, without a call', async () => {
    const { provisioning, sent } = provisioningAnswering(() => ({}));
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf';

    await expect(provisioning.write({ ...NEW_SECRET, secretId: arn })).rejects.toThrow(
      new SecretProvisioningError(
        arn,
        `secret ${arn} does not exist, and a secret cannot be created by ARN: create it, or name it in the config instead`,
      ),
    );
    expect(sent).toEqual([]);
  });

  it('fails as SecretProvisioningError without the value, even if AWS echoes it', async () => {
    const cause = new ResourceExistsException({
      message: `exists with another value than ${NEW_SECRET.value}`,
      ...status400,
    });
    const { provisioning } = provisioningAnswering(() => cause);

    const error = await provisioning.write(NEW_SECRET).catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      name: 'SecretProvisioningError',
      code: 'ResourceExistsException',
      cause,
    });
    expect((error as Error).message).toBe(
      `cannot write secret ${NEW_SECRET.secretId}: ResourceExistsException: exists with another value than [REDACTED]`,
    );
  });
});

describe('SecretProvisioning.tag', () => {
  it('sends TagResource with the one tag', async () => {
    const { provisioning, sent } = provisioningAnswering(() => ({}));

    await provisioning.tag('vault/app/db', { key: 'vault-renewer:managed', value: 'true' });

    expect(sent).toEqual([
      {
        command: 'TagResourceCommand',
        input: {
          SecretId: 'vault/app/db',
          Tags: [{ Key: 'vault-renewer:managed', Value: 'true' }],
        },
      },
    ]);
  });

  it('fails as SecretProvisioningError naming the secret and AWS code', async () => {
    const { provisioning } = provisioningAnswering(() => accessDenied('no TagResource'));

    await expect(provisioning.tag('vault/app/db', { key: 'k', value: 'v' })).rejects.toThrow(
      'cannot tag secret vault/app/db: AccessDeniedException: no TagResource',
    );
  });
});
