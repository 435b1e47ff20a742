/**
 * Seeds targets on the local stack through the real Vault HTTP API and the
 * real AWS SDK (moto): AppRole roles and policies, logged-in tokens, database
 * leases, the Secrets Manager secrets that hold them, an SNS topic with an
 * SQS queue subscribed to it, and an EventBridge bus whose rule delivers the
 * change events to an SQS queue. Used by `npm start` and the integration tests.
 */

import {
  CreateTableCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { shippedWorkloadPolicy } from '../../infra/vault/workload-policy.js';
import { vaultApi } from './openbao.js';
import type { StackEnv } from './stack.js';
import { configureDatabaseEngine, type DatabaseEngine } from './stack.js';

export interface AwsTestClients {
  readonly secretsManager: SecretsManagerClient;
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  readonly dynamodb: DynamoDBClient;
  readonly eventBridge: EventBridgeClient;
}

/** SDK clients pointed explicitly at the stack's endpoints (process.env untouched). */
export function awsClientsFor(env: StackEnv): AwsTestClients {
  const base = {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
  return {
    secretsManager: new SecretsManagerClient({
      ...base,
      endpoint: env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
    }),
    sns: new SNSClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_SNS }),
    sqs: new SQSClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_SQS }),
    dynamodb: new DynamoDBClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB }),
    eventBridge: new EventBridgeClient({ ...base, endpoint: env.AWS_ENDPOINT_URL_EVENTBRIDGE }),
  };
}

