/**
 * `npm start`: one real renewal cycle.
 *
 * Local (default): starts the local stack (OpenBao, moto, PostgreSQL), seeds a
 * realistic fleet through the Vault and AWS APIs, runs the real Lambda entry
 * point (`functions/renew.ts`) once with a scheduled event, prints the report
 * as a table and the SNS messages a subscriber received, then stops the stack.
 *
 * External (`--external`): with RENEWER_CONFIG (the YAML) and ALERT_TOPIC_ARN set
 * (and AWS credentials/endpoints as the SDK reads them), runs the same entry
 * point once against those services instead; each target's Vault is the
 * address in the config. `--event '<json>'` sends a console-style event instead
 * of the scheduled one, e.g. `--event '{"dryRun": true}'`.
 *
 * `--json` prints exactly the run report on stdout (progress on stderr). Against
 * real services the command exits 1 when any target failed; the local demo,
 * whose failures are staged, exits 0.
 *
 *   npm start [-- --dry-run] [--targets a,b] [--event '<json>'] [--external] [--json]
 */

import { join } from 'node:path';
import { parseRenewEvent } from '../functions/app/renew-event.js';
import { parseMessageDocument } from '../functions/core/notification.js';
import type { RunReport } from '../functions/renewal/report.js';
import { shippedWorkloadPolicy } from '../infra/vault/workload-policy.js';
import type { Fleet, ReceivedEvent } from '../tools/local-stack/fleet.js';
import { REPO_ROOT } from '../tools/local-stack/python-env.js';
import {
  readCommandLine,
  requireAwsSettings,
  requireEnv,
  runCommand,
  targetNames,
  useExternalConfig,
  vaultAddresses,
} from './lib/command.js';
import { startDemoStack } from './lib/demo-stack.js';
import { DEMO_TARGETS } from './lib/demo-targets.js';
import { invokeEntryPoint } from './lib/invoke-entry-point.js';
import { writeLocalConfig } from './lib/local-config.js';
import { renderRunReport } from './lib/report-table.js';

const USAGE = `Usage: npm start [-- --dry-run] [--targets a,b] [--event '<json>'] [--external] [--all] [--json]

One real renewal cycle. Without --external: on the local stack, with a demo fleet
(OpenBao, moto and PostgreSQL are started and stopped). With --external: against the
services of RENEWER_CONFIG (also needs ALERT_TOPIC_ARN, AWS credentials and region).

  --dry-run        report what would be done; nothing changes, nothing is published
  --targets a,b    only these targets (a console run)
  --event '<json>' the whole event instead, e.g. '{"dryRun": true, "notify": true}'
  --external       run against real services instead of the local stack
  --all            list every target in the table, not only those that need a look
  --json           print only the run report (JSON) on stdout
  -h, --help       this text`;

const SCHEDULED_EVENT = {
  version: '0',
  id: 'local-run',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '000000000000',
  time: new Date().toISOString(),
  region: 'us-east-1',
  resources: ['arn:aws:events:us-east-1:000000000000:rule/vault-renewer-renew'],
  detail: {},
};

const HOUR = 3600;
const COMMAND = 'npm start';
const LOG_FILE = join(REPO_ROOT, '.stack', 'last-run.log');

/** Runs functions/renew.ts once; its JSON logs go to LOG_FILE, not the terminal. */
function invoke(event: unknown, timeoutMs: number): Promise<RunReport> {
  return invokeEntryPoint(() => import('../functions/renew.js'), event, {
    timeoutMs,
    logFile: LOG_FILE,
  });
}

