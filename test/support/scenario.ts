/**
 * Shared setup for renew scenarios: one fleet (unique names) on the shared
 * stack, its alert subscriber, and helpers to assert on Vault, PostgreSQL and
 * the SNS messages a subscriber received.
 */

import pg from 'pg';
import { parseMessageDocument } from '../../functions/core/notification.js';
import type { RunReport, TargetReport } from '../../functions/renewal/report.js';
import { shippedWorkloadPolicy } from '../../infra/vault/workload-policy.js';
import { rotatorPolicy } from '../../scripts/bootstrap/rotator-policy.js';
import {
  type AlertSubscriber,
  Fleet,
  type ReceivedNotification,
  type SeededTarget,
} from '../../tools/local-stack/fleet.js';
import type { StackEnv } from '../../tools/local-stack/stack.js';
import { createHarness, type Harness, type HarnessOptions } from './renewer-harness.js';
import { uniqueName } from './stack-env.js';

export const HOUR = 3600;
/** An AppRole role whose tokens outlive any test: renewals are never capped. */
export const healthyRole = { tokenTtl: HOUR, tokenMaxTtl: 4 * HOUR } as const;
/** A database lease that outlives any test. */
export const dbLease = { name: 'db', defaultTtl: HOUR, maxTtl: 4 * HOUR } as const;

export interface Scenario {
  readonly fleet: Fleet;
  readonly alerts: AlertSubscriber;
  harness(config: Record<string, unknown>, options?: Partial<HarnessOptions>): Harness;
}

export async function createScenario(env: StackEnv, prefix = 'sc'): Promise<Scenario> {
  const fleet = new Fleet(env, uniqueName(prefix));
  const alerts = await fleet.subscriber();
  const harnesses: Harness[] = [];
  return {
    fleet,
    alerts,
    harness: (config, options = {}) => {
      const harness = createHarness({ env, config, topicArn: alerts.topicArn, ...options });
      harnesses.push(harness);
      return harness;
    },
  };
}

/** A config file object with a 1-minute schedule (horizon 180 s) and the given targets. */
export function configWith(
  env: StackEnv,
  targets: readonly Record<string, unknown>[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    version: 1,
    schedule: { intervalMinutes: 1 },
    concurrency: 4,
    vault: { address: env.VAULT_ADDR },
    targets,
    ...extra,
  };
}

/**
 * A workload target with a database lease, a rotator allowed to issue its
 * secret_ids, and the config that rotates both of the workload's secrets.
 */
export async function rotatedTarget(
  fleet: Fleet,
  env: StackEnv,
  name: string,
  appRole: Record<string, unknown> = {},
): Promise<{ app: SeededTarget; rotator: SeededTarget; config: Record<string, unknown> }> {
  const app = await fleet.target(name, { ...healthyRole, ...appRole }, { leases: [dbLease] });
  const rotatorName = `${name}-rotator`;
  const mount = fleet.approleMount;
  const rotator = await fleet.target(rotatorName, {
    ...healthyRole,
    policy: `${shippedWorkloadPolicy([], `auth/${mount}/role/${rotatorName}`)}\n${rotatorPolicy([{ mount, role: app.roleName }], '# rotator')}`,
  });
  const config = configWith(
    env,
    [
      fleet.targetConfig(app, {
        rotation: { approle: { everyDays: 30 }, token: { everyDays: 7 } },
      }),
      fleet.targetConfig(rotator),
    ],
    { rotation: { rotator: rotatorName } },
  );
  return { app, rotator, config };
}

export function targetReport(report: RunReport, name: string): TargetReport {
  const found = report.targets.find((t) => t.target === name);
  if (found === undefined) {
    throw new Error(`no report for target ${name}`);
  }
  return found;
}

/** `event`/`severity`/`target`(/`lease`) of each received message, sorted for comparison. */
export function eventsOf(messages: readonly ReceivedNotification[]): string[] {
  return messages
    .map((m) => {
      const doc = parseMessageDocument(m.body);
      const lease = doc.lease === undefined ? '' : `/${String(doc.lease)}`;
      // A shared cause's message names the cause instead of one target.
      const about = doc.target ?? doc.cause;
      return `${String(doc.severity)} ${String(doc.event)} ${String(about)}${lease}`;
    })
    .sort();
}

/** Whether `username`/`password` can log in to the stack's PostgreSQL right now. */
export async function canLogin(
  databaseUrl: string,
  username: string,
  password: string,
): Promise<boolean> {
  const url = new URL(databaseUrl);
  const client = new pg.Client({
    host: url.hostname,
    port: Number(url.port),
    database: url.pathname.slice(1),
    user: username,
    password,
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** lookup-self with `token`: its data, or the HTTP status when Vault refuses. */
export async function lookupSelf(
  fleet: Fleet,
  token: string,
): Promise<{ ok: true; data: Record<string, unknown> } | { ok: false; error: string }> {
  try {
    const answer = (await fleet.vault('GET', 'auth/token/lookup-self', undefined, token)) as {
      data: Record<string, unknown>;
    };
    return { ok: true, data: answer.data };
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
}
