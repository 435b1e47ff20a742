/**
 * The fleet set-up on the local stack (`npm run bench -- --setup`, default
 * 1,000 targets with one database lease each): a plan of the new fleet, its
 * apply, a second apply that finds everything unchanged, and the retirement
 * of a tenth of the fleet. Each phase prints its wall time, its Secrets
 * Manager writes and the busiest second of them (AWS allows 50).
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import {
  createSecretProvisioning,
  type SecretProvisioning,
} from '../../functions/aws/secret-provisioning.js';
import { loadConfigFile } from '../../functions/config/load.js';
import { setupFleet, type TargetOutcome } from '../../scripts/bootstrap/fleet-setup.js';
import {
  DEFAULT_POLICY_FILE,
  DEFAULT_ROLE_SETTINGS,
  loadRoleSettings,
} from '../../scripts/bootstrap/role-settings.js';
import { awsClientsFor, Fleet } from '../../tools/local-stack/fleet.js';
import { startStack } from '../../tools/local-stack/stack.js';

/** Secrets Manager writes by second, counted at the adapter. */
function countingWrites(inner: SecretProvisioning) {
  const seconds = new Map<number, number>();
  const count = () => {
    const second = Math.floor(Date.now() / 1000);
    seconds.set(second, (seconds.get(second) ?? 0) + 1);
  };
  const counted =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      count();
      return call(...args);
    };
  const secrets: SecretProvisioning = {
    ...inner,
    write: counted(inner.write),
    tag: counted(inner.tag),
    restore: counted(inner.restore),
    rotate: counted(inner.rotate),
    scheduleDeletion: counted(inner.scheduleDeletion),
  };
  return {
    secrets,
    /** Writes and the busiest second since the last call, then starts afresh. */
    take() {
      const values = [...seconds.values()];
      seconds.clear();
      return {
        writes: values.reduce((a, b) => a + b, 0),
        busiestSecond: values.length === 0 ? 0 : Math.max(...values),
      };
    },
  };
}

function tally(outcomes: readonly TargetOutcome[]): Record<string, number> {
  const by: Record<string, number> = {};
  for (const o of outcomes) by[o.status] = (by[o.status] ?? 0) + 1;
  return by;
}

export async function setupBench(count: number): Promise<Record<string, unknown>> {
  const stack = await startStack();
  const dir = mkdtempSync(join(tmpdir(), 'setup-bench-'));
  const clients = awsClientsFor(stack.env);
  try {
    const fleet = new Fleet(stack.env, `sb-${Date.now().toString(36)}`);
    await fleet.vault('POST', `sys/auth/${fleet.approleMount}`, { type: 'approle' });
    const credsPath = await fleet.databaseRole('app', 3600, 24 * 3600);
    const entry = (i: number) => ({
      name: `t${i}`,
      tokenSecret: `${fleet.prefix}/t${i}/token`,
      approle: { secret: `${fleet.prefix}/t${i}/approle`, mount: fleet.approleMount },
      leases: [{ name: 'db', secret: `${fleet.prefix}/t${i}/db`, reissuePath: credsPath }],
    });
    const writeConfig = (file: string, n: number) => {
      const path = join(dir, file);
      writeFileSync(
        path,
        stringifyYaml({
          version: 1,
          schedule: { intervalMinutes: 15 },
          vault: { address: stack.env.VAULT_ADDR },
          targets: Array.from({ length: n }, (_, i) => entry(i)),
        }),
      );
      return loadConfigFile(path);
    };
    const whole = writeConfig('fleet.yaml', count);
    const kept = writeConfig('kept.yaml', Math.round(count * 0.9));
    const { settings } = loadRoleSettings(DEFAULT_ROLE_SETTINGS, whole.scheduleIntervalSeconds);
    const counter = countingWrites(createSecretProvisioning({ client: clients.secretsManager }));
    const env = { VAULT_TOKEN: stack.env.VAULT_TOKEN };
    const phase = async (
      name: string,
      config: typeof whole,
      flags: { apply: boolean; retire: boolean },
    ) => {
      const started = performance.now();
      const result = await setupFleet(
        {
          config,
          fleet: fleet.prefix,
          ...flags,
          recoveryDays: 7,
          settings,
          policyFile: DEFAULT_POLICY_FILE,
          extraPolicies: [],
          enableApprole: false,
          choices: { rotateSecretId: false, relogin: false },
          concurrency: 8,
          awsWritesPerSecond: 40,
          vaultRequestsPerSecond: 500,
        },
        { env, secrets: counter.secrets, log: () => {} },
      );
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      const figures = { seconds, outcomes: tally(result.outcomes), ...counter.take() };
      console.log(`${name}: ${JSON.stringify(figures)}`);
      return figures;
    };
    const plan = await phase('plan', whole, { apply: false, retire: false });
    const apply = await phase('apply', whole, { apply: true, retire: false });
    const reapply = await phase('re-apply', whole, { apply: true, retire: false });
    const retire = await phase('retire a tenth', kept, { apply: true, retire: true });
    return { targets: count, plan, apply, reapply, retire };
  } finally {
    clients.secretsManager.destroy();
    rmSync(dir, { recursive: true, force: true });
    await stack.stop();
  }
}
