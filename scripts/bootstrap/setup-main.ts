/**
 * `npm run vault:setup -- [--apply] [--retire] [--targets a,b] [...]`: plans,
 * and with --apply makes, the Vault and Secrets Manager side of every target
 * in the config (fleet-setup.ts). Prints one line per target that needs a
 * change (unchanged ones as a count, all with --all), then the summary; the
 * progress line and, with --verbose, every step go to stderr. Exit 1 when a
 * target failed.
 */

import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createSecretProvisioning,
  SecretProvisioningError,
} from '../../functions/aws/secret-provisioning.js';
import { loadConfigFile } from '../../functions/config/load.js';
import { VaultError } from '../../functions/vault/errors.js';
import { parseOptions, runCommand, SetupError, UsageError } from '../lib/command.js';
import { progressLine } from '../lib/progress.js';
import { validateTargetLines } from '../targets/validate-lines.js';
import { DEFAULT_CONFIG_PATH } from '../validate-config.js';
import { BootstrapError } from './errors.js';
import { setupFleet, type TargetOutcome, TargetStatus } from './fleet-setup.js';
import { nonEmpty } from './operator-input.js';
import { DEFAULT_FLEET, fleetNameProblem } from './ownership.js';
import { DEFAULT_POLICY_FILE, DEFAULT_ROLE_SETTINGS, loadRoleSettings } from './role-settings.js';

const COMMAND = 'npm run vault:setup';
const USAGE = `Usage: npm run vault:setup -- [--apply] [--retire] [--targets a,b] [--json] [--all] [--verbose]

Plans the Vault and Secrets Manager side of every target in the config (policy, AppRole
role, secret_id, token, secrets, tags, and rotation with --function-arn), and the
targets this project set up that the config no longer names. Changes nothing unless
--apply. Idempotent and resumable: a run after an interruption goes on where it stopped.
VAULT_TOKEN is an administrator's token, never stored. Exit 1 when a target failed.

  --apply                       make the planned changes
  --retire                      with --apply, also retire the targets the config no longer
                                names: revoke token and leases, destroy secret_ids, delete
                                role (if created here) and policy, schedule secrets for deletion
  --recovery-days <7-30>        recovery window of retired secrets (default 30)
  --targets <a,b>               only these targets (configured or retirable)
  --fleet <name>                this set-up's name, when several configs share a Vault or
                                an account: each retires only its own (default default)
  --config <path>               (default: $RENEWER_CONFIG, then ${DEFAULT_CONFIG_PATH})
  --targets-file <path>         also the targets of this JSON Lines file (the targets object's,
                                as npm run targets:push checks and uploads them)
  --role-settings <path>        AppRole role settings (default infra/vault/approle-role.yaml)
  --policy-file <path>          base policy (default infra/vault/workload-policy.hcl)
  --kms-key-id <key>            KMS key for secrets this creates (default aws/secretsmanager)
  --function-arn <arn>          the rotate function: also plan and apply rotation settings
  --enable-approle              enable AppRole at a mount that has no auth method
  --jwt-issuer <url>            for jwt targets: the account's issuer (aws iam
                                enable-outbound-web-identity-federation answers it)
  --renew-role-arn <arn>        for jwt targets: the renew role (stack output RenewRoleArn),
                                the only subject their roles accept
  --enable-jwt                  enable the jwt auth method at a mount that has none
  --rotate-secret-id            issue new secret_ids (the old ones destroyed once stored)
  --relogin                     log in again and store new tokens even if healthy
  --concurrency <n>             targets at a time (default 8)
  --aws-writes-per-second <n>   all Secrets Manager writes together (default 40; AWS allows 50)
  --vault-requests-per-second <n>  per Vault without a ceiling in the config (default 200)
  --json                        the outcomes as JSON on stdout
  --all                         list unchanged targets too
  --verbose                     every step of every target on stderr
  -h, --help                    this text`;

function positiveInt(name: string, value: string | undefined, fallback: number, max = Infinity) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(
      `--${name} must be a whole number from 1${max === Infinity ? '' : ` to ${max}`}: ${value}`,
    );
  }
  return n;
}

function fleetName(value: string): string {
  const problem = fleetNameProblem(value);
  if (problem !== undefined) throw new UsageError(problem);
  return value;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** What jwt roles trust: both options, or neither (then jwt targets fail, saying what is missing). */
function jwtTrustOf(issuer: string | undefined, roleArn: string | undefined) {
  if (issuer === undefined && roleArn === undefined) return {};
  if (issuer === undefined || roleArn === undefined) {
    throw new UsageError('--jwt-issuer and --renew-role-arn go together');
  }
  if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(issuer)) {
    throw new UsageError(`--jwt-issuer must be the issuer URL (https://...): ${issuer}`);
  }
  if (!ROLE_ARN.test(roleArn)) {
    throw new UsageError(`--renew-role-arn must be an IAM role ARN: ${roleArn}`);
  }
  return { jwtTrust: { issuer: issuer.replace(/\/+$/, ''), renewRoleArn: roleArn } };
}

function describe(outcome: TargetOutcome): string {
  const what =
    outcome.error ?? outcome.changes.map((c) => `${c.kind} ${c.verb} ${c.detail}`).join('; ');
  return `${outcome.target}  ${outcome.status}${what === '' ? '' : `  ${what}`}`;
}

const ORDER: readonly TargetStatus[] = [
  TargetStatus.Failed,
  TargetStatus.Retire,
  TargetStatus.Create,
  TargetStatus.Update,
  TargetStatus.NotStarted,
  TargetStatus.Unchanged,
];

function counts(outcomes: readonly TargetOutcome[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const o of outcomes) by[o.status] = (by[o.status] ?? 0) + 1;
  return by;
}

