/**
 * `npm run vault:bootstrap -- <target> [options]`: sets up the Vault side of one
 * target and its first credentials, through Vault's HTTP API and the AWS SDK only.
 *
 *   1. writes the target's policy (infra/vault/workload-policy.hcl plus a `read`
 *      stanza per lease re-issue path) as `vault-renewer-<target>`;
 *   2. creates or updates the AppRole role with infra/vault/approle-role.yaml,
 *      adding that policy to the role's token_policies;
 *   3. issues a secret_id, unless the stored one is still valid;
 *   4. logs in once with it, verifies the token (lookup-self), and stores the
 *      AppRole credentials and that token in Secrets Manager (create or put);
 *      lease secrets that do not exist yet are created as `{}`, which the
 *      renewer fills on its next run;
 *   5. prints the target's entry for the config file (stdout; the log is on stderr).
 *
 * Idempotent: a second run rewrites the policy and the role to the same values,
 * keeps a valid stored secret_id and a healthy stored token, and writes no new
 * secret version. `--rotate-secret-id` and `--relogin` force steps 3 and 4.
 *
 * VAULT_TOKEN is an administrator's token (writing policies and roles needs
 * one); it is never stored. The stored token is always the AppRole login's,
 * checked with lookup-self before it is written: a root token, a batch or
 * non-renewable token, or a token that is not the login's is refused.
 *
 * Options:
 *   --config <path>          target list (default: $RENEWER_CONFIG, then config/targets.yaml)
 *   --vault-addr <url>       where to reach Vault from here (default: the target's
 *                            address in the config, then $VAULT_ADDR)
 *   --namespace <ns>         Vault namespace (default: the target's, then $VAULT_NAMESPACE)
 *   --role-settings <path>   AppRole role settings (default infra/vault/approle-role.yaml)
 *   --policy-file <path>     base policy (default infra/vault/workload-policy.hcl)
 *   --policy-name <name>     (default vault-renewer-<target>)
 *   --policy <name>          another policy for the role's tokens, e.g. the
 *                            workload's own (repeatable)
 *   --kms-key-id <key>       KMS key for secrets this creates (default aws/secretsmanager)
 *   --enable-approle         enable the AppRole auth method at the mount if it is missing
 *   --rotate-secret-id       issue a new secret_id even if the stored one is valid,
 *                            and destroy the old one once the new one is stored
 *   --relogin                log in and store a new token even if the stored one is healthy
 * For a target not in the config yet (defaults in brackets):
 *   --role <name> [<target>]  --mount <path> [the targets' shared mount, else approle]
 *   --token-secret <id> [vault/<target>/token]  --approle-secret <id> [vault/<target>/approle]
 *   --lease <name>=<reissuePath> (repeatable; its secret: vault/<target>/<name>)
 */

import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  TagResourceCommand,
} from '@aws-sdk/client-secrets-manager';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { z } from 'zod';
import { deterministicRequestToken } from '../functions/aws/client-request-token.js';
import { loadConfigFile } from '../functions/config/load.js';
import type { RenewerConfig, TargetConfig } from '../functions/config/types.js';
import { horizonSeconds, isRootToken } from '../functions/core/lifetime.js';
import { renderTokenDocument } from '../functions/core/secret-documents.js';
import type { TokenInfo, VaultEndpoint } from '../functions/core/vault-port.js';
import { createVaultAdmin, type VaultAdmin } from '../functions/vault/admin.js';
import { createVaultClient, type VaultClient } from '../functions/vault/client.js';
import { VaultError, VaultHttpError } from '../functions/vault/errors.js';
import { DEFAULT_CONFIG_PATH } from './validate-config.js';

const REPO_ROOT = resolve(import.meta.dirname, '..');
export const DEFAULT_ROLE_SETTINGS = resolve(REPO_ROOT, 'infra/vault/approle-role.yaml');
export const DEFAULT_POLICY_FILE = resolve(REPO_ROOT, 'infra/vault/workload-policy.hcl');
const DEFAULT_APPROLE_MOUNT = 'approle';
/** Vault's way of saying "never" in secret_id lookups. */
const NO_EXPIRY = '0001-01-01T00:00:00Z';
/** A stored secret_id closer than this to its expiry is replaced. */
const SECRET_ID_RENEW_BEFORE_MS = 7 * 24 * 3600 * 1000;

/** The run cannot go on: bad input, or Vault/AWS refused. Exit 1, message to stderr. */
export class BootstrapError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BootstrapError';
  }
}

/** The token about to be stored is not one the renewer may manage. Nothing was written. */
export class RefusedTokenError extends BootstrapError {
  public constructor(reason: string) {
    super(`refusing to store the token: ${reason}. Nothing was written to Secrets Manager.`);
    this.name = 'RefusedTokenError';
  }
}

// ---------------------------------------------------------------------------
// Role settings and policy files

