/**
 * Which target the bootstrap sets up and where its pieces live: from its entry
 * in the config when it has one (the config stays the one source of truth, so
 * flags that disagree with it are refused), otherwise from the command line
 * with defaults; and the entry to paste into the config afterwards.
 */

import {
  TARGET_NAME_PATTERN,
  TARGET_NAME_RULE,
  TARGET_NAME_SOURCE,
} from '../../functions/config/target-name.js';
import type { RenewerConfig, TargetConfig } from '../../functions/config/types.js';
import type { VaultEndpoint } from '../../functions/core/vault-port.js';
import { trimSlashes } from '../../functions/vault/address.js';
import { BootstrapError } from './errors.js';
import { nonEmpty } from './operator-input.js';

/** `--lease <name>=<reissuePath>`. */
const LEASE_SPEC = new RegExp(`^(${TARGET_NAME_SOURCE})=([^/\\s][^\\s]*)$`);

const DEFAULT_APPROLE_MOUNT = 'approle';

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

  if (
    configured?.jwt !== undefined ||
    (configured !== undefined && configured.approle === undefined)
  ) {
    throw new BootstrapError(
      `target ${name} logs in with jwt: its Vault side is a jwt role, which npm run vault:setup sets up (--jwt-issuer, --renew-role-arn)`,
    );
  }
  if (configured?.approle !== undefined) {
    const { approle } = configured;
    const conflicts = (
      [
        ['--role', overrides.role, approle.roleName],
        ['--mount', overrides.mount, approle.mount],
        ['--token-secret', overrides.tokenSecret, configured.tokenSecretId],
        ['--approle-secret', overrides.approleSecret, approle.secretId],
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
      approleSecretId: approle.secretId,
      mount: approle.mount,
      roleName: approle.roleName ?? overrides.role ?? name,
      leases: configured.leases.map((l) => ({
        name: l.name,
        secretId: l.secretId,
        reissuePath: l.reissuePath,
      })),
    };
  }
  if (!TARGET_NAME_PATTERN.test(name)) {
    throw new BootstrapError(`target name ${JSON.stringify(name)}: must be ${TARGET_NAME_RULE}`);
  }
  const leases = (overrides.leases ?? []).map((spec) => {
    const match = LEASE_SPEC.exec(spec);
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
      overrides.mount ?? shared(config, (t) => t.approle?.mount) ?? DEFAULT_APPROLE_MOUNT,
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
