import { type Moto, startMoto } from './moto.js';
import { type OpenBao, startOpenBao, vaultApi } from './openbao.js';
import { type Postgres, startPostgres } from './postgres.js';

/** What a process needs to reach the local stack; the same names point it at real services. */
export interface StackEnv {
  readonly VAULT_ADDR: string;
  readonly VAULT_TOKEN: string;
  /** Empty when the Vault is external and its unseal key is unknown. */
  readonly VAULT_UNSEAL_KEY: string;
  readonly AWS_REGION: string;
  /** The AWS CLI v1 and older SDKs read only this one. */
  readonly AWS_DEFAULT_REGION: string;
  readonly AWS_ACCESS_KEY_ID: string;
  readonly AWS_SECRET_ACCESS_KEY: string;
  readonly AWS_ENDPOINT_URL_SECRETS_MANAGER: string;
  readonly AWS_ENDPOINT_URL_SNS: string;
  readonly AWS_ENDPOINT_URL_SQS: string;
  readonly AWS_ENDPOINT_URL_DYNAMODB: string;
  /** The SDK's name for EventBridge's endpoint (serviceId `EventBridge`). */
  readonly AWS_ENDPOINT_URL_EVENTBRIDGE: string;
  /** The targets object's bucket (config targetsObject). */
  readonly AWS_ENDPOINT_URL_S3: string;
  /** GetWebIdentityToken (jwt login); the local issuer lives under it (localIssuerUrl). */
  readonly AWS_ENDPOINT_URL_STS: string;
  readonly DATABASE_URL: string;
}

export const STACK_ENV_NAMES = [
  'VAULT_ADDR',
  'VAULT_TOKEN',
  'VAULT_UNSEAL_KEY',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ENDPOINT_URL_SNS',
  'AWS_ENDPOINT_URL_SQS',
  'AWS_ENDPOINT_URL_DYNAMODB',
  'AWS_ENDPOINT_URL_EVENTBRIDGE',
  'AWS_ENDPOINT_URL_S3',
  'AWS_ENDPOINT_URL_STS',
  'DATABASE_URL',
] as const satisfies readonly (keyof StackEnv)[];

/** moto accepts any credentials; these only satisfy the SDK's credential chain. */
export const LOCAL_AWS = {
  region: 'us-east-1',
  accessKeyId: 'test',
  secretAccessKey: 'test',
} as const;

export interface Stack {
  readonly env: StackEnv;
  readonly openbao: OpenBao;
  readonly moto: Moto;
  readonly postgres: Postgres;
  /** Stops every server and removes their directories. */
  stop(): Promise<void>;
}

/** Starts OpenBao, moto and PostgreSQL in parallel; if one fails the others are stopped. */
export async function startStack(): Promise<Stack> {
  const [openbao, moto, postgres] = await startAll([startOpenBao(), startMoto(), startPostgres()]);
  return {
    env: {
      ...vaultEnv(openbao),
      ...awsEnv(moto.endpoint),
      DATABASE_URL: postgres.url,
    },
    openbao,
    moto,
    postgres,
    stop: () => stopAll([openbao, moto, postgres]),
  };
}

export function vaultEnv(
  openbao: OpenBao,
): Pick<StackEnv, 'VAULT_ADDR' | 'VAULT_TOKEN' | 'VAULT_UNSEAL_KEY'> {
  return {
    VAULT_ADDR: openbao.addr,
    VAULT_TOKEN: openbao.rootToken,
    VAULT_UNSEAL_KEY: openbao.unsealKey,
  };
}

export function awsEnv(
  endpoint: string,
): Omit<StackEnv, 'VAULT_ADDR' | 'VAULT_TOKEN' | 'VAULT_UNSEAL_KEY' | 'DATABASE_URL'> {
  return {
    AWS_REGION: LOCAL_AWS.region,
    AWS_DEFAULT_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.secretAccessKey,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    AWS_ENDPOINT_URL_SNS: endpoint,
    AWS_ENDPOINT_URL_SQS: endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint,
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_ENDPOINT_URL_STS: endpoint,
  };
}