const seconds = z.number().int().min(0);
const roleSettingsSchema = z.strictObject({
  token_type: z.literal('service', {
    error: 'must be "service": batch tokens can never be renewed',
  }),
  token_ttl: seconds.min(1, 'must be at least 1 (0 would silently take the mount default)'),
  token_max_ttl: seconds.min(1, 'must be at least 1 (0 would silently take the mount maximum)'),
  token_period: seconds,
  token_explicit_max_ttl: seconds,
  token_num_uses: z.literal(0, {
    error: 'must be 0: a token with limited uses dies after that many requests, renewals included',
  }),
  token_no_default_policy: z.boolean(),
  bind_secret_id: z.literal(true, {
    error: 'must be true: without it anyone who knows the role_id can log in',
  }),
  secret_id_ttl: seconds,
  secret_id_num_uses: seconds,
  secret_id_bound_cidrs: z.array(z.string().min(1)),
  token_bound_cidrs: z.array(z.string().min(1)).optional(),
});
export type RoleSettings = z.infer<typeof roleSettingsSchema>;

/** Reads and checks a role settings file; `intervalSeconds` is the config's schedule. */
export function loadRoleSettings(
  path: string,
  intervalSeconds: number,
): { settings: RoleSettings; warnings: string[] } {
  const text = readText(path, 'role settings');
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (error) {
    throw new BootstrapError(`role settings ${path}: not YAML (${messageOf(error)})`);
  }
  const parsed = roleSettingsSchema.safeParse(data);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`);
  if (parsed.success) {
    const s = parsed.data;
    const horizon = horizonSeconds(intervalSeconds);
    if (s.token_ttl > s.token_max_ttl) {
      problems.push('token_ttl: must not be greater than token_max_ttl (Vault refuses it)');
    }
    if (s.token_period === 0 && s.token_max_ttl <= horizon) {
      problems.push(
        `token_max_ttl: ${s.token_max_ttl} s is inside the renewer's horizon (${horizon} s: two schedule intervals plus a minute), so every run would log in again; raise it well above`,
      );
    }
  }
  if (problems.length > 0 || !parsed.success) {
    throw new BootstrapError(`role settings ${path}:\n  ${problems.join('\n  ')}`);
  }
  const s = parsed.data;
  const warnings: string[] = [];
  if (s.token_ttl <= intervalSeconds) {
    warnings.push(
      `token_ttl ${s.token_ttl} s is not longer than the schedule interval (${intervalSeconds} s): a fresh token dies before the next run if that run is late`,
    );
  }
  if (s.token_period > 0) {
    warnings.push(
      'token_period is set: periodic tokens never reach a max TTL (unless token_explicit_max_ttl), so a leaked token lives as long as it is renewed',
    );
  }
  if (s.secret_id_ttl > 0 || s.secret_id_num_uses > 0) {
    warnings.push(
      'secret_id_ttl / secret_id_num_uses limit the secret_id: re-run this with --rotate-secret-id well before it expires or runs out, or the next re-login fails',
    );
  }
  return { settings: s, warnings };
}

/** The base policy plus one `read` stanza per lease re-issue path. */
export function composePolicy(basePolicy: string, reissuePaths: readonly string[]): string {
  const stanzas = [...new Set(reissuePaths)].sort().map(
    (path) => `
# Re-issue a lease of this target when it cannot be renewed (added by vault:bootstrap).
path "${path}" {
  capabilities = ["read"]
}
`,
  );
  return `${basePolicy.trimEnd()}\n${stanzas.join('')}`;
}

// ---------------------------------------------------------------------------
// The target, from the config or the command line

export interface TargetPlan {
  readonly name: string;
  readonly inConfig: boolean;
  readonly endpoint: VaultEndpoint;
  readonly tokenSecretId: string;
  readonly approleSecretId: string;
  readonly mount: string;
  readonly roleName: string;
  readonly leases: readonly { name: string; secretId: string; reissuePath: string }[];
}

export interface TargetOverrides {
  readonly vaultAddr?: string;
  readonly namespace?: string;
  readonly role?: string;
  readonly mount?: string;
  readonly tokenSecret?: string;
  readonly approleSecret?: string;
  readonly leases?: readonly string[];
}

/** The one value all targets share, if they do. */
function shared<T>(config: RenewerConfig, pick: (t: TargetConfig) => T): T | undefined {
  const values = new Set(config.targets.map(pick));
  return values.size === 1 ? [...values][0] : undefined;
}

