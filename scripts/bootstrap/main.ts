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
 * Options: `npm run vault:bootstrap -- --help` (HELP in command-line.ts).
 *
 * This file only wires the clients and turns a refusal into one line and exit 1;
 * the run itself is bootstrap.ts, the rest of this folder its parts.
 */

import { pathToFileURL } from 'node:url';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createSecretProvisioning,
  SecretProvisioningError,
} from '../../functions/aws/secret-provisioning.js';
import { VaultError } from '../../functions/vault/errors.js';
import { asksForHelp } from '../lib/options.js';
import { bootstrapTarget } from './bootstrap.js';
import { HELP, parseCommandLine } from './command-line.js';
import { BootstrapError, messageOf } from './errors.js';

export async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    if (asksForHelp(process.argv.slice(2))) {
      process.stdout.write(`${HELP}\n`);
      return;
    }
    const options = parseCommandLine(process.argv.slice(2), process.env, process.cwd());
    const client = new SecretsManagerClient({});
    try {
      const secrets = createSecretProvisioning({ client });
      const result = await bootstrapTarget(options, { env: process.env, secrets, log });
      process.stdout.write(result.entryYaml);
    } finally {
      client.destroy();
    }
  } catch (error) {
    // What Vault or AWS answered (their errors are scrubbed at birth) or what the command
    // refused is the whole message; anything else is a bug and keeps its stack.
    if (
      error instanceof BootstrapError ||
      error instanceof VaultError ||
      error instanceof SecretProvisioningError ||
      (error as { name?: string }).name === 'ConfigError'
    ) {
      log(`vault:bootstrap: ${messageOf(error)}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

// Run only as the command, so tests can import this module without starting a run.
const invokedPath = process.argv[1];
if (invokedPath !== undefined && import.meta.url === pathToFileURL(invokedPath).href) {
  await main();
}
