/**
 * `npm run rotate`: one rotation of a target's AppRole or token secret, as
 * Secrets Manager runs it.
 *
 * Local (default): starts the local stack, seeds a target with a database
 * lease and the rotator, applies the rotation settings the way the deploy
 * step does (npm run rotation:apply), then rotates: RotateSecret stages the
 * new version and the real entry point (`functions/rotate.ts`) runs once per
 * step, as Secrets Manager would invoke it (moto cannot run a Lambda). It
 * shows each step, checks that the new credential works and the old
 * secret_id no longer does, and for a token runs the renewer once so the
 * leases follow.
 *
 * External (`--external`): with RENEWER_CONFIG set and AWS credentials as the
 * SDK reads them, asks Secrets Manager to rotate the target's secret now
 * (the deployed rotate function does the steps) and waits for the outcome.
 *
 *   npm run rotate -- --target NAME --secret approle|token [--external]
 */

import { join } from 'node:path';
import {
  DescribeSecretCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RenewerConfig } from '../functions/config/types.js';
import type { RunReport } from '../functions/renewal/report.js';
import type { RotationReport } from '../functions/rotation/rotate.js';
import { shippedWorkloadPolicy } from '../infra/vault/workload-policy.js';
import type { Fleet } from '../tools/local-stack/fleet.js';
import { REPO_ROOT } from '../tools/local-stack/python-env.js';
import {
  localRotationFunctionArn,
  rotateLikeSecretsManager,
} from '../tools/local-stack/rotation-function.js';
import { rotatorPolicy } from './bootstrap/rotator-policy.js';
import {
  parseOptions,
  requireAwsSettings,
  runCommand,
  SetupError,
  UsageError,
  useExternalConfig,
} from './lib/command.js';
import { startDemoStack } from './lib/demo-stack.js';
import { invokeEntryPoint } from './lib/invoke-entry-point.js';
import { writeLocalConfig } from './lib/local-config.js';
import { applyRotationSettings } from './rotation/apply-settings.js';

const COMMAND = 'npm run rotate';
const USAGE = `Usage: npm run rotate -- --secret approle|token [--target NAME] [--external]

One rotation of a target's AppRole secret (a new secret_id) or token secret (a verified
re-login), as Secrets Manager runs it. Without --external: on the local stack with a
demo target and the rotator. With --external: asks Secrets Manager to rotate the
target's secret now (RENEWER_CONFIG, AWS credentials and region) and waits.

  --secret approle|token   which of the target's secrets
  --target NAME            the target (--external; the demo's own otherwise)
  --external               rotate in the real account
  -h, --help               this text`;
const LOG_FILE = join(REPO_ROOT, '.stack', 'last-rotation.log');
const HOUR = 3600;
const DEMO_TARGET = 'billing-api';
const DEMO_ROTATOR = 'vault-renewer-rotator';

type Kind = 'approle' | 'token';

function readOptions() {
  const options = parseOptions(
    {
      target: { type: 'string' },
      secret: { type: 'string' },
      external: { type: 'boolean', default: false },
    },
    USAGE,
  );
  const kind = options.secret;
  if (kind !== 'approle' && kind !== 'token') {
    throw new UsageError(
      '--secret must be approle (a new secret_id) or token (a verified re-login)',
    );
  }
  return { target: options.target, kind: kind as Kind, external: options.external };
}

function secretOf(config: RenewerConfig, targetName: string, kind: Kind): string {
  const target = config.targets.find((t) => t.name === targetName);
  if (target === undefined) {
    throw new UsageError(
      `--target ${JSON.stringify(targetName)} is not in the config; it lists ${config.targets.map((t) => t.name).join(', ')}`,
    );
  }
  if (kind !== 'approle') return target.tokenSecretId;
  if (target.approle === undefined) {
    throw new UsageError(
      `target ${targetName} logs in with jwt: it keeps no AppRole secret to rotate`,
    );
  }
  return target.approle.secretId;
}

async function seed(fleet: Fleet): Promise<Record<string, unknown>[]> {
  const db = { name: 'db', defaultTtl: HOUR, maxTtl: 24 * HOUR };
  const healthy = { tokenTtl: HOUR, tokenMaxTtl: 24 * HOUR };
  const app = await fleet.target(DEMO_TARGET, healthy, { leases: [db] });
  const mount = fleet.approleMount;
  const rotator = await fleet.target(DEMO_ROTATOR, {
    ...healthy,
    policy: `${shippedWorkloadPolicy([], `auth/${mount}/role/${DEMO_ROTATOR}`)}\n${rotatorPolicy([{ mount, role: app.roleName }])}`,
  });
  return [
    fleet.targetConfig(app, { rotation: { approle: { everyDays: 30 }, token: { everyDays: 7 } } }),
    fleet.targetConfig(rotator),
  ];
}