/** The fleet npm start shows: healthy targets and one of each classic failure. */
async function seedFleet(fleet: Fleet) {
  const db = { name: 'db', defaultTtl: HOUR, maxTtl: 24 * HOUR };
  const healthy = { tokenTtl: HOUR, tokenMaxTtl: 24 * HOUR };
  const [billingApi, ordersWorker, ledgerSync, legacyCron, reportingName, auditShipper, batch] =
    DEMO_TARGETS;
  const [billing, orders, ledger, legacy, reporting, audit, importer] = await Promise.all([
    fleet.target(billingApi, healthy, { leases: [db] }),
    fleet.target(ordersWorker, healthy, { leases: [db, { ...db, name: 'db-report' }] }),
    fleet.target(ledgerSync, { tokenTtl: 60, tokenMaxTtl: 150 }, { leases: [db] }),
    fleet.target(legacyCron, { tokenTtl: 2, tokenMaxTtl: 2 }, { leases: [db] }),
    fleet.target(reportingName, healthy),
    fleet.target(auditShipper, {
      ...healthy,
      noDefaultPolicy: true,
      policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }',
    }),
    fleet.target(batch, { ...healthy, secretIdNumUses: 1 }),
  ]);
  // orders-worker: one database lease was revoked behind the renewer's back.
  await fleet.vault('POST', 'sys/leases/revoke', { lease_id: orders.leases[1]?.leaseId });
  // legacy-cron: nobody renewed it in time (the role is fixed meanwhile).
  await fleet.vault('POST', `auth/${fleet.approleMount}/role/legacy-cron`, {
    token_ttl: HOUR,
    token_max_ttl: 24 * HOUR,
  });
  // reporting: someone stored a non-renewable token.
  const fixed = (await fleet.vault('POST', 'auth/token/create', {
    policies: ['default'],
    renewable: false,
    ttl: '1h',
  })) as { auth: { client_token: string } };
  await fleet.putSecret(reporting.tokenSecret, JSON.stringify({ token: fixed.auth.client_token }));
  // batch-importer: token revoked and its only secret_id use already spent.
  await fleet.vault('POST', 'auth/token/revoke-accessor', { accessor: importer.accessor });
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  return [
    fleet.targetConfig(billing, { notify: { onRelogin: true, onReissue: true } }),
    fleet.targetConfig(orders),
    fleet.targetConfig(ledger, { notify: { onRelogin: true } }),
    fleet.targetConfig(legacy),
    fleet.targetConfig(reporting),
    fleet.targetConfig(audit),
    fleet.targetConfig(importer),
  ];
}

function printMessages(alerts: readonly { subject: string; body: string }[]): void {
  console.log(`\nSNS messages received by the subscribed SQS queue (${alerts.length}):`);
  for (const message of alerts) {
    const doc = parseMessageDocument(message.body);
    console.log(`\n  ${message.subject}`);
    console.log(`    what: ${String(doc.summary)}`);
    if (doc.answer !== undefined) console.log(`    vault/aws answered: ${String(doc.answer)}`);
    console.log(`    fix: ${String(doc.fix)}`);
  }
}

function printChangeEvents(events: readonly ReceivedEvent[]): void {
  console.log(
    `\nChange events received through an EventBridge rule's SQS queue (${events.length}):`,
  );
  for (const { detail } of events) {
    console.log(
      `  ${String(detail.target)} ${String(detail.kind)}/${String(detail.name)} version ${String(detail.versionId)} (${String(detail.reason)}), expires ${String(detail.expiresAt)}`,
    );
  }
}

/**
 * How the run is shown: the table and the messages for a person, or with
 * `--json` exactly the run report (the handler's result) on stdout, progress on
 * stderr and the function's logs in LOG_FILE.
 */
interface Output {
  readonly json: boolean;
  /** Every target in the table, not only those that need a look. */
  readonly all: boolean;
  /** Progress lines: stdout for a person, stderr with --json. */
  say(text: string): void;
}

function outputFor(json: boolean, all: boolean): Output {
  return {
    json,
    all,
    say: (text) => (json ? process.stderr : process.stdout).write(`${text}\n`),
  };
}

function showReport(report: RunReport, output: Output): void {
  if (output.json) {
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  } else {
    console.log(renderRunReport(report, output.all));
  }
}

/**
 * Incidents, not alert storms: the next run, with nothing fixed, stays quiet;
 * after a fix, the run after says RESOLVED once.
 */