export function planTarget(
  name: string,
  config: RenewerConfig,
  overrides: TargetOverrides,
  env: Readonly<Record<string, string | undefined>>,
): TargetPlan {
  const configured = config.targets.find((t) => t.name === name);
  const address =
    overrides.vaultAddr ??
    configured?.vault.address ??
    shared(config, (t) => t.vault.address) ??
    nonEmpty(env.VAULT_ADDR);
  if (address === undefined) {
    throw new BootstrapError('no Vault address: pass --vault-addr or set VAULT_ADDR');
  }
  const namespace =
    overrides.namespace ??
    configured?.vault.namespace ??
    shared(config, (t) => t.vault.namespace) ??
    nonEmpty(env.VAULT_NAMESPACE);
  const endpoint = namespace === undefined ? { address } : { address, namespace };

  if (configured !== undefined) {
    const conflicts = (
      [
        ['--role', overrides.role, configured.approle.roleName],
        ['--mount', overrides.mount, configured.approle.mount],
        ['--token-secret', overrides.tokenSecret, configured.tokenSecretId],
        ['--approle-secret', overrides.approleSecret, configured.approle.secretId],
      ] as const
    ).filter(([, given, has]) => given !== undefined && has !== undefined && given !== has);
    if (conflicts.length > 0 || (overrides.leases?.length ?? 0) > 0) {
      throw new BootstrapError(
        `target ${name} is in the config: its secrets, mount, role and leases come from there (${[
          ...conflicts.map(([flag]) => flag),
          ...((overrides.leases?.length ?? 0) > 0 ? ['--lease'] : []),
        ].join(', ')} disagree or do not apply); edit the config instead`,
      );
    }
    return {
      name,
      inConfig: true,
      endpoint,
      tokenSecretId: configured.tokenSecretId,
      approleSecretId: configured.approle.secretId,
      mount: configured.approle.mount,
      roleName: configured.approle.roleName ?? overrides.role ?? name,
      leases: configured.leases.map((l) => ({
        name: l.name,
        secretId: l.secretId,
        reissuePath: l.reissuePath,
      })),
    };
  }
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(name)) {
    throw new BootstrapError(
      `target name ${JSON.stringify(name)}: must be 1-64 characters of a-z, 0-9, ".", "_", "-"`,
    );
  }
  const leases = (overrides.leases ?? []).map((spec) => {
    const match = /^([a-z0-9][a-z0-9._-]{0,63})=([^/\s][^\s]*)$/.exec(spec);
    if (match === null) {
      throw new BootstrapError(
        `--lease ${JSON.stringify(spec)}: must be <name>=<reissuePath>, e.g. db=database/creds/app`,
      );
    }
    const [, leaseName = '', reissuePath = ''] = match;
    return { name: leaseName, secretId: `vault/${name}/${leaseName}`, reissuePath };
  });
  return {
    name,
    inConfig: false,
    endpoint,
    tokenSecretId: overrides.tokenSecret ?? `vault/${name}/token`,
    approleSecretId: overrides.approleSecret ?? `vault/${name}/approle`,
    mount: trimSlashes(
      overrides.mount ?? shared(config, (t) => t.approle.mount) ?? DEFAULT_APPROLE_MOUNT,
    ),
    roleName: overrides.role ?? name,
    leases,
  };
}

/** The target's entry for `targets:` in the config file. */
export function configEntry(plan: TargetPlan): Record<string, unknown> {
  return {
    name: plan.name,
    tokenSecret: plan.tokenSecretId,
    approle: { secret: plan.approleSecretId, mount: plan.mount, role: plan.roleName },
    ...(plan.leases.length === 0
      ? {}
      : {
          leases: plan.leases.map((l) => ({
            name: l.name,
            secret: l.secretId,
            reissuePath: l.reissuePath,
          })),
        }),
  };
}

function dataOf(answer: Record<string, unknown> | undefined): Record<string, unknown> {
  const data = answer?.data;
  return data !== null && typeof data === 'object' ? (data as Record<string, unknown>) : {};
}

// ---------------------------------------------------------------------------
// Secrets Manager

interface StoredSecret {
  readonly exists: boolean;
  readonly text?: string;
}

async function readSecret(client: SecretsManagerClient, id: string): Promise<StoredSecret> {
  try {
    const answer = await client.send(new GetSecretValueCommand({ SecretId: id }));
    return answer.SecretString === undefined
      ? { exists: true }
      : { exists: true, text: answer.SecretString };
  } catch (error) {
    if ((error as { name?: string }).name === 'ResourceNotFoundException') return { exists: false };
    throw new BootstrapError(`cannot read secret ${id}: ${awsMessage(error)}`, { cause: error });
  }
}

interface WriteOptions {
  readonly target: string;
  readonly description: string;
  readonly kmsKeyId?: string;
  /** Same parts, same version id: a retried run does not add a version. */
  readonly requestToken: string;
}

/**
 * With `secretAccess.tag` in the config, IAM grants the functions only the
 * secrets that carry it: tag each of the target's secrets (TagResource is
 * idempotent), including ones that existed before.
 */
