import {
  type BatchGetSecretValueCommandInput,
  type BatchGetSecretValueCommandOutput,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretWriteError } from '../../../functions/aws/errors.js';
import { createSecretsManagerStore } from '../../../functions/aws/secrets-manager-store.js';
import { SECRET_IDS_PER_READ } from '../../../functions/core/store-port.js';

/*
 * The store runs against a real SecretsManagerClient whose wire is replaced by
 * a first-step middleware answering from a table: these cases (binary
 * secrets, pages, a whole batch failing after the SDK's retries) are hard to
 * produce on moto. test/integration/aws-adapters.test.ts covers the real server.
 */

const ACCOUNT_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret';

type Answer = Omit<BatchGetSecretValueCommandOutput, '$metadata'>;
type WireCall = { readonly command: string; readonly input: Record<string, unknown> };

function clientAnswering(answer: (command: string, input: Record<string, unknown>) => unknown): {
  client: SecretsManagerClient;
  calls: WireCall[];
} {
  const client = new SecretsManagerClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const calls: WireCall[] = [];
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      calls.push({ command: context.commandName ?? '', input: structuredClone(input) });
      const output = await answer(context.commandName ?? '', input);
      return { output: { $metadata: {}, ...(output as object) }, response: {} } as never;
    },
    { step: 'initialize', name: 'answerFromTable', priority: 'high' },
  );
  return { client, calls };
}

function entry(name: string, value = `value of ${name}`) {
  return {
    ARN: `${ACCOUNT_ARN}:${name}-AbC123`,
    Name: name,
    VersionId: `version-of-${name}`,
    SecretString: value,
    VersionStages: ['AWSCURRENT'],
  };
}

/** Answers every requested name that does not start with `missing` with a value. */
function echoExisting(_command: string, input: Record<string, unknown>): Answer {
  const ids = (input as BatchGetSecretValueCommandInput).SecretIdList ?? [];
  return {
    SecretValues: ids.filter((id) => !id.startsWith('missing')).map((id) => entry(id)),
    Errors: ids
      .filter((id) => id.startsWith('missing'))
      .map((id) => ({
        SecretId: id,
        ErrorCode: 'ResourceNotFoundException',
        Message: "Secrets Manager can't find the specified secret.",
      })),
  };
}

