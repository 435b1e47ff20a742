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
import { DEFAULT_POLICY_FILE, DEFAULT_ROLE_SETTINGS } from './role-settings.js';
import type { TargetOverrides } from './target-plan.js';

export const USAGE =
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