async function tagForAccess(
  client: SecretsManagerClient,
  ids: readonly string[],
  tag: { readonly key: string; readonly value: string },
  log: (line: string) => void,
): Promise<void> {
  for (const id of ids) {
    try {
      await client.send(
        new TagResourceCommand({ SecretId: id, Tags: [{ Key: tag.key, Value: tag.value }] }),
      );
    } catch (error) {
      throw new BootstrapError(`cannot tag secret ${id}: ${awsMessage(error)}`, { cause: error });
    }
    log(
      `secret ${id}: tagged ${tag.key}=${tag.value} (the functions' IAM grants access only with it)`,
    );
  }
}

async function writeSecret(
  client: SecretsManagerClient,
  id: string,
  existing: StoredSecret,
  value: string,
  options: WriteOptions,
): Promise<'created' | 'updated'> {
  try {
    if (existing.exists) {
      await client.send(
        new PutSecretValueCommand({
          SecretId: id,
          SecretString: value,
          ClientRequestToken: options.requestToken,
        }),
      );
      return 'updated';
    }
    if (id.startsWith('arn:')) {
      throw new BootstrapError(
        `secret ${id} does not exist, and a secret cannot be created by ARN: create it, or name it in the config instead`,
      );
    }
    await client.send(
      new CreateSecretCommand({
        Name: id,
        SecretString: value,
        ClientRequestToken: options.requestToken,
        Description: options.description,
        ...(options.kmsKeyId === undefined ? {} : { KmsKeyId: options.kmsKeyId }),
        Tags: [
          { Key: 'managed-by', Value: 'vault-renewer' },
          { Key: 'vault-renewer-target', Value: options.target },
        ],
      }),
    );
    return 'created';
  } catch (error) {
    if (error instanceof BootstrapError) throw error;
    throw new BootstrapError(`cannot write secret ${id}: ${awsMessage(error)}`, { cause: error });
  }
}

// ---------------------------------------------------------------------------
// The bootstrap

export interface BootstrapOptions {
  readonly target: string;
  readonly configPath: string;
  readonly overrides: TargetOverrides;
  readonly roleSettingsPath: string;
  readonly policyFile: string;
  readonly policyName?: string;
  readonly extraPolicies: readonly string[];
  readonly kmsKeyId?: string;
  readonly enableApprole: boolean;
  readonly rotateSecretId: boolean;
  readonly relogin: boolean;
}

export interface BootstrapDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secretsManager: SecretsManagerClient;
  readonly log: (line: string) => void;
  readonly now?: () => number;
}

export interface BootstrapResult {
  readonly plan: TargetPlan;
  readonly policyName: string;
  /** The config entry, as YAML, with a comment saying where it goes. */
  readonly entryYaml: string;
}