async function showIncidents(
  fleet: Fleet,
  alerts: { receive(count: number, timeoutMs?: number): Promise<{ subject: string }[]> },
  say: (text: string) => void,
): Promise<void> {
  say(
    '\nRunning again: what the first run repaired itself resolves, what needs a person stays open and says nothing new...',
  );
  const quiet = await invoke(SCHEDULED_EVENT, 60_000);
  say(
    `  ${quiet.notifications.published} message(s) published (incidents: ${quiet.incidents?.opened ?? 0} opened, ${quiet.incidents?.worsened ?? 0} worsened, ${quiet.incidents?.reminded ?? 0} reminded, ${quiet.incidents?.resolved ?? 0} resolved); INFO messages the config asks for are not incidents:`,
  );
  for (const message of await alerts.receive(quiet.notifications.published, 5_000)) {
    say(`  ${message.subject}`);
  }
  const [, , , , , auditShipper] = DEMO_TARGETS;
  say(
    `\nGiving ${auditShipper} the shipped workload policy (renew-self allowed) and running once more...`,
  );
  await fleet.vault('PUT', `sys/policies/acl/${fleet.prefix}-${auditShipper}`, {
    policy: shippedWorkloadPolicy([], `auth/${fleet.approleMount}/role/${auditShipper}`),
  });
  const fixed = await invoke(SCHEDULED_EVENT, 60_000);
  for (const message of await alerts.receive(fixed.notifications.published, 10_000)) {
    say(`  ${message.subject}`);
  }
}

async function runLocal(event: unknown, output: Output): Promise<void> {
  const { say } = output;
  // A wrong event fails now, not after the stack started.
  parseRenewEvent(event, DEMO_TARGETS);
  const { stack, fleet, alerts } = await startDemoStack('demo', say);
  try {
    const targets = await seedFleet(fleet);
    const { configFile, resolvedFile } = writeLocalConfig('demo', stack.env.VAULT_ADDR, targets);
    const consumer = await fleet.changeEventConsumer();
    const incidentTable = await fleet.incidentTable();
    Object.assign(process.env, stack.env, {
      ALERT_TOPIC_ARN: alerts.topicArn,
      INCIDENT_TABLE_NAME: incidentTable,
      EVENT_BUS_NAME: consumer.eventBusName,
      RENEWER_CONFIG_FILE: resolvedFile,
      POWERTOOLS_SERVICE_NAME: 'vault-renewer',
      POWERTOOLS_METRICS_NAMESPACE: 'VaultRenewerLocal',
    });
    say(`Running functions/renew.ts once (config: ${configFile})...\n`);
    const report = await invoke(event, 60_000);
    showReport(report, output);
    const messages = await alerts.receive(report.notifications.published, 10_000);
    if (!output.json) printMessages(messages);
    const events = await consumer.receive(report.changeEvents.published, 10_000);
    if (!output.json) printChangeEvents(events);
    if (!output.json && event === SCHEDULED_EVENT) await showIncidents(fleet, alerts, say);
    say(`\nStructured logs and EMF metrics of the run: ${LOG_FILE}`);
    // The demo's failures are staged on purpose: it ends well when it ran.
  } finally {
    await stack.stop();
  }
}

async function runExternal(event: unknown, output: Output): Promise<void> {
  requireEnv(COMMAND, ['RENEWER_CONFIG', 'ALERT_TOPIC_ARN']);
  await requireAwsSettings(COMMAND);
  const config = useExternalConfig('external-targets.resolved.json');
  parseRenewEvent(event, targetNames(config));
  output.say(`Running functions/renew.ts once; Vault: ${vaultAddresses(config)}...\n`);
  const report = await invoke(event, 5 * 60_000);
  showReport(report, output);
  output.say(`\nStructured logs and EMF metrics of the run: ${LOG_FILE}`);
  // For scripts and CI: a real run that left a target failed is a failed command.
  if (report.summary.failed > 0) process.exitCode = 1;
}

await runCommand(COMMAND, async () => {
  const { event, external, json, all } = readCommandLine(COMMAND, SCHEDULED_EVENT, USAGE, {
    dryRun: true,
    all: true,
  });
  const output = outputFor(json, all);
  await (external ? runExternal(event, output) : runLocal(event, output));
});