describe('SecretsManagerStore.readBatch', () => {
  it('makes no call for no ids', async () => {
    const { client, calls } = clientAnswering(echoExisting);

    const results = await createSecretsManagerStore({ client }).readBatch([]);

    expect(results.size).toBe(0);
    expect(calls).toEqual([]);
  });

  it('dedups ids and reads them in one BatchGetSecretValue call, in the caller order', async () => {
    const { client, calls } = clientAnswering(echoExisting);
    const ids = Array.from({ length: SECRET_IDS_PER_READ }, (_, i) => `app-${i}`);

    const results = await createSecretsManagerStore({ client }).readBatch([...ids, ...ids]);

    expect(calls.map((call) => (call.input.SecretIdList as string[]).length)).toEqual([20]);
    expect(calls.every((call) => call.command === 'BatchGetSecretValueCommand')).toBe(true);
    expect([...results.keys()]).toEqual(ids);
    expect(results.get('app-19')).toEqual({
      ok: true,
      secret: { secretId: 'app-19', value: 'value of app-19', versionId: 'version-of-app-19' },
    });
  });

  it("refuses more ids than one call takes, before calling AWS (splitting is secret-reads.ts's job)", async () => {
    const { client, calls } = clientAnswering(echoExisting);
    const ids = Array.from({ length: SECRET_IDS_PER_READ + 1 }, (_, i) => `app-${i}`);

    await expect(createSecretsManagerStore({ client }).readBatch(ids)).rejects.toThrow(
      "readBatch takes at most 20 secret ids (BatchGetSecretValue's limit), got 21",
    );
    expect(calls).toEqual([]);
  });

  it('maps each answer back to the id the caller used: name, full ARN or ARN without suffix', async () => {
    const { client } = clientAnswering(() => ({
      // AWS answers with ARN and Name whatever form was asked for.
      SecretValues: [entry('by-name'), entry('by-arn'), entry('by-partial-arn')],
    }));
    const ids = ['by-name', `${ACCOUNT_ARN}:by-arn-AbC123`, `${ACCOUNT_ARN}:by-partial-arn`];

    const results = await createSecretsManagerStore({ client }).readBatch(ids);

    expect([...results.entries()].map(([id, result]) => [id, result.ok])).toEqual([
      [ids[0], true],
      [ids[1], true],
      [ids[2], true],
    ]);
    expect(results.get(ids[1] as string)).toMatchObject({
      secret: { secretId: ids[1], value: 'value of by-arn' },
    });
  });

  it('gives both ids the value when one secret is asked for by name and by ARN', async () => {
    const { client } = clientAnswering(() => ({ SecretValues: [entry('shared')] }));
    const arn = `${ACCOUNT_ARN}:shared-AbC123`;

    const results = await createSecretsManagerStore({ client }).readBatch(['shared', arn]);

    expect(results.get('shared')?.ok).toBe(true);
    expect(results.get(arn)?.ok).toBe(true);
  });

  it('keeps Errors[] as a failure of that id only', async () => {
    const { client } = clientAnswering(echoExisting);

    const results = await createSecretsManagerStore({ client }).readBatch(['app', 'missing-one']);

    expect(results.get('app')?.ok).toBe(true);
    expect(results.get('missing-one')).toEqual({
      ok: false,
      failure: {
        secretId: 'missing-one',
        code: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      },
    });
  });

  it('reports an id that came back neither as value nor as error as not found', async () => {
    const { client } = clientAnswering(() => ({ SecretValues: [entry('present')], Errors: [] }));

    const results = await createSecretsManagerStore({ client }).readBatch(['present', 'ghost']);

    expect(results.get('ghost')).toMatchObject({
      ok: false,
      failure: { secretId: 'ghost', code: 'ResourceNotFoundException' },
    });
  });

  it('reports a binary-only secret as BinarySecretUnsupported', async () => {
    const { SecretString: _dropped, ...binaryOnly } = entry('certificate');
    const { client } = clientAnswering(() => ({
      SecretValues: [{ ...binaryOnly, SecretBinary: new Uint8Array([1, 2, 3]) }],
    }));

    const results = await createSecretsManagerStore({ client }).readBatch(['certificate']);

    expect(results.get('certificate')).toMatchObject({
      ok: false,
      failure: { secretId: 'certificate', code: 'BinarySecretUnsupported' },
    });
  });

  it('fails every id of a call that failed', async () => {
    const { client, calls } = clientAnswering(() => {
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'ThrottlingException',
        $metadata: { httpStatusCode: 400 },
      });
    });
    const ids = ['app-1', 'app-2', 'app-3'];

    const results = await createSecretsManagerStore({ client }).readBatch(ids);

    expect(calls).toHaveLength(1);
    expect([...results].filter(([, result]) => !result.ok).map(([id]) => id)).toEqual(ids);
    expect(results.get('app-2')).toEqual({
      ok: false,
      failure: { secretId: 'app-2', code: 'ThrottlingException', message: 'Rate exceeded' },
    });
  });

  it('follows NextToken so a paged answer is never mistaken for missing secrets', async () => {
    const { client, calls } = clientAnswering((_command, input) =>
      input.NextToken === undefined
        ? { SecretValues: [entry('first')], NextToken: 'page-2' }
        : { SecretValues: [entry('second')] },
    );

    const results = await createSecretsManagerStore({ client }).readBatch(['first', 'second']);

    expect(calls.map((call) => call.input.NextToken)).toEqual([undefined, 'page-2']);
    expect(results.get('second')?.ok).toBe(true);
  });

  it('passes the AbortSignal to the SDK and turns the abort into a failure per id', async () => {
    // Nothing listens on port 9: without the signal the failure would be ECONNREFUSED.
    const client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const controller = new AbortController();
    controller.abort();

    const results = await createSecretsManagerStore({ client }).readBatch(['a', 'b'], {
      signal: controller.signal,
    });

    expect([...results.values()].map((result) => !result.ok && result.failure.code)).toEqual([
      'AbortError',
      'AbortError',
    ]);
  });
});

describe('SecretsManagerStore.write', () => {
  it('sends SecretString with the caller token and returns the VersionId and the ARN', async () => {
    const { client, calls } = clientAnswering((_command, input) => ({
      ARN: `${ACCOUNT_ARN}:app/token-AbC123`,
      VersionId: input.ClientRequestToken,
    }));

    const written = await createSecretsManagerStore({ client }).write({
      secretId: 'app/token',
      value: '{"token":"hvs.new"}',
      clientRequestToken: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
    });

    expect(written).toEqual({
      versionId: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
      arn: `${ACCOUNT_ARN}:app/token-AbC123`,
    });
    expect(calls).toEqual([
      {
        command: 'PutSecretValueCommand',
        input: {
          SecretId: 'app/token',
          SecretString: '{"token":"hvs.new"}',
          ClientRequestToken: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
        },
      },
    ]);
  });

  it('answers the token as VersionId and the id as ARN when the response omits them', async () => {
    const { client } = clientAnswering(() => ({}));

    const written = await createSecretsManagerStore({ client }).write({
      secretId: 'app/token',
      value: '{"token":"hvs.new"}',
      clientRequestToken: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
    });

    expect(written).toEqual({
      versionId: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
      arn: 'app/token',
    });
  });

  it('wraps a failure once as SecretWriteError without the value', async () => {
    const cause = Object.assign(new Error('Access to hvs.PLANTED denied'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const { client } = clientAnswering(() => {
      throw cause;
    });

    const writing = createSecretsManagerStore({ client }).write({
      secretId: 'app/token',
      value: 'hvs.PLANTED',
      clientRequestToken: '08362a78-f0ce-8fac-b84d-ba8f787a03f2',
    });

    await expect(writing).rejects.toBeInstanceOf(SecretWriteError);
    await expect(writing).rejects.toMatchObject({
      secretId: 'app/token',
      code: 'AccessDeniedException',
      cause,
      message:
        'PutSecretValue failed for secret "app/token": AccessDeniedException: Access to [REDACTED] denied',
    });
  });
});