export async function bootstrapTarget(
  options: BootstrapOptions,
  deps: BootstrapDeps,
): Promise<BootstrapResult> {
  const { log, env } = deps;
  const now = deps.now ?? Date.now;
  const adminToken = nonEmpty(env.VAULT_TOKEN);
  if (adminToken === undefined) {
    throw new BootstrapError(
      'VAULT_TOKEN is not set: an administrator token that may write policies and AppRole roles is needed (it is never stored)',
    );
  }
  const config = loadConfigFile(options.configPath);
  const plan = planTarget(options.target, config, options.overrides, env);
  const { settings, warnings } = loadRoleSettings(
    options.roleSettingsPath,
    config.scheduleIntervalSeconds,
  );
  for (const warning of warnings) log(`warning: ${warning}`);
  const policyName = options.policyName ?? `vault-renewer-${plan.name}`;
  const tokenPoliciesToAdd = [policyName, ...options.extraPolicies];
  if (tokenPoliciesToAdd.includes('root')) {
    throw new BootstrapError('--policy root: a workload token must never carry the root policy');
  }

  const caCertPem = config.vaultCaCertPem ?? readCaCert(env.VAULT_CACERT);
  const clientOptions = caCertPem === undefined ? {} : { caCertPem };
  const vault = createVaultClient(clientOptions);
  const admin = createVaultAdmin(plan.endpoint, adminToken, clientOptions);
  const roleBase = `auth/${plan.mount}/role/${plan.roleName}`;
  log(
    `target ${plan.name}: Vault ${plan.endpoint.address}${plan.endpoint.namespace === undefined ? '' : ` namespace ${plan.endpoint.namespace}`}, role ${roleBase}`,
  );

  try {
    const adminInfo = dataOf(await admin.call('GET', 'auth/token/lookup-self'));
    if (Array.isArray(adminInfo.policies) && adminInfo.policies.includes('root')) {
      log('note: VAULT_TOKEN is a root token; it is used for setup only and never stored');
    }

    await ensureApproleMount(admin, plan.mount, options.enableApprole, log);

    // 1. The policy.
    const policy = composePolicy(
      readText(options.policyFile, 'policy'),
      plan.leases.map((l) => l.reissuePath),
    );
    const current = dataOf(
      await admin.call('GET', `sys/policies/acl/${policyName}`, undefined, { missingOk: true }),
    ).policy;
    await admin.call('PUT', `sys/policies/acl/${policyName}`, { policy });
    log(
      `policy ${policyName}: ${current === undefined ? 'created' : current === policy ? 'unchanged' : 'updated'}`,
    );

    // 2. The role: our settings, our policies added to the ones it has.
    const existingRole = await admin.call('GET', roleBase, undefined, { missingOk: true });
    const existingPolicies = stringList(dataOf(existingRole).token_policies);
    if (existingPolicies.includes('root')) {
      throw new BootstrapError(
        `role ${roleBase} lists the root policy in token_policies: remove it first (vault write ${roleBase} token_policies=...)`,
      );
    }
    const tokenPolicies = [...new Set([...existingPolicies, ...tokenPoliciesToAdd])];
    await admin.call('POST', roleBase, { ...settings, token_policies: tokenPolicies });
    log(
      `role ${roleBase}: ${existingRole === undefined ? 'created' : 'updated'} (token_policies ${tokenPolicies.join(', ')})`,
    );
    const roleId = String(dataOf(await admin.call('GET', `${roleBase}/role-id`)).role_id ?? '');
    if (roleId === '') throw new BootstrapError(`${roleBase}/role-id answered no role_id`);

    // 3. The secret_id: keep a valid stored one unless asked to rotate.
    const approleStored = await readSecret(deps.secretsManager, plan.approleSecretId);
    const storedCreds = parseJsonObject(approleStored.text);
    const stored = await storedSecretIdState(admin, roleBase, roleId, storedCreds, now());
    let secretId: string;
    let secretIdAccessor: string;
    let issuedSecretId = false;
    if (stored.usable && !options.rotateSecretId) {
      secretId = String(storedCreds?.secret_id);
      secretIdAccessor = stored.accessor;
      log(`secret_id: the stored one is valid (${stored.reason}), kept`);
    } else {
      const issued = dataOf(
        await admin.call(
          'POST',
          `${roleBase}/secret-id`,
          { metadata: JSON.stringify({ managed_by: 'vault-renewer', target: plan.name }) },
          // Each attempt Vault acts on creates a secret_id: never sent twice.
          { spends: true },
        ),
      );
      secretId = String(issued.secret_id ?? '');
      secretIdAccessor = String(issued.secret_id_accessor ?? '');
      if (secretId === '') throw new BootstrapError(`${roleBase}/secret-id answered no secret_id`);
      issuedSecretId = true;
      log(
        `secret_id: issued a new one (${options.rotateSecretId ? 'rotation asked' : stored.reason})`,
      );
    }

    // 4. The token: keep a healthy stored one, else log in once and verify.
    const tokenStored = await readSecret(deps.secretsManager, plan.tokenSecretId);
    const tokenDoc = parseJsonObject(tokenStored.text);
    const storedToken = typeof tokenDoc?.token === 'string' ? tokenDoc.token : undefined;
    const health =
      storedToken === undefined
        ? { healthy: false, reason: 'no token stored yet' }
        : await storedTokenHealth(vault, plan, policyName, storedToken);
    const mustLogin = issuedSecretId || options.relogin || !health.healthy;
    if (mustLogin) {
      let login: Awaited<ReturnType<VaultClient['appRoleLogin']>>;
      try {
        login = await vault.appRoleLogin(plan.endpoint, plan.mount, { roleId, secretId });
      } catch (error) {
        if (issuedSecretId) await destroySecretId(admin, roleBase, secretIdAccessor, log);
        throw new BootstrapError(`AppRole login failed: ${messageOf(error)}`, { cause: error });
      }
      let info: TokenInfo;
      try {
        info = await vault.lookupSelf(plan.endpoint, login.token);
        assertStorableToken(info, login, { adminToken, mount: plan.mount, policyName });
      } catch (error) {
        if (issuedSecretId) await destroySecretId(admin, roleBase, secretIdAccessor, log);
        if (error instanceof BootstrapError) throw error;
        throw new RefusedTokenError(`lookup-self of the new token failed: ${messageOf(error)}`);
      }
      log(
        `login: ${storedToken === undefined ? '' : `stored token ${health.reason}; `}new token with ttl ${info.ttlSeconds} s, policies ${info.policies.join(', ')}`,
      );

      // Credentials first: a token without the credentials to replace it is the worse half.
      if (issuedSecretId || approleStored.text === undefined) {
        const document = JSON.stringify({
          ...(storedCreds ?? {}),
          role_id: roleId,
          secret_id: secretId,
          secret_id_accessor: secretIdAccessor,
          mount: plan.mount,
          role: plan.roleName,
          managed_by: 'vault-renewer',
        });
        const outcome = await writeSecret(
          deps.secretsManager,
          plan.approleSecretId,
          approleStored,
          document,
          {
            target: plan.name,
            description: `vault-renewer: AppRole credentials of ${plan.name} (${roleBase})`,
            ...(options.kmsKeyId === undefined ? {} : { kmsKeyId: options.kmsKeyId }),
            requestToken: deterministicRequestToken(
              'vault-bootstrap',
              plan.approleSecretId,
              secretIdAccessor,
            ),
          },
        );
        log(`secret ${plan.approleSecretId}: ${outcome} (role_id, secret_id)`);
      }
      const document = renderTokenDocument(tokenDoc ?? {}, {
        token: login.token,
        accessor: info.accessor,
        renewable: info.renewable === true,
        policies: info.policies,
        tokenType: info.type,
        issuedAt: info.issueTime ?? new Date(now()).toISOString(),
        expiresAt: info.expireTime,
        ttlSeconds: info.ttlSeconds,
      });
      const outcome = await writeSecret(
        deps.secretsManager,
        plan.tokenSecretId,
        tokenStored,
        document,
        {
          target: plan.name,
          description: `vault-renewer: Vault token of ${plan.name}, kept alive by the renewer`,
          ...(options.kmsKeyId === undefined ? {} : { kmsKeyId: options.kmsKeyId }),
          requestToken: deterministicRequestToken(
            'vault-bootstrap',
            plan.tokenSecretId,
            info.accessor,
          ),
        },
      );
      log(`secret ${plan.tokenSecretId}: ${outcome} (the AppRole login's token)`);
      if (issuedSecretId && stored.accessor !== '' && stored.valid) {
        await destroySecretId(admin, roleBase, stored.accessor, log, 'the replaced secret_id');
      }
    } else {
      log(`token: the stored one is healthy (${health.reason}), kept`);
    }

    // 5. Lease secrets: created empty, the renewer issues the leases on its next run.
    for (const lease of plan.leases) {
      const existing = await readSecret(deps.secretsManager, lease.secretId);
      if (existing.exists) {
        log(`secret ${lease.secretId}: exists, left alone (lease ${lease.name})`);
        continue;
      }
      await writeSecret(deps.secretsManager, lease.secretId, existing, '{}', {
        target: plan.name,
        description: `vault-renewer: lease ${lease.name} of ${plan.name} (${lease.reissuePath})`,
        ...(options.kmsKeyId === undefined ? {} : { kmsKeyId: options.kmsKeyId }),
        requestToken: deterministicRequestToken('vault-bootstrap', lease.secretId, 'empty'),
      });
      log(
        `secret ${lease.secretId}: created as {} (the renewer issues lease ${lease.name} on its next run)`,
      );
    }

    const accessTag = config.secretAccess?.tag;
    if (accessTag !== undefined) {
      await tagForAccess(
        deps.secretsManager,
        [plan.approleSecretId, plan.tokenSecretId, ...plan.leases.map((lease) => lease.secretId)],
        accessTag,
        log,
      );
    }

    const header = plan.inConfig
      ? `# ${plan.name} is already in ${options.configPath}; its entry, for reference:`
      : `# Add under \`targets:\` in ${options.configPath}, then run \`npm run package\` and deploy:`;
    const entryYaml = `${header}\n${stringifyYaml([configEntry(plan)])}`;
    return { plan, policyName, entryYaml };
  } finally {
    await vault.close();
    await admin.close();
  }
}

