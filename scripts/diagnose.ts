/**
 * `npm run diagnose`: the troubleshooting checklist of every target, read-only.
 *
 * Local (default): starts the local stack (OpenBao, moto, PostgreSQL), seeds a
 * fleet with healthy targets and one of each classic failure through the Vault
 * and AWS APIs, runs the real Lambda entry point (`functions/diagnose.ts`) once,
 * prints the check tables, then stops the stack.
 *
 * External (`--external`): with RENEWER_CONFIG (the YAML) set (and AWS
 * credentials/endpoints as the SDK reads them), runs the same entry point
 * against those services instead; each target's Vault is the address in the
 * config. ALERT_TOPIC_ARN is needed only with `"notify": true`.
 *
 *   npm run diagnose [-- --targets a,b] [--event '{"login": true}'] [--json] [--external]
 */

import { join } from 'node:path';
import { parseDiagnoseEvent } from '../functions/app/diagnose-event.js';
import type { DiagnoseResult } from '../functions/app/diagnose-handler.js';
import { renderFleetLines } from '../functions/diagnosis/render-text.js';
import { parseDiagnosisSummary } from '../functions/diagnosis/summary-message.js';
import { shippedWorkloadPolicy } from '../infra/vault/workload-policy.js';
import type { Fleet } from '../tools/local-stack/fleet.js';
import { REPO_ROOT } from '../tools/local-stack/python-env.js';
import {
  readCommandLine,
  requireAwsSettings,
  requireEnv,
  runCommand,
  SetupError,
  targetNames,
  useExternalConfig,
  vaultAddresses,
} from './lib/command.js';
import { startDemoStack } from './lib/demo-stack.js';
import { DIAGNOSE_DEMO_TARGETS } from './lib/demo-targets.js';
import { invokeEntryPoint } from './lib/invoke-entry-point.js';
import { writeLocalConfig } from './lib/local-config.js';

const USAGE = `Usage: npm run diagnose [-- --fleet] [--targets a,b] [--event '<json>'] [--external] [--json]

The troubleshooting checklist of every target, read-only. Without --external: on the
local stack with a demo fleet. With --external: against the services of RENEWER_CONFIG,
exiting 1 when a target is broken.

  --fleet          one line per target (verdict, token, secret_id, leases, open
                   incidents), problems first, instead of every check
  --targets a,b    only these targets
  --event '<json>' the whole event instead, e.g. '{"targets": ["billing-api"], "login": true}'
  --external       run against real services instead of the local stack
  --json           print only the result (JSON) on stdout
  -h, --help       this text`;

const HOUR = 3600;
const COMMAND = 'npm run diagnose';
const LOG_FILE = join(REPO_ROOT, '.stack', 'last-diagnose.log');
/** Lets functions/diagnose.ts start when no topic is needed (no `"notify": true`); never published to. */
const UNUSED_TOPIC_ARN = 'arn:aws:sns:us-east-1:000000000000:vault-renewer-diagnose-unused';

/** Progress goes to stderr, so `--json` output on stdout can be piped. */
function say(text: string): void {
  process.stderr.write(`${text}\n`);
}

/** Runs functions/diagnose.ts once; its JSON logs go to LOG_FILE, not the terminal. */
function invoke(event: unknown, timeoutMs: number): Promise<DiagnoseResult> {
  return invokeEntryPoint(() => import('../functions/diagnose.js'), event, {
    timeoutMs,
    logFile: LOG_FILE,
  });
}

/**
 * A policy that also lets the workload token read its own role, its mount's tuning and
 * its secret_id's metadata, so diagnose can tell the real max TTL instead of assuming it.
 */
function inspectablePolicy(fleet: Fleet, role: string, credsPaths: readonly string[]): string {
  const mount = fleet.approleMount;
  return [
    shippedWorkloadPolicy(credsPaths),
    `path "auth/${mount}/role/${role}" { capabilities = ["read"] }`,
    `path "sys/mounts/auth/${mount}/tune" { capabilities = ["read"] }`,
    `path "auth/${mount}/role/${role}/secret-id/lookup" { capabilities = ["update"] }`,
  ].join('\n');
}

