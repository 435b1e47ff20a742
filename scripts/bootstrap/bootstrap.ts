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
import { desiredTarget } from './desired.js';
import { BootstrapError } from './errors.js';
import { nonEmpty, readCaCert } from './operator-input.js';
import { loadRoleSettings } from './role-settings.js';
import { rotationReach } from './rotation-reach.js';
import { managedRoles, ROTATOR_POLICY_NAME, rotatorPolicy } from './rotator-policy.js';
import type { SecretsSide } from './secrets-side.js';
import { configEntry, planTarget, type TargetOverrides, type TargetPlan } from './target-plan.js';
import { applyChanges, observeTarget, planChanges, type SetupSides } from './target-setup.js';
import { ensureApproleMount, noteAdminToken, writePolicy } from './vault-side.js';

export interface BootstrapOptions {
  readonly target: string;
  /** The set-up's scope (ownership.ts). */
  readonly fleet: string;
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
  const desired = desiredTarget(plan, {
    config,
    fleet: options.fleet,
    settings,
    policyFile: options.policyFile,
    ...(options.policyName === undefined ? {} : { policyName: options.policyName }),
    extraPolicies: options.extraPolicies,
  });
  const { policyName } = desired;

  const caCertPem = config.vaultCaCertPem ?? readCaCert(env.VAULT_CACERT);
  const clientOptions = caCertPem === undefined ? {} : { caCertPem };
  const vault = createVaultClient(clientOptions);
  const admin = createVaultAdmin(plan.endpoint, adminToken, clientOptions);
  const endpoints = adminEndpoints(admin);
  const side: SecretsSide = {
    secrets: deps.secrets,
    plan,
    kmsKeyId: options.kmsKeyId,
    log,
    pace: async () => {},
    tagsFor: (id) => desired.tags.get(id) ?? [],
  };
  log(
    `target ${plan.name}: Vault ${plan.endpoint.address}${plan.endpoint.namespace === undefined ? '' : ` namespace ${plan.endpoint.namespace}`}, role auth/${plan.mount}/role/${plan.roleName}`,
  );

  try {
    await noteAdminToken(endpoints, log);
    await ensureApproleMount(endpoints, plan.mount, options.enableApprole, log);
    // The rotator policy names every managed role: rewritten when the rotator
    // or a target whose AppRole secret rotates is set up, so it follows the config.
    const isRotator = config.rotator !== undefined && config.rotator === plan.name;
    const rotated = config.targets.find((t) => t.name === plan.name)?.rotation?.approle;
    if (config.rotator !== undefined && (isRotator || rotated !== undefined)) {
      await writePolicy(endpoints, ROTATOR_POLICY_NAME, rotatorPolicy(managedRoles(config)), log);
    }
    const sides: SetupSides = { admin: endpoints, vault, adminToken, secrets: side, now };
    const choices = { rotateSecretId: options.rotateSecretId, relogin: options.relogin };
    const observed = await observeTarget(desired, sides);
    const changes = planChanges(desired, observed, choices);
    await applyChanges(desired, observed, changes, sides, choices, log);

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