export interface ReceivedNotification {
  readonly subject: string;
  readonly body: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface AlertSubscriber {
  readonly topicArn: string;
  readonly queueUrl: string;
  /** Drains the queue until `count` messages arrived or `timeoutMs` passed; then a short extra drain. */
  receive(count: number, timeoutMs?: number): Promise<ReceivedNotification[]>;
}

/** An EventBridge event as an SQS target receives it (the whole event is the body). */
export interface ReceivedEvent {
  readonly source: string;
  readonly 'detail-type': string;
  readonly resources: readonly string[];
  readonly detail: Readonly<Record<string, unknown>>;
  /** The body exactly as received, to scan for planted values. */
  readonly raw: string;
}

export interface ChangeEventConsumer {
  readonly eventBusName: string;
  readonly queueUrl: string;
  /** Drains the queue until `count` events arrived or `timeoutMs` passed; then a short extra drain. */
  receive(count: number, timeoutMs?: number): Promise<ReceivedEvent[]>;
}

/** The rule a consumer writes (README "Change events"): every change the renewer announces. */
export const CHANGE_EVENT_PATTERN = {
  source: ['vault-renewer'],
  'detail-type': ['Credential Changed'],
} as const;

/** Vault role settings a seeded target gets. */
export interface RoleSettings {
  readonly tokenTtl: number;
  readonly tokenMaxTtl: number;
  readonly tokenType?: 'service' | 'batch';
  readonly secretIdNumUses?: number;
  readonly secretIdTtl?: number;
  /** HCL of the role's policy; defaults to renew/lookup/leases + the database creds path. */
  readonly policy?: string;
  readonly noDefaultPolicy?: boolean;
}

export interface SeededTarget {
  readonly name: string;
  readonly roleName: string;
  readonly roleId: string;
  readonly secretId: string;
  readonly token: string;
  readonly accessor: string;
  readonly tokenSecret: string;
  readonly approleSecret: string;
  readonly leases: readonly SeededLease[];
}

export interface SeededLease {
  readonly name: string;
  readonly secret: string;
  readonly reissuePath: string;
  readonly leaseId: string;
  readonly username: string;
  readonly password: string;
}

function parseDatabaseUrl(url: string) {
  const parsed = new URL(url);
  return {
    port: Number(parsed.port),
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.replace(/^\//, ''),
  };
}

export class Fleet {
  public readonly aws: AwsTestClients;
  public readonly approleMount: string;
  private databaseEngine: Promise<DatabaseEngine> | undefined;
  private approleMounted: Promise<unknown> | undefined;

  public constructor(
    public readonly env: StackEnv,
    /** Unique prefix for every name this fleet creates. */
    public readonly prefix: string,
  ) {
    this.aws = awsClientsFor(env);
    this.approleMount = `${prefix}-approle`;
  }

  /** Vault API with the root token. */
  public vault(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    token = this.env.VAULT_TOKEN,
  ): Promise<unknown> {
    return vaultApi(this.env.VAULT_ADDR, method, `/v1/${path}`, {
      token,
      ...(body === undefined ? {} : { body }),
    });
  }

  /** Mounts the fleet's AppRole auth method once, however many targets are seeded at once. */
  private ensureApproleMount(): Promise<unknown> {
    this.approleMounted ??= this.vault('POST', `sys/auth/${this.approleMount}`, {
      type: 'approle',
    });
    return this.approleMounted;
  }

  /** Mounts the database engine once, allowing every role of this fleet's mount. */
  private ensureDatabaseEngine(): Promise<DatabaseEngine> {
    this.databaseEngine ??= (async () => {
      const postgres = parseDatabaseUrl(this.env.DATABASE_URL);
      const engine = await configureDatabaseEngine({
        vaultAddr: this.env.VAULT_ADDR,
        token: this.env.VAULT_TOKEN,
        mount: `${this.prefix}-db`,
        postgres,
        roleName: 'bootstrap',
        defaultTtl: 60,
        maxTtl: 60,
      });
      await this.vault('POST', `${engine.mount}/config/postgres`, {
        plugin_name: 'postgresql-database-plugin',
        connection_url: `postgresql://{{username}}:{{password}}@127.0.0.1:${postgres.port}/${postgres.database}?sslmode=disable`,
        username: postgres.user,
        password: postgres.password,
        allowed_roles: ['*'],
      });
      return engine;
    })();
    return this.databaseEngine;
  }

  /** A database role on the fleet's engine; returns its creds path. */
  public async databaseRole(roleName: string, defaultTtl: number, maxTtl: number): Promise<string> {
    const { mount } = await this.ensureDatabaseEngine();
    await this.vault('POST', `${mount}/roles/${roleName}`, {
      db_name: 'postgres',
      creation_statements: [
        `CREATE ROLE "{{name}}" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';`,
      ],
      default_ttl: defaultTtl,
      max_ttl: maxTtl,
    });
    return `${mount}/creds/${roleName}`;
  }

  public async createSecret(name: string, value: string): Promise<string> {
    const created = await this.aws.secretsManager.send(
      new CreateSecretCommand({ Name: name, SecretString: value }),
    );
    return created.ARN ?? name;
  }

  public async putSecret(name: string, value: string): Promise<void> {
    await this.aws.secretsManager.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: value }),
    );
  }

  public async secretValue(name: string): Promise<string> {
    const got = await this.aws.secretsManager.send(new GetSecretValueCommand({ SecretId: name }));
    return got.SecretString ?? '';
  }

  public async secretJson(name: string): Promise<Record<string, unknown>> {
    return JSON.parse(await this.secretValue(name)) as Record<string, unknown>;
  }

  public async versionCount(name: string): Promise<number> {
    const listed = await this.aws.secretsManager.send(
      new ListSecretVersionIdsCommand({ SecretId: name, IncludeDeprecated: true }),
    );
    return listed.Versions?.length ?? 0;
  }

  /** An AppRole role with its policy, a secret_id, and a first login. */
  public async role(roleName: string, settings: RoleSettings, credsPaths: readonly string[] = []) {
    await this.ensureApproleMount();
    const policyName = `${this.prefix}-${roleName}`;
    await this.vault('PUT', `sys/policies/acl/${policyName}`, {
      policy:
        settings.policy ??
        shippedWorkloadPolicy(credsPaths, `auth/${this.approleMount}/role/${roleName}`),
    });
    await this.vault('POST', `auth/${this.approleMount}/role/${roleName}`, {
      token_policies: [policyName],
      token_ttl: settings.tokenTtl,
      token_max_ttl: settings.tokenMaxTtl,
      token_type: settings.tokenType ?? 'service',
      secret_id_num_uses: settings.secretIdNumUses ?? 0,
      secret_id_ttl: settings.secretIdTtl ?? 0,
      token_no_default_policy: settings.noDefaultPolicy ?? false,
    });
    const roleId = (
      (await this.vault('GET', `auth/${this.approleMount}/role/${roleName}/role-id`)) as {
        data: { role_id: string };
      }
    ).data.role_id;
    const issued = (
      (await this.vault('POST', `auth/${this.approleMount}/role/${roleName}/secret-id`, {})) as {
        data: { secret_id: string; secret_id_accessor: string };
      }
    ).data;
    return {
      roleId,
      secretId: issued.secret_id,
      secretIdAccessor: issued.secret_id_accessor,
      policyName,
    };
  }

  public async login(
    roleId: string,
    secretId: string,
  ): Promise<{ token: string; accessor: string }> {
    const answer = (await this.vault(
      'POST',
      `auth/${this.approleMount}/login`,
      { role_id: roleId, secret_id: secretId },
      '',
    )) as { auth: { client_token: string; accessor: string } };
    return { token: answer.auth.client_token, accessor: answer.auth.accessor };
  }

  /** Issues a lease with `token` (so it dies with that token). */
  public async issueLease(token: string, path: string) {
    const answer = (await this.vault('GET', path, undefined, token)) as {
      lease_id: string;
      lease_duration: number;
      renewable: boolean;
      data: { username: string; password: string };
    };
    return answer;
  }

  /**
   * A complete target: role + policy + secret_id + token, its secrets, and
   * `leaseCount` database leases issued with its token.
   */
  public async target(
    name: string,
    settings: RoleSettings,
    options: {
      readonly leases?: readonly { name: string; defaultTtl: number; maxTtl: number }[];
      /** Store this instead of the logged-in token (e.g. a root or batch token). */
      readonly storedToken?: string;
      /** Store this instead of the real secret_id. */
      readonly storedSecretId?: string;
    } = {},
  ): Promise<SeededTarget> {
    const roleName = `${name}`;
    const leaseSpecs = options.leases ?? [];
    const credsPaths: string[] = [];
    for (const lease of leaseSpecs) {
      credsPaths.push(
        await this.databaseRole(`${name}-${lease.name}`, lease.defaultTtl, lease.maxTtl),
      );
    }
    const { roleId, secretId, secretIdAccessor } = await this.role(roleName, settings, credsPaths);
    const { token, accessor } = await this.login(roleId, secretId);
    const storedToken = options.storedToken ?? token;
    const tokenSecret = `${this.prefix}/${name}/token`;
    const approleSecret = `${this.prefix}/${name}/approle`;
    await this.createSecret(tokenSecret, JSON.stringify({ token: storedToken, owner: 'team-x' }));
    await this.createSecret(
      approleSecret,
      JSON.stringify({
        role_id: roleId,
        secret_id: options.storedSecretId ?? secretId,
        // As vault:bootstrap stores it: rotation destroys a replaced secret_id by it.
        ...(options.storedSecretId === undefined ? { secret_id_accessor: secretIdAccessor } : {}),
      }),
    );
    const leases: SeededLease[] = [];
    for (const [index, lease] of leaseSpecs.entries()) {
      const path = credsPaths[index] ?? '';
      const issued = await this.issueLease(token, path);
      const secret = `${this.prefix}/${name}/${lease.name}`;
      await this.createSecret(
        secret,
        JSON.stringify({
          lease_id: issued.lease_id,
          lease_duration: issued.lease_duration,
          renewable: issued.renewable,
          data: issued.data,
          path,
          // As the renewer records it (a lease dies with the token that issued it),
          // when the stored token is the one that issued it.
          ...(options.storedToken === undefined ? { token_accessor: accessor } : {}),
        }),
      );
      leases.push({
        name: lease.name,
        secret,
        reissuePath: path,
        leaseId: issued.lease_id,
        username: issued.data.username,
        password: issued.data.password,
      });
    }
    return {
      name,
      roleName,
      roleId,
      secretId,
      token: storedToken,
      accessor,
      tokenSecret,
      approleSecret,
      leases,
    };
  }

  /** The config entry for a seeded target, in the file format. */
  public targetConfig(target: SeededTarget, extra: Record<string, unknown> = {}) {
    return {
      name: target.name,
      tokenSecret: target.tokenSecret,
      approle: { secret: target.approleSecret, mount: this.approleMount, role: target.roleName },
      leases: target.leases.map((l) => ({
        name: l.name,
        secret: l.secret,
        reissuePath: l.reissuePath,
      })),
      ...extra,
    };
  }

  /**
   * The incident table as serverless.yml declares it (hash key `scope`,
   * on-demand, TTL on `expiresAt`), created through the DynamoDB API.
   */
  public async incidentTable(): Promise<string> {
    const name = `${this.prefix}-incidents`;
    await this.aws.dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'scope', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'scope', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await this.aws.dynamodb.send(
      new UpdateTimeToLiveCommand({
        TableName: name,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      }),
    );
    return name;
  }

  /**
   * An SNS topic with an SQS queue subscribed to it, as a real subscriber
   * would; with `filter`, another queue on an existing topic that receives
   * only what the subscription's filter policy lets through (a team's own).
   */
  public async subscriber(filter?: {
    readonly topicArn: string;
    readonly name: string;
    readonly policy: unknown;
  }): Promise<AlertSubscriber> {
    const { sns, sqs } = this.aws;
    const topicArn =
      filter?.topicArn ??
      (await sns.send(new CreateTopicCommand({ Name: `${this.prefix}-alerts` }))).TopicArn ??
      '';
    const queue = await sqs.send(
      new CreateQueueCommand({ QueueName: `${this.prefix}-${filter?.name ?? 'inbox'}` }),
    );
    const queueUrl = queue.QueueUrl ?? '';
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: attributes.Attributes?.QueueArn ?? '',
        ...(filter === undefined
          ? {}
          : { Attributes: { FilterPolicy: JSON.stringify(filter.policy) } }),
      }),
    );
    return {
      topicArn,
      queueUrl,
      receive: async (count, timeoutMs = 5_000) =>
        (await drainQueue(sqs, queueUrl, count, timeoutMs)).map((body) => {
          const envelope = JSON.parse(body) as {
            Subject?: string;
            Message: string;
            MessageAttributes?: Record<string, { Value: string }>;
          };
          return {
            subject: envelope.Subject ?? '',
            body: envelope.Message,
            attributes: Object.fromEntries(
              Object.entries(envelope.MessageAttributes ?? {}).map(([k, v]) => [k, v.Value]),
            ),
          };
        }),
    };
  }

  /**
   * A bus of this fleet's own (so other tests' events never reach it), a rule
   * on it matching {@link CHANGE_EVENT_PATTERN}, and an SQS queue as the rule's
   * target, as a consumer would set them up.
   */
  public async changeEventConsumer(name = 'changes'): Promise<ChangeEventConsumer> {
    const { eventBridge, sqs } = this.aws;
    const eventBusName = `${this.prefix}-${name}`;
    await eventBridge.send(new CreateEventBusCommand({ Name: eventBusName }));
    const queue = await sqs.send(new CreateQueueCommand({ QueueName: eventBusName }));
    const queueUrl = queue.QueueUrl ?? '';
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
    );
    const rule = `${eventBusName}-credential-changed`;
    await eventBridge.send(
      new PutRuleCommand({
        Name: rule,
        EventBusName: eventBusName,
        EventPattern: JSON.stringify(CHANGE_EVENT_PATTERN),
      }),
    );
    await eventBridge.send(
      new PutTargetsCommand({
        Rule: rule,
        EventBusName: eventBusName,
        Targets: [{ Id: 'queue', Arn: attributes.Attributes?.QueueArn ?? '' }],
      }),
    );
    return {
      eventBusName,
      queueUrl,
      receive: async (count, timeoutMs = 5_000) =>
        (await drainQueue(sqs, queueUrl, count, timeoutMs)).map((raw) => ({
          ...(JSON.parse(raw) as Omit<ReceivedEvent, 'raw'>),
          raw,
        })),
    };
  }
}

/** Bodies from the queue until `count` arrived or `timeoutMs` passed, each deleted once read. */
async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  timeoutMs: number,
): Promise<string[]> {
  const received: string[] = [];
  const drainUntil = async (deadline: number, want: number) => {
    while (received.length < want && Date.now() < deadline) {
      const batch = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      const messages = batch.Messages ?? [];
      for (const message of messages) received.push(message.Body ?? '');
      if (messages.length > 0) {
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, i) => ({
              Id: String(i),
              ReceiptHandle: m.ReceiptHandle ?? '',
            })),
          }),
        );
      }
    }
  };
  await drainUntil(Date.now() + timeoutMs, count);
  // Anything beyond the expected count would be a bug: look once more.
  await drainUntil(Date.now() + 1_200, Number.POSITIVE_INFINITY);
  return received;
}
