import type { TestProject } from 'vitest/node';
import { startMoto } from '../../tools/local-stack/moto.js';
import { startOpenBao } from '../../tools/local-stack/openbao.js';
import { startPostgres } from '../../tools/local-stack/postgres.js';
import {
  awsEnv,
  type StackEnv,
  startAll,
  stopAll,
  vaultEnv,
} from '../../tools/local-stack/stack.js';

/**
 * vitest globalSetup: one local stack for the whole run, handed to tests through
 * `provide('stack', env)` (read it with `stackEnv()` from test/support/stack-env.ts).
 *
 * Pointing the suite at existing services instead:
 * - VAULT_ADDR and VAULT_TOKEN set → that Vault is used and OpenBao is not started
 *   (VAULT_UNSEAL_KEY is passed on when set, else empty; tests that seal start their own).
 * - AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_SQS and
 *   AWS_ENDPOINT_URL_EVENTBRIDGE all set →
 *   those endpoints are used with AWS_REGION / AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the
 *   environment (defaults: us-east-1, test, test) and moto is not started. If only some are
 *   set, moto is started and serves the missing ones.
 * - DATABASE_URL set → PostgreSQL is not started.
 * The suite itself never reads these variables; it only reads what is provided here.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { env } = process;
  const externalVault = Boolean(env.VAULT_ADDR && env.VAULT_TOKEN);
  const externalAws = Boolean(
    env.AWS_ENDPOINT_URL_SECRETS_MANAGER &&
      env.AWS_ENDPOINT_URL_SNS &&
      env.AWS_ENDPOINT_URL_SQS &&
      env.AWS_ENDPOINT_URL_EVENTBRIDGE,
  );
  const externalDatabase = Boolean(env.DATABASE_URL);

  const [openbao, moto, postgres] = await startAll([
    externalVault ? Promise.resolve(undefined) : startOpenBao(),
    externalAws ? Promise.resolve(undefined) : startMoto(),
    externalDatabase ? Promise.resolve(undefined) : startPostgres(),
  ]);

  // moto takes any credentials; real endpoints get the ones from the environment.
  const anyExternalAws = Boolean(
    env.AWS_ENDPOINT_URL_SECRETS_MANAGER ||
      env.AWS_ENDPOINT_URL_SNS ||
      env.AWS_ENDPOINT_URL_SQS ||
      env.AWS_ENDPOINT_URL_EVENTBRIDGE,
  );
  const local = awsEnv(moto?.endpoint ?? '');
  const stack: StackEnv = {
    ...(openbao
      ? vaultEnv(openbao)
      : {
          VAULT_ADDR: env.VAULT_ADDR ?? '',
          VAULT_TOKEN: env.VAULT_TOKEN ?? '',
          VAULT_UNSEAL_KEY: env.VAULT_UNSEAL_KEY ?? '',
        }),
    AWS_REGION: (anyExternalAws && env.AWS_REGION) || local.AWS_REGION,
    AWS_DEFAULT_REGION:
      (anyExternalAws && (env.AWS_DEFAULT_REGION || env.AWS_REGION)) || local.AWS_DEFAULT_REGION,
    AWS_ACCESS_KEY_ID: (anyExternalAws && env.AWS_ACCESS_KEY_ID) || local.AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY:
      (anyExternalAws && env.AWS_SECRET_ACCESS_KEY) || local.AWS_SECRET_ACCESS_KEY,
    AWS_ENDPOINT_URL_SECRETS_MANAGER:
      env.AWS_ENDPOINT_URL_SECRETS_MANAGER || local.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    AWS_ENDPOINT_URL_SNS: env.AWS_ENDPOINT_URL_SNS || local.AWS_ENDPOINT_URL_SNS,
    AWS_ENDPOINT_URL_SQS: env.AWS_ENDPOINT_URL_SQS || local.AWS_ENDPOINT_URL_SQS,
    AWS_ENDPOINT_URL_DYNAMODB: env.AWS_ENDPOINT_URL_DYNAMODB || local.AWS_ENDPOINT_URL_DYNAMODB,
    AWS_ENDPOINT_URL_EVENTBRIDGE:
      env.AWS_ENDPOINT_URL_EVENTBRIDGE || local.AWS_ENDPOINT_URL_EVENTBRIDGE,
    AWS_ENDPOINT_URL_S3: env.AWS_ENDPOINT_URL_S3 || local.AWS_ENDPOINT_URL_S3,
    AWS_ENDPOINT_URL_STS: env.AWS_ENDPOINT_URL_STS || local.AWS_ENDPOINT_URL_STS,
    DATABASE_URL: postgres?.url ?? env.DATABASE_URL ?? '',
  };
  const external = [
    externalVault && `Vault ${stack.VAULT_ADDR}`,
    externalAws && 'the AWS endpoints from AWS_ENDPOINT_URL_*',
    externalDatabase && 'DATABASE_URL',
  ].filter(Boolean);
  if (external.length > 0) console.info(`[stack] using external ${external.join(', ')}`);
  project.provide('stack', stack);

  return () => stopAll([openbao, moto, postgres]);
}
