/**
 * Registers a rotation function with moto, so `RotateSecret` on the local
 * stack takes a `RotationLambdaARN` as it does on AWS. moto answers the
 * invocations itself without running any code (see moto-server.py); the
 * caller then invokes the rotation handler once per step, as Secrets Manager
 * would.
 */

import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeSecretCommand,
  RotateSecretCommand,
  type RotationRulesType,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { StackEnv } from './stack.js';

const ROLE_NAME = 'vault-renewer-local-rotate';
/** The name `osls deploy` gives the rotate function of the `local` stage. */
export const LOCAL_ROTATION_FUNCTION = 'vault-renewer-local-rotate';

/** A zip holding one empty file, the smallest code CreateFunction accepts. */
const EMPTY_ZIP = Buffer.from(
  '504b03041400000000009d4d815d00000000000000000000000008000000696e6465782e6a73' +
    '504b010214031400000000009d4d815d00000000000000000000000008000000000000000000' +
    '0000800100000000696e6465782e6a73504b0506000000000100010036000000260000000000',
  'hex',
);

/** The ARN of the local stack's rotation function, created on first use. */
export async function localRotationFunctionArn(env: StackEnv): Promise<string> {
  const config = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
  const iam = new IAMClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER });
  const lambda = new LambdaClient({ ...config, endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER });
  try {
    const existing = await lambda
      .send(new GetFunctionCommand({ FunctionName: LOCAL_ROTATION_FUNCTION }))
      .catch(() => undefined);
    const arn = existing?.Configuration?.FunctionArn;
    if (arn !== undefined) return arn;
    const role =
      (await iam.send(new GetRoleCommand({ RoleName: ROLE_NAME })).catch(() => undefined))?.Role ??
      (
        await iam.send(
          new CreateRoleCommand({
            RoleName: ROLE_NAME,
            AssumeRolePolicyDocument: JSON.stringify({
              Version: '2012-10-17',
              Statement: [
                {
                  Effect: 'Allow',
                  Principal: { Service: 'lambda.amazonaws.com' },
                  Action: 'sts:AssumeRole',
                },
              ],
            }),
          }),
        )
      ).Role;
    const created = await lambda.send(
      new CreateFunctionCommand({
        FunctionName: LOCAL_ROTATION_FUNCTION,
        Runtime: 'nodejs22.x',
        Role: role?.Arn,
        Handler: 'rotate.handler',
        Code: { ZipFile: EMPTY_ZIP },
      }),
    );
    if (created.FunctionArn === undefined) throw new Error('moto created no function ARN');
    return created.FunctionArn;
  } finally {
    iam.destroy();
    lambda.destroy();
  }
}

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

/**
 * What Secrets Manager does on "Rotate secret immediately": RotateSecret
 * stages the new version (AWSPENDING, no value yet) and stores the
 * configuration, then the rotation function runs once per step with the same
 * ClientRequestToken. moto cannot run the function, so `invoke` is called
 * here per step, in order, stopping at the first failure as AWS does.
 */
export async function rotateLikeSecretsManager(
  env: StackEnv,
  secretId: string,
  invoke: (event: {
    Step: string;
    SecretId: string;
    ClientRequestToken: string;
  }) => Promise<unknown>,
  rules: RotationRulesType = { AutomaticallyAfterDays: 30 },
): Promise<{ readonly versionId: string; readonly arn: string }> {
  const client = new SecretsManagerClient({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  try {
    const started = await client.send(
      new RotateSecretCommand({
        SecretId: secretId,
        RotationLambdaARN: await localRotationFunctionArn(env),
        RotationRules: rules,
      }),
    );
    const versionId = started.VersionId ?? '';
    const arn =
      started.ARN ??
      (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).ARN ??
      secretId;
    for (const step of ROTATION_STEPS) {
      await invoke({ Step: step, SecretId: arn, ClientRequestToken: versionId });
    }
    return { versionId, arn };
  } finally {
    client.destroy();
  }
}