async function ensureApproleMount(
  admin: VaultAdmin,
  mount: string,
  enable: boolean,
  log: (line: string) => void,
): Promise<void> {
  let mounts: Record<string, unknown>;
  try {
    mounts = dataOf(await admin.call('GET', 'sys/auth'));
  } catch (error) {
    if (error instanceof VaultHttpError && error.status === 403) {
      log('note: VAULT_TOKEN may not list auth methods (sys/auth); assuming the mount exists');
      return;
    }
    throw error;
  }
  const entry = mounts[`${mount}/`] as { type?: unknown } | undefined;
  if (entry !== undefined) {
    if (entry.type !== 'approle') {
      throw new BootstrapError(`auth/${mount} is a ${String(entry.type)} auth method, not approle`);
    }
    return;
  }
  if (!enable) {
    throw new BootstrapError(
      `no auth method is mounted at auth/${mount}: enable it (vault auth enable -path=${mount} approle) or pass --enable-approle`,
    );
  }
  await admin.call('POST', `sys/auth/${mount}`, { type: 'approle' });
  log(`auth/${mount}: AppRole enabled`);
}

interface SecretIdState {
  readonly usable: boolean;
  /** The stored secret_id exists in Vault (so it can be destroyed on rotation). */
  readonly valid: boolean;
  readonly accessor: string;
  readonly reason: string;
}

