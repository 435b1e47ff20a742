/**
 * One bootstrap run, in the order that keeps a half-finished run harmless:
 * Vault first (policy, role, secret_id), then a verified login, then the
 * credentials before the token in Secrets Manager (a token without the
 * credentials to replace it is the worse half), then the lease secrets, tags
 * and the config entry. Every step keeps what is already right, so a second
 * run writes no new secret_id and no new secret version.
 */

import { stringify as stringifyYaml } from 'yaml';
import type { SecretProvisioning } from '../../functions/aws/secret-provisioning.js';
import { loadConfigFile } from '../../functions/config/load.js';
import { createVaultAdmin } from '../../functions/vault/admin.js';
import { adminEndpoints } from '../../functions/vault/admin-endpoints.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { BootstrapError } from './errors.js';
import { nonEmpty, readCaCert } from './operator-input.js';
import { loadPolicy, loadRoleSettings } from './role-settings.js';
import { rotationReach } from './rotation-reach.js';
import { managedRoles, ROTATOR_POLICY_NAME, rotatorPolicy } from './rotator-policy.js';
import {
  createLeaseSecrets,
  readDocument,
  type SecretsSide,
  storeCredentials,
  storeToken,
  tagByAccess,
  tagForAccess,
} from './secrets-side.js';
import { configEntry, planTarget, type TargetOverrides, type TargetPlan } from './target-plan.js';
import {
  destroySecretId,
  ensureApproleMount,
  issueSecretId,
  logInAndVerify,
  noteAdminToken,
  storedSecretIdState,
  storedTokenHealth,
  writePolicy,
  writeRole,
} from './vault-side.js';

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
  readonly secrets: SecretProvisioning;
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
  // Before anything changes: a secret_id that expires between two rotations breaks the target.
  const reach = rotationReach(
    settings.secret_id_ttl,
    config.targets.find((t) => t.name === plan.name)?.rotation?.approle,
  );
  if (reach.problem !== undefined)
    throw new BootstrapError(`target ${plan.name}: ${reach.problem}`);
  if (reach.warning !== undefined) log(`warning: ${reach.warning}`);
  const policyName = options.policyName ?? `vault-renewer-${plan.name}`;
  // The rotator's role also gets the rotator policy (infra/vault/rotator-policy.hcl).
  const isRotator = config.rotator !== undefined && config.rotator === plan.name;
  const tokenPoliciesToAdd = [
    policyName,
    ...(isRotator ? [ROTATOR_POLICY_NAME] : []),
    ...options.extraPolicies,
  ];
  if (tokenPoliciesToAdd.includes('root')) {
    throw new BootstrapError('--policy root: a workload token must never carry the root policy');
  }

  const caCertPem = config.vaultCaCertPem ?? readCaCert(env.VAULT_CACERT);
  const clientOptions = caCertPem === undefined ? {} : { caCertPem };
  const vault = createVaultClient(clientOptions);
  const admin = createVaultAdmin(plan.endpoint, adminToken, clientOptions);
  const endpoints = adminEndpoints(admin);
  const side: SecretsSide = { secrets: deps.secrets, plan, kmsKeyId: options.kmsKeyId, log };
  const role = {
    mount: plan.mount,
    name: plan.roleName,
    base: `auth/${plan.mount}/role/${plan.roleName}`,
  };
  const roleBase = role.base;
  log(
    `target ${plan.name}: Vault ${plan.endpoint.address}${plan.endpoint.namespace === undefined ? '' : ` namespace ${plan.endpoint.namespace}`}, role ${roleBase}`,
  );

  try {
    await noteAdminToken(endpoints, log);
    await ensureApproleMount(endpoints, plan.mount, options.enableApprole, log);

    // 1. The policy.
    const policy = loadPolicy(
      options.policyFile,
      plan.leases.map((l) => l.reissuePath),
      role.base,
    );
    await writePolicy(endpoints, policyName, policy, log);
    // The rotator policy names every managed role: rewritten when the rotator
    // or a target whose AppRole secret rotates is set up, so it follows the config.
    const rotated = config.targets.find((t) => t.name === plan.name)?.rotation?.approle;
    if (config.rotator !== undefined && (isRotator || rotated !== undefined)) {
      await writePolicy(endpoints, ROTATOR_POLICY_NAME, rotatorPolicy(managedRoles(config)), log);
    }

    // 2. The role.
    const roleId = await writeRole(endpoints, role, settings, tokenPoliciesToAdd, log);

    // 3. The secret_id: keep a valid stored one unless asked to rotate.
    const approleStored = await readDocument(side, plan.approleSecretId);
    const storedCreds = approleStored.document;
    const stored = await storedSecretIdState(endpoints, role, roleId, storedCreds, now());
    let secretId: string;
    let secretIdAccessor: string;
    let issuedSecretId = false;
    if (stored.usable && !options.rotateSecretId) {
      secretId = String(storedCreds?.secret_id);
      secretIdAccessor = stored.accessor;
      log(`secret_id: the stored one is valid (${stored.reason}), kept`);
    } else {
      ({ secretId, accessor: secretIdAccessor } = await issueSecretId(endpoints, role, plan.name));
      issuedSecretId = true;
      log(
        `secret_id: issued a new one (${options.rotateSecretId ? 'rotation asked' : stored.reason})`,
      );
    }

    // 4. The token: keep a healthy stored one, else log in once and verify.
    const tokenStored = await readDocument(side, plan.tokenSecretId);
    const storedToken =
      typeof tokenStored.document?.token === 'string' ? tokenStored.document.token : undefined;
    const health =
      storedToken === undefined
        ? { healthy: false, reason: 'no token stored yet' }
        : await storedTokenHealth(vault, plan, policyName, storedToken);
    const mustLogin = issuedSecretId || options.relogin || !health.healthy;
    if (mustLogin) {
      const { login, info } = await logInAndVerify(
        vault,
        endpoints,
        {
          plan,
          role,
          roleId,
          secretId,
          issuedAccessor: issuedSecretId ? secretIdAccessor : undefined,
          adminToken,
          policyName,
        },
        log,
      );
      log(
        `login: ${storedToken === undefined ? '' : `stored token ${health.reason}; `}new token with ttl ${info.ttlSeconds} s, policies ${info.policies.join(', ')}`,
      );

      // Credentials first: a token without the credentials to replace it is the worse half.
      if (issuedSecretId || approleStored.secret.text === undefined) {
        await storeCredentials(side, approleStored, {
          roleBase,
          roleId,
          secretId,
          secretIdAccessor,
        });
      }
      await storeToken(side, tokenStored, login.token, info, now());
      if (issuedSecretId && stored.accessor !== '' && stored.valid) {
        await destroySecretId(endpoints, role, stored.accessor, log, 'the replaced secret_id');
      }
    } else {
      log(`token: the stored one is healthy (${health.reason}), kept`);
    }

    // 5. Lease secrets.
    await createLeaseSecrets(side);

    const accessTag = config.secretAccess?.tag;
    if (accessTag !== undefined) await tagForAccess(side, accessTag);
    const byTag = config.secretAccess?.byTag;
    if (byTag !== undefined) await tagByAccess(side, byTag.key);

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