async function runLocal(targetName: string, kind: Kind): Promise<void> {
  if (targetName !== DEMO_TARGET) {
    throw new UsageError(
      `the local demo rotates --target ${DEMO_TARGET}; add --external to rotate a target of RENEWER_CONFIG`,
    );
  }
  const say = (text: string) => console.log(text);
  const { stack, fleet } = await startDemoStack('rotate', say);
  try {
    const targets = await seed(fleet);
    const { configFile, resolvedFile } = writeLocalConfig('rotate', stack.env.VAULT_ADDR, targets, {
      rotation: { rotator: DEMO_ROTATOR },
    });
    Object.assign(process.env, stack.env, {
      ALERT_TOPIC_ARN: (await fleet.subscriber()).topicArn,
      RENEWER_CONFIG_FILE: resolvedFile,
      POWERTOOLS_SERVICE_NAME: 'vault-renewer',
    });
    const { loadResolvedConfigFile } = await import('../functions/config/resolved.js');
    const config = loadResolvedConfigFile(resolvedFile);
    const secret = secretOf(config, targetName, kind);
    const client = new SecretsManagerClient({});
    const functionArn = await localRotationFunctionArn(stack.env);
    say(`Applying the rotation settings of ${configFile} (as npm run rotation:apply does)...`);
    const applied = await applyRotationSettings(config, client, {
      functionArn,
      dryRun: false,
      prune: false,
    });
    for (const outcome of applied) {
      say(`  ${outcome.secret}: ${outcome.action}, ${outcome.result}`);
    }
    const before = await fleet.secretJson(secret);
    say(`\nRotating ${secret} (${kind}) as Secrets Manager does: RotateSecret, then each step...`);
    await rotateLikeSecretsManager(stack.env, secret, async (event) => {
      const report = await invokeEntryPoint<RotationReport>(
        () => import('../functions/rotate.js'),
        event,
        { timeoutMs: 60_000, logFile: LOG_FILE },
      );
      say(
        `  ${report.step.padEnd(13)} ${report.outcome}${report.details === undefined ? '' : ` ${JSON.stringify(report.details)}`}`,
      );
    });
    const after = await fleet.secretJson(secret);
    if (kind === 'approle') {
      const works = (secretId: unknown) =>
        fleet.login(String(after.role_id), String(secretId)).then(
          () => 'logs in',
          () => 'refused by Vault',
        );
      say(`\nThe new secret_id (AWSCURRENT): ${await works(after.secret_id)}`);
      say(`The previous secret_id (AWSPREVIOUS): ${await works(before.secret_id)}`);
    } else {
      // Whether it changed, not the accessor itself: no accessor is printed anywhere (docs/operations.md).
      const changed = after.accessor !== before.accessor ? 'a new token' : 'the same token';
      say(`\nAWSCURRENT now holds ${changed}. Running the renewer once; the lease follows:`);
      const run = await invokeEntryPoint<RunReport>(
        () => import('../functions/renew.js'),
        {},
        { timeoutMs: 60_000, logFile: join(REPO_ROOT, '.stack', 'last-run.log') },
      );
      for (const lease of run.targets.find((t) => t.target === targetName)?.leases ?? []) {
        say(
          `  lease ${lease.name}: ${lease.outcome}${lease.reason === undefined ? '' : ` (${lease.reason})`}`,
        );
      }
    }
    say(`\nLogs of the rotate function: ${LOG_FILE}`);
    client.destroy();
  } finally {
    await stack.stop();
  }
}

async function runExternal(targetName: string, kind: Kind): Promise<void> {
  if (!process.env.RENEWER_CONFIG) {
    throw new SetupError(`${COMMAND} --external needs RENEWER_CONFIG (the targets YAML)`);
  }
  await requireAwsSettings(COMMAND);
  const config = useExternalConfig('external-targets.resolved.json');
  const secret = secretOf(config, targetName, kind);
  const client = new SecretsManagerClient({});
  try {
    // RotateSecret uses the rotation the secret has; without one there is nothing to run.
    const before = await client.send(new DescribeSecretCommand({ SecretId: secret }));
    if (before.RotationEnabled !== true) {
      throw new SetupError(
        `${secret} has no rotation configured: run npm run rotation:apply first (docs/rotation.md, "Deploy"); nothing was changed`,
      );
    }
    const started = await client.send(new RotateSecretCommand({ SecretId: secret }));
    const version = started.VersionId ?? '';
    console.log(`Secrets Manager is rotating ${secret} (new version ${version}); waiting...`);
    const deadline = Date.now() + 5 * 60_000;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      const described = await client.send(new DescribeSecretCommand({ SecretId: secret }));
      const stages = described.VersionIdsToStages?.[version] ?? [];
      if (stages.includes('AWSCURRENT')) {
        console.log(`Rotated: version ${version} is AWSCURRENT.`);
        return;
      }
      if (!stages.includes('AWSPENDING')) {
        process.exitCode = 1;
        console.log(
          `The rotation failed: version ${version} is no longer pending. See the alert topic (rotation-failed) and the rotate function's logs.`,
        );
        return;
      }
    }
    process.exitCode = 1;
    console.log(`Still pending after 5 minutes: see the rotate function's logs.`);
  } finally {
    client.destroy();
  }
}

await runCommand(COMMAND, async () => {
  const { target, kind, external } = readOptions();
  if (target === undefined) throw new UsageError('--target <name> is required');
  await (external ? runExternal(target, kind) : runLocal(target, kind));
});