/** The fleet diagnose shows: healthy targets and one of each classic failure. */
async function seedFleet(fleet: Fleet) {
  const db = { name: 'db', defaultTtl: HOUR, maxTtl: 24 * HOUR };
  const healthy = { tokenTtl: HOUR, tokenMaxTtl: 24 * HOUR };
  const creds = (target: string) => [`${fleet.prefix}-db/creds/${target}-db`];
  const root = (await fleet.vault('POST', 'auth/token/create', { policies: ['root'] })) as {
    auth: { client_token: string };
  };
  const nonRenewable = (await fleet.vault('POST', 'auth/token/create', {
    policies: ['default'],
    renewable: false,
    ttl: '1h',
  })) as { auth: { client_token: string } };
  const [billing, orders, ledger, legacy, reporting, audit, importer, admin, payroll] =
    await Promise.all([
      fleet.target(
        'billing-api',
        { ...healthy, policy: inspectablePolicy(fleet, 'billing-api', creds('billing-api')) },
        { leases: [db] },
      ),
      fleet.target('orders-worker', healthy, { leases: [db] }),
      fleet.target(
        'ledger-sync',
        {
          tokenTtl: 60,
          tokenMaxTtl: 150,
          policy: inspectablePolicy(fleet, 'ledger-sync', creds('ledger-sync')),
        },
        { leases: [db] },
      ),
      fleet.target('legacy-cron', { tokenTtl: 2, tokenMaxTtl: 2 }, { leases: [db] }),
      fleet.target('reporting', healthy, { storedToken: nonRenewable.auth.client_token }),
      fleet.target('audit-shipper', {
        ...healthy,
        noDefaultPolicy: true,
        policy: [
          'path "auth/token/lookup-self" { capabilities = ["read"] }',
          'path "sys/capabilities-self" { capabilities = ["update"] }',
        ].join('\n'),
      }),
      fleet.target('batch-importer', { ...healthy, secretIdNumUses: 1 }),
      fleet.target('vault-admin', healthy, { storedToken: root.auth.client_token }),
      fleet.target('payroll', {
        ...healthy,
        secretIdTtl: 2 * HOUR,
        policy: inspectablePolicy(fleet, 'payroll', []),
      }),
    ]);
  // orders-worker: its database lease was revoked behind the renewer's back.
  await fleet.vault('POST', 'sys/leases/revoke', { lease_id: orders.leases[0]?.leaseId });
  // batch-importer: token revoked (its lease tree with it) and its only secret_id use spent.
  await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: importer.accessor });
  // legacy-cron: nobody renewed it in time.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  return [billing, orders, ledger, legacy, reporting, audit, importer, admin, payroll].map((t) =>
    fleet.targetConfig(t),
  );
}

interface Output {
  readonly json: boolean;
  readonly fleet: boolean;
}

function printResult(result: DiagnoseResult, output: Output): void {
  if (output.json) {
    const { table: _table, ...document } = result;
    console.log(JSON.stringify(document, null, 2));
    return;
  }
  console.log((output.fleet ? renderFleetLines(result) : result.table).join('\n'));
  if (result.notification.requested) {
    console.log(
      result.notification.published
        ? '\nSNS summary published.'
        : `\nSNS summary NOT published: ${result.notification.error}`,
    );
  }
}

async function runLocal(event: unknown, output: Output): Promise<void> {
  // A wrong event fails now, not after the stack started.
  parseDiagnoseEvent(event, DIAGNOSE_DEMO_TARGETS);
  const { stack, fleet, alerts } = await startDemoStack('diag', say);
  try {
    const targets = await seedFleet(fleet);
    const { configFile, resolvedFile } = writeLocalConfig(
      'diagnose',
      stack.env.VAULT_ADDR,
      targets,
    );
    Object.assign(process.env, stack.env, {
      ALERT_TOPIC_ARN: alerts.topicArn,
      RENEWER_CONFIG_FILE: resolvedFile,
      POWERTOOLS_SERVICE_NAME: 'vault-renewer',
    });
    say(`Running functions/diagnose.ts once (config: ${configFile})...\n`);
    const result = await invoke(event, 60_000);
    printResult(result, output);
    if (result.notification.requested && result.notification.published) {
      const [message] = await alerts.receive(1, 10_000);
      if (message !== undefined) {
        const document = parseDiagnosisSummary(message.body);
        say(`  subject: ${message.subject}`);
        say(`  severity: ${String(document.severity)}, schema: ${String(document.schema)}`);
      }
    }
    say(`\nStructured logs of the run: ${LOG_FILE}`);
  } finally {
    await stack.stop();
  }
}

async function runExternal(event: unknown, output: Output): Promise<void> {
  requireEnv(COMMAND, ['RENEWER_CONFIG']);
  await requireAwsSettings(COMMAND);
  const notify = (event as { notify?: unknown } | null)?.notify === true;
  if (!process.env.ALERT_TOPIC_ARN) {
    if (notify) throw new SetupError('"notify": true needs ALERT_TOPIC_ARN');
    process.env.ALERT_TOPIC_ARN = UNUSED_TOPIC_ARN;
  }
  const config = useExternalConfig('external-diagnose-targets.resolved.json');
  parseDiagnoseEvent(event, targetNames(config));
  say(`Running functions/diagnose.ts once; Vault: ${vaultAddresses(config)}...\n`);
  const result = await invoke(event, 5 * 60_000);
  printResult(result, output);
  say(`\nStructured logs of the run: ${LOG_FILE}`);
  // For scripts and CI: a fleet with a broken target is a failed check (the demo's are staged).
  if (result.summary.broken > 0) process.exitCode = 1;
}

await runCommand(COMMAND, async () => {
  const { event, external, json, fleet } = readCommandLine(COMMAND, {}, USAGE, { fleet: true });
  await (external ? runExternal(event, { json, fleet }) : runLocal(event, { json, fleet }));
});