async function storedSecretIdState(
  admin: VaultAdmin,
  roleBase: string,
  roleId: string,
  creds: Record<string, unknown> | undefined,
  nowMs: number,
): Promise<SecretIdState> {
  const none = (reason: string): SecretIdState => ({
    usable: false,
    valid: false,
    accessor: '',
    reason,
  });
  if (creds === undefined) return none('no AppRole credentials stored yet');
  if (creds.role_id !== roleId) return none('the stored role_id is not this role');
  if (typeof creds.secret_id !== 'string' || creds.secret_id === '') {
    return none('no secret_id stored');
  }
  // Answers 204 when Vault does not know the secret_id (expired, used up, destroyed).
  const data = dataOf(
    await admin.call(
      'POST',
      `${roleBase}/secret-id/lookup`,
      { secret_id: creds.secret_id },
      { secrets: [creds.secret_id] },
    ),
  );
  if (Object.keys(data).length === 0) return none('the stored secret_id is unknown to Vault');
  const accessor = String(data.secret_id_accessor ?? '');
  const expiration = String(data.expiration_time ?? NO_EXPIRY);
  if (expiration !== NO_EXPIRY && Date.parse(expiration) - nowMs < SECRET_ID_RENEW_BEFORE_MS) {
    return {
      usable: false,
      valid: true,
      accessor,
      reason: `the stored secret_id expires at ${expiration}`,
    };
  }
  const usesLeft = Number(data.secret_id_num_uses ?? 0);
  if (usesLeft > 0 && usesLeft <= 2) {
    return {
      usable: false,
      valid: true,
      accessor,
      reason: `the stored secret_id has ${usesLeft} use(s) left`,
    };
  }
  return {
    usable: true,
    valid: true,
    accessor,
    reason: expiration === NO_EXPIRY ? 'no expiry' : `expires at ${expiration}`,
  };
}

/** Destroys a secret_id by its accessor. `which` names it in the log (accessors are not logged). */
async function destroySecretId(
  admin: VaultAdmin,
  roleBase: string,
  accessor: string,
  log: (line: string) => void,
  which = 'the secret_id issued by this run',
): Promise<void> {
  if (accessor === '') return;
  try {
    await admin.call('POST', `${roleBase}/secret-id-accessor/destroy`, {
      secret_id_accessor: accessor,
    });
    log(`${which}: destroyed`);
  } catch (error) {
    log(`warning: could not destroy ${which}: ${messageOf(error)}`);
  }
}

async function storedTokenHealth(
  vault: VaultClient,
  plan: TargetPlan,
  policyName: string,
  token: string,
): Promise<{ healthy: boolean; reason: string }> {
  let info: TokenInfo;
  try {
    info = await vault.lookupSelf(plan.endpoint, token);
  } catch (error) {
    if (
      error instanceof VaultError &&
      (error.kind === 'invalid-token' || error.kind === 'permission-denied')
    ) {
      return { healthy: false, reason: 'is invalid, expired or revoked' };
    }
    throw new BootstrapError(`lookup-self of the stored token failed: ${messageOf(error)}`, {
      cause: error,
    });
  }
  if (isRootToken(info)) return { healthy: false, reason: 'is a ROOT token (replaced, revoke it)' };
  if (info.type !== 'service') return { healthy: false, reason: `is a ${info.type} token` };
  if (info.renewable !== true) return { healthy: false, reason: 'is not renewable' };
  if (!info.path.startsWith(`auth/${plan.mount}/login`)) {
    return { healthy: false, reason: `was not issued by auth/${plan.mount} (${info.path})` };
  }
  const roleOfToken = info.meta?.role_name;
  if (roleOfToken !== undefined && roleOfToken !== plan.roleName) {
    return { healthy: false, reason: `belongs to role ${roleOfToken}` };
  }
  if (!info.policies.includes(policyName)) {
    return { healthy: false, reason: `lacks the policy ${policyName}` };
  }
  return { healthy: true, reason: `ttl ${info.ttlSeconds} s, renewable` };
}

/**
 * The token about to be stored must be the AppRole login's own: renewable,
 * a service token, not root, not the administrator's, with the target's policy.
 */
export function assertStorableToken(
  info: TokenInfo,
  login: { readonly token: string; readonly accessor: string },
  expected: { readonly adminToken: string; readonly mount: string; readonly policyName: string },
): void {
  if (isRootToken(info)) {
    throw new RefusedTokenError(
      'it is a ROOT token (root policy); root tokens are never renewable and must not be handed to a workload',
    );
  }
  if (login.token === expected.adminToken) {
    throw new RefusedTokenError('it is VAULT_TOKEN, the administrator token, not a login token');
  }
  if (info.accessor !== login.accessor) {
    throw new RefusedTokenError('lookup-self describes another token than the login returned');
  }
  if (!info.path.startsWith(`auth/${expected.mount}/login`)) {
    throw new RefusedTokenError(
      `it was not issued by the AppRole login at auth/${expected.mount} (path ${info.path})`,
    );
  }
  if (info.type !== 'service') {
    throw new RefusedTokenError(`it is a ${info.type} token; only service tokens can be renewed`);
  }
  if (info.renewable !== true) {
    throw new RefusedTokenError('it is not renewable');
  }
  if (!info.policies.includes(expected.policyName)) {
    throw new RefusedTokenError(`it lacks the policy ${expected.policyName}`);
  }
}

