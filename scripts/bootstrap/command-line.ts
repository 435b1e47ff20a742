/**
 * The command line of `npm run vault:bootstrap`, read into BootstrapOptions;
 * every option is described at the top of main.ts. A relative path is taken
 * from `cwd` (the repository root under `npm run`), so the options say the
 * same thing however the run was started.
 */

import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_PATH } from '../validate-config.js';
import type { BootstrapOptions } from './bootstrap.js';
import { BootstrapError, messageOf } from './errors.js';
import { nonEmpty } from './operator-input.js';
import { DEFAULT_FLEET, fleetNameProblem } from './ownership.js';
import { DEFAULT_POLICY_FILE, DEFAULT_ROLE_SETTINGS } from './role-settings.js';
import type { TargetOverrides } from './target-plan.js';

export const USAGE =
  'usage: npm run vault:bootstrap -- <target> [--config path] [--fleet name] [--vault-addr url] [--namespace ns] ' +
  '[--role-settings file] [--policy-file file] [--policy-name name] [--policy name]... ' +
  '[--kms-key-id key] [--enable-approle] [--rotate-secret-id] [--relogin] ' +
  '[--role name] [--mount path] [--token-secret id] [--approle-secret id] [--lease name=path]...';

/** What `--help` prints. */
export const HELP = `${USAGE.replace(/^usage:/, 'Usage:')}

Sets up the Vault side of one target (policy, AppRole role, secret_id, a verified
first token) and stores its credentials in Secrets Manager; idempotent. VAULT_TOKEN
is an administrator's token, never stored. Prints the target's config entry on stdout.

Options:
  --config <path>          target list (default: $RENEWER_CONFIG, then config/targets.yaml)
  --fleet <name>           the set-up's name, as for npm run vault:setup (default default)
  --vault-addr <url>       where to reach Vault from here (default: the target's
                           address in the config, then $VAULT_ADDR)
  --namespace <ns>         Vault namespace (default: the target's, then $VAULT_NAMESPACE)
  --role-settings <path>   AppRole role settings (default infra/vault/approle-role.yaml)
  --policy-file <path>     base policy (default infra/vault/workload-policy.hcl)
  --policy-name <name>     (default vault-renewer-<target>)
  --policy <name>          another policy for the role's tokens, e.g. the
                           workload's own (repeatable)
  --kms-key-id <key>       KMS key for secrets this creates (default aws/secretsmanager)
  --enable-approle         enable the AppRole auth method at the mount if it is missing
  --rotate-secret-id       issue a new secret_id even if the stored one is valid,
                           and destroy the old one once the new one is stored
  --relogin                log in and store a new token even if the stored one is healthy
For a target not in the config yet (defaults in brackets):
  --role <name> [<target>]  --mount <path> [the targets' shared mount, else approle]
  --token-secret <id> [vault/<target>/token]  --approle-secret <id> [vault/<target>/approle]
  --lease <name>=<reissuePath> (repeatable; its secret: vault/<target>/<name>)
  -h, --help               this text`;

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
  const fleetProblem = fleetNameProblem(values.fleet);
  if (fleetProblem !== undefined) throw new BootstrapError(fleetProblem);
  return {
    target,
    fleet: values.fleet,
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
      fleet: { type: 'string', default: DEFAULT_FLEET },
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