function countLine(outcomes: readonly TargetOutcome[]): string {
  const by = counts(outcomes);
  return ORDER.filter((s) => by[s] !== undefined)
    .map((s) => `${by[s]} ${s}`)
    .join(', ');
}

await runCommand(COMMAND, async () => {
  try {
    await setup();
  } catch (error) {
    // What Vault or AWS answered (scrubbed at birth) or what the set-up refused: one line, exit 1.
    if (
      error instanceof BootstrapError ||
      error instanceof VaultError ||
      error instanceof SecretProvisioningError
    ) {
      throw new SetupError(error.message);
    }
    throw error;
  }
});

async function setup(): Promise<void> {
  const o = parseOptions(
    {
      apply: { type: 'boolean', default: false },
      retire: { type: 'boolean', default: false },
      'recovery-days': { type: 'string' },
      targets: { type: 'string' },
      fleet: { type: 'string', default: DEFAULT_FLEET },
      config: { type: 'string' },
      'targets-file': { type: 'string' },
      'role-settings': { type: 'string' },
      'policy-file': { type: 'string' },
      'kms-key-id': { type: 'string' },
      'function-arn': { type: 'string' },
      'enable-approle': { type: 'boolean', default: false },
      'jwt-issuer': { type: 'string' },
      'renew-role-arn': { type: 'string' },
      'enable-jwt': { type: 'boolean', default: false },
      'rotate-secret-id': { type: 'boolean', default: false },
      relogin: { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      'aws-writes-per-second': { type: 'string' },
      'vault-requests-per-second': { type: 'string' },
      json: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (o.retire && !o.apply) {
    throw new UsageError(
      '--retire retires with --apply; without it the plan already lists what it would retire',
    );
  }
  const recoveryDays = positiveInt('recovery-days', o['recovery-days'], 30, 30);
  if (recoveryDays < 7) throw new UsageError("--recovery-days must be from 7 to 30 (AWS's range)");
  const names = o.targets
    ?.split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const configPath = o.config ?? nonEmpty(process.env.RENEWER_CONFIG) ?? DEFAULT_CONFIG_PATH;
  // The targets object's targets are set up like the config's own: from the file that is pushed.
  const config =
    o['targets-file'] === undefined
      ? loadConfigFile(configPath)
      : validateTargetLines(configPath, o['targets-file']).config;
  const { settings, warnings } = loadRoleSettings(
    o['role-settings'] ?? DEFAULT_ROLE_SETTINGS,
    config.scheduleIntervalSeconds,
  );
  const say = (line: string) => process.stderr.write(`${line}\n`);
  for (const warning of warnings) say(`warning: ${warning}`);

  const interrupt = new AbortController();
  const onInterrupt = () => {
    say(
      `\n${COMMAND}: interrupted: finishing the targets under way, starting no more (again to stop now)`,
    );
    interrupt.abort();
    process.off('SIGINT', onInterrupt);
  };
  process.on('SIGINT', onInterrupt);
  const progress = progressLine(o.apply ? 'applying' : 'planning');
  const client = new SecretsManagerClient({});
  try {
    const result = await setupFleet(
      {
        config,
        ...(names === undefined ? {} : { names }),
        apply: o.apply,
        retire: o.retire,
        recoveryDays,
        settings,
        fleet: fleetName(o.fleet),
        policyFile: o['policy-file'] ?? DEFAULT_POLICY_FILE,
        extraPolicies: [],
        enableApprole: o['enable-approle'],
        ...jwtTrustOf(o['jwt-issuer'], o['renew-role-arn']),
        enableJwt: o['enable-jwt'],
        choices: {
          rotateSecretId: o['rotate-secret-id'],
          relogin: o.relogin,
          ...(o['function-arn'] === undefined ? {} : { functionArn: o['function-arn'] }),
        },
        ...(o['kms-key-id'] === undefined ? {} : { kmsKeyId: o['kms-key-id'] }),
        concurrency: positiveInt('concurrency', o.concurrency, 8, 64),
        awsWritesPerSecond: positiveInt(
          'aws-writes-per-second',
          o['aws-writes-per-second'],
          40,
          50,
        ),
        vaultRequestsPerSecond: positiveInt(
          'vault-requests-per-second',
          o['vault-requests-per-second'],
          200,
        ),
      },
      {
        env: process.env,
        secrets: createSecretProvisioning({ client }),
        log: o.verbose ? say : () => {},
        progress: (done, total, outcomes) => progress.update(done, total, countLine(outcomes)),
        signal: interrupt.signal,
      },
    );
    progress.end();
    const { outcomes } = result;
    for (const note of result.notes) say(note);
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({ apply: o.apply, outcomes, summary: counts(outcomes), writes: result.writes }, null, 2)}\n`,
      );
    } else {
      const shown = [...outcomes]
        .filter((x) => o.all || x.status !== TargetStatus.Unchanged)
        .sort(
          (a, b) =>
            ORDER.indexOf(a.status) - ORDER.indexOf(b.status) || a.target.localeCompare(b.target),
        );
      for (const outcome of shown) process.stdout.write(`${describe(outcome)}\n`);
      const retiring = outcomes.some((x) => x.status === TargetStatus.Retire);
      const next = !o.apply
        ? ' (plan only: --apply makes these changes)'
        : retiring && !o.retire
          ? ' (the targets to retire were left: --apply --retire retires them)'
          : '';
      process.stdout.write(`${outcomes.length} targets: ${countLine(outcomes)}${next}\n`);
    }
    if (outcomes.some((x) => x.status === TargetStatus.Failed)) process.exitCode = 1;
    if (interrupt.signal.aborted) {
      say(`${COMMAND}: interrupted; run it again to go on where it stopped`);
      process.exitCode = 130;
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    client.destroy();
  }
}