// ---------------------------------------------------------------------------
// Small helpers

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new BootstrapError(
      `cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`,
    );
  }
}

function readCaCert(path: string | undefined): string | undefined {
  const file = nonEmpty(path);
  return file === undefined ? undefined : readText(file, 'VAULT_CACERT');
}

function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function trimSlashes(value: string): string {
  return value.replace(/^\/+/, '').replace(/\/+$/, '');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function awsMessage(error: unknown): string {
  const name = (error as { name?: string }).name ?? 'Error';
  return `${name}: ${messageOf(error)}`;
}

// ---------------------------------------------------------------------------
// Command line

const USAGE =
  'usage: npm run vault:bootstrap -- <target> [--config path] [--vault-addr url] [--namespace ns] ' +
  '[--role-settings file] [--policy-file file] [--policy-name name] [--policy name]... ' +
  '[--kms-key-id key] [--enable-approle] [--rotate-secret-id] [--relogin] ' +
  '[--role name] [--mount path] [--token-secret id] [--approle-secret id] [--lease name=path]...';

export function parseCommandLine(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): BootstrapOptions {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (error) {
    throw new BootstrapError(`${messageOf(error)}\n${USAGE}`);
  }
  const { values, positionals } = parsed;
  const [target, ...extra] = positionals;
  if (target === undefined || extra.length > 0) throw new BootstrapError(USAGE);
  const at = (path: string) => (isAbsolute(path) ? path : resolve(cwd, path));
  const configPath = values.config ?? nonEmpty(env.RENEWER_CONFIG) ?? DEFAULT_CONFIG_PATH;
  const overrides: TargetOverrides = {
    ...(values['vault-addr'] === undefined
      ? {}
      : { vaultAddr: values['vault-addr'].replace(/\/+$/, '') }),
    ...(values.namespace === undefined ? {} : { namespace: values.namespace }),
    ...(values.role === undefined ? {} : { role: values.role }),
    ...(values.mount === undefined ? {} : { mount: values.mount }),
    ...(values['token-secret'] === undefined ? {} : { tokenSecret: values['token-secret'] }),
    ...(values['approle-secret'] === undefined ? {} : { approleSecret: values['approle-secret'] }),
    ...(values.lease === undefined ? {} : { leases: values.lease }),
  };
  return {
    target,
    configPath: at(configPath),
    overrides,
    roleSettingsPath:
      values['role-settings'] === undefined ? DEFAULT_ROLE_SETTINGS : at(values['role-settings']),
    policyFile:
      values['policy-file'] === undefined ? DEFAULT_POLICY_FILE : at(values['policy-file']),
    ...(values['policy-name'] === undefined ? {} : { policyName: values['policy-name'] }),
    extraPolicies: values.policy ?? [],
    ...(values['kms-key-id'] === undefined ? {} : { kmsKeyId: values['kms-key-id'] }),
    enableApprole: values['enable-approle'] === true,
    rotateSecretId: values['rotate-secret-id'] === true,
    relogin: values.relogin === true,
  };
}

function parseOptions(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string' },
      'vault-addr': { type: 'string' },
      namespace: { type: 'string' },
      'role-settings': { type: 'string' },
      'policy-file': { type: 'string' },
      'policy-name': { type: 'string' },
      policy: { type: 'string', multiple: true },
      'kms-key-id': { type: 'string' },
      'enable-approle': { type: 'boolean' },
      'rotate-secret-id': { type: 'boolean' },
      relogin: { type: 'boolean' },
      role: { type: 'string' },
      mount: { type: 'string' },
      'token-secret': { type: 'string' },
      'approle-secret': { type: 'string' },
      lease: { type: 'string', multiple: true },
    },
  });
}

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const options = parseCommandLine(process.argv.slice(2), process.env, process.cwd());
    const secretsManager = new SecretsManagerClient({});
    try {
      const result = await bootstrapTarget(options, { env: process.env, secretsManager, log });
      process.stdout.write(result.entryYaml);
    } finally {
      secretsManager.destroy();
    }
  } catch (error) {
    // What Vault answered (VaultError, secrets scrubbed at birth) or what the command
    // refused is the whole message; anything else is a bug and keeps its stack.
    if (
      error instanceof BootstrapError ||
      error instanceof VaultError ||
      (error as { name?: string }).name === 'ConfigError'
    ) {
      log(`vault:bootstrap: ${messageOf(error)}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  await main();
}
