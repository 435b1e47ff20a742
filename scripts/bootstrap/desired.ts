/**
 * What the config asks of one target on both sides, built the same way for
 * `vault:bootstrap` (one target) and `vault:setup` (the fleet): its policy,
 * its role's settings and token policies, the tags IAM grants by, and the
 * rotation of its secrets.
 */

import type { RenewerConfig, RotationRules } from '../../functions/config/types.js';
import { BootstrapError } from './errors.js';
import { loadPolicy, type RoleSettings } from './role-settings.js';
import { ROTATOR_POLICY_NAME } from './rotator-policy.js';
import { secretTags } from './secrets-side.js';
import type { TargetPlan } from './target-plan.js';
import type { DesiredTarget } from './target-setup.js';

export interface SetupInputs {
  readonly config: RenewerConfig;
  /** The set-up's scope (ownership.ts); every secret of the target is tagged with it. */
  readonly fleet: string;
  readonly settings: RoleSettings;
  readonly policyFile: string;
  /** Default `vault-renewer-<target>`. */
  readonly policyName?: string;
  /** More policies for the role's tokens (the workload's own). */
  readonly extraPolicies: readonly string[];
}

export function desiredTarget(plan: TargetPlan, inputs: SetupInputs): DesiredTarget {
  const { config } = inputs;
  const policyName = inputs.policyName ?? `vault-renewer-${plan.name}`;
  // The rotator's role also gets the rotator policy (infra/vault/rotator-policy.hcl).
  const isRotator = config.rotator !== undefined && config.rotator === plan.name;
  const tokenPolicies = [
    policyName,
    ...(isRotator ? [ROTATOR_POLICY_NAME] : []),
    ...inputs.extraPolicies,
  ];
  if (tokenPolicies.includes('root')) {
    throw new BootstrapError('--policy root: a workload token must never carry the root policy');
  }
  const role = `auth/${plan.mount}/role/${plan.roleName}`;
  const rotation = config.targets.find((t) => t.name === plan.name)?.rotation;
  const rotations = new Map<string, RotationRules | undefined>([
    [plan.approleSecretId, rotation?.approle],
    [plan.tokenSecretId, rotation?.token],
  ]);
  return {
    fleet: inputs.fleet,
    plan,
    policyName,
    policy: loadPolicy(
      inputs.policyFile,
      plan.leases.map((l) => l.reissuePath),
      role,
    ),
    settings: inputs.settings,
    tokenPolicies,
    tags: secretTags(plan, inputs.fleet, config.secretAccess),
    rotations,
  };
}
