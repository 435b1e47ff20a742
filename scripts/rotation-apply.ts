/**
 * `npm run rotation:apply`: gives each AppRole and token secret of the fleet
 * the rotation its config asks for (docs/rotation.md, "Deploy"). Run by the
 * deploy step after `osls deploy` (infra/rotation-plugin.cjs) with the stack's
 * RotateFunctionArn output; safe to run again at any time.
 *
 *   npm run rotation:apply -- --function-arn <arn> [--dry-run] [--prune] [--json]
 *
 * The config is RENEWER_CONFIG (default config/targets.yaml); AWS credentials,
 * region and endpoint as the SDK reads them. Exit 1 when a secret could not be
 * described or changed; drift is reported, and cancelled with --prune.
 */

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { loadConfigFile } from '../functions/config/load.js';
import { parseOptions, runCommand, UsageError } from './lib/command.js';
import { applyRotationSettings, summarise } from './rotation/apply-settings.js';

const COMMAND = 'npm run rotation:apply';
const USAGE = `Usage: npm run rotation:apply -- --function-arn <arn> [--dry-run] [--prune] [--json]

Gives each AppRole and token secret of RENEWER_CONFIG (default config/targets.yaml) the
rotation its config asks for; safe to run again. Exit 1 when a secret could not be
described or changed.

  --function-arn <arn>  the stack's RotateFunctionArn output (npx osls info --verbose)
  --dry-run             say what would change, change nothing
  --prune               also cancel rotation the config no longer asks for
  --json                print the outcomes as JSON
  -h, --help            this text`;
const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/;

await runCommand(COMMAND, async () => {
  const options = parseOptions(
    {
      'function-arn': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      prune: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const functionArn = options['function-arn'] ?? '';
  if (!LAMBDA_ARN.test(functionArn)) {
    throw new UsageError(
      "--function-arn must be the rotate function's ARN (the stack output RotateFunctionArn: npx osls info --verbose)",
    );
  }
  const config = loadConfigFile(process.env.RENEWER_CONFIG || 'config/targets.yaml');
  const client = new SecretsManagerClient({});
  try {
    const outcomes = await applyRotationSettings(config, client, {
      functionArn,
      dryRun: options['dry-run'],
      prune: options.prune,
    });
    if (options.json) {
      process.stdout.write(
        `${JSON.stringify({ outcomes, summary: summarise(outcomes) }, null, 2)}\n`,
      );
    } else {
      for (const outcome of outcomes) {
        if (
          outcome.result === 'unchanged' &&
          outcome.action !== 'drift' &&
          outcome.action !== 'foreign'
        )
          continue;
        const why = outcome.differences.length === 0 ? '' : ` (${outcome.differences.join(', ')})`;
        console.log(
          `${outcome.secret} [${outcome.target} ${outcome.kind}]: ${outcome.action}, ${outcome.result}${why}`,
        );
      }
      console.log(
        `rotation settings: ${Object.entries(summarise(outcomes))
          .map(([key, n]) => `${n} ${key}`)
          .join(', ')}`,
      );
    }
    if (outcomes.some((o) => o.failed)) process.exitCode = 1;
  } finally {
    client.destroy();
  }
});