/**
 * The local stack's outbound identity federation issuer (moto-server.py):
 * what an account's `https://<id>.tokens.sts.global.api.aws` is on AWS.
 */
export function localIssuerUrl(stsEndpoint: string): string {
  return `${stsEndpoint.replace(/\/+$/, '')}/_local_sts`;
}

interface Stoppable {
  stop(): Promise<void>;
}

/** Like Promise.all, but a failure stops whatever did start before rethrowing. */
export async function startAll<const T extends readonly Promise<Stoppable | undefined>[]>(
  starts: T,
): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(starts);
  const failures = results.filter((result) => result.status === 'rejected');
  if (failures.length > 0) {
    await stopAll(
      results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : [])),
    );
    const reasons = failures.map((failure) => failure.reason as unknown);
    throw reasons.length === 1
      ? reasons[0]
      : new AggregateError(reasons, 'the local stack failed to start');
  }
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof T]: Awaited<T[K]>;
  };
}

/** Stops them all even when one fails; `undefined` entries (services not started) are skipped. */
export async function stopAll(servers: readonly (Stoppable | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(servers.map((server) => server?.stop()));
  const failures = results.flatMap((result) =>
    result.status === 'rejected' ? [result.reason as unknown] : [],
  );
  if (failures.length > 0) throw new AggregateError(failures, 'stopping the local stack failed');
}

export interface DatabaseEngineOptions {
  readonly vaultAddr: string;
  readonly token: string;
  /** Mount path of the database secrets engine, e.g. uniqueName('db'). */
  readonly mount: string;
  readonly postgres: Pick<Postgres, 'port' | 'user' | 'password' | 'database'>;
  readonly roleName: string;
  /** Seconds, or a Vault duration string such as '1h'. */
  readonly defaultTtl: number | string;
  readonly maxTtl: number | string;
  /** Name of the connection under `<mount>/config/`; defaults to 'postgres'. */
  readonly connectionName?: string;
}

export interface DatabaseEngine {
  readonly mount: string;
  readonly roleName: string;
  /** `GET /v1/<credsPath>` issues a lease: a real PostgreSQL login role. */
  readonly credsPath: string;
}

/**
 * Enables Vault's database secrets engine at `mount`, connects it to the stack's PostgreSQL
 * and creates a role whose leases are PostgreSQL login roles. Only Vault's HTTP API is used.
 */
export async function configureDatabaseEngine(
  options: DatabaseEngineOptions,
): Promise<DatabaseEngine> {
  const { vaultAddr: addr, token, mount, postgres, roleName } = options;
  const connectionName = options.connectionName ?? 'postgres';
  await vaultApi(addr, 'POST', `/v1/sys/mounts/${mount}`, {
    token,
    body: { type: 'database' },
  });
  await vaultApi(addr, 'POST', `/v1/${mount}/config/${connectionName}`, {
    token,
    body: {
      plugin_name: 'postgresql-database-plugin',
      connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${postgres.port}/${postgres.database}?sslmode=disable`,
      username: postgres.user,
      password: postgres.password,
      allowed_roles: [roleName],
    },
  });
  await vaultApi(addr, 'POST', `/v1/${mount}/roles/${roleName}`, {
    token,
    body: {
      db_name: connectionName,
      creation_statements: [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
        'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{{name}}";',
      ],
      default_ttl: options.defaultTtl,
      max_ttl: options.maxTtl,
    },
  });
  return { mount, roleName, credsPath: `${mount}/creds/${roleName}` };
}

/** `export NAME='value'` lines a shell can source (values single-quoted). */
export function shellExports(env: StackEnv): string {
  return STACK_ENV_NAMES.map(
    (name) => `export ${name}='${env[name].replaceAll("'", `'\\''`)}'`,
  ).join('\n');
}
