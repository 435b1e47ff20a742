/**
 * Seeds N targets on the local stack for the real-stack bench: one AppRole
 * role, one database role, and per target a login, a database lease issued
 * with that login's token, and its three secrets.
 */

import pLimit from 'p-limit';
import type { TargetConfig } from '../../functions/config/types.js';
import { Fleet } from '../../tools/local-stack/fleet.js';
import type { StackEnv } from '../../tools/local-stack/stack.js';

const SEED_CONCURRENCY = 16;

export async function seedBenchFleet(env: StackEnv, count: number) {
  const started = performance.now();
  const fleet = new Fleet(env, `bench-${Date.now().toString(36)}`);
  const alerts = await fleet.subscriber();
  const credsPath = await fleet.databaseRole('app', 3600, 24 * 3600);
  const { roleId, secretId } = await fleet.role('app', { tokenTtl: 3600, tokenMaxTtl: 24 * 3600 }, [
    credsPath,
  ]);
  const limit = pLimit(SEED_CONCURRENCY);
  const targets = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      limit(async (): Promise<TargetConfig> => {
        const name = `t${i}`;
        const { token, accessor } = await fleet.login(roleId, secretId);
        const lease = await fleet.issueLease(token, credsPath);
        const base = `${fleet.prefix}/${name}`;
        await fleet.createSecret(`${base}/token`, JSON.stringify({ token, accessor }));
        await fleet.createSecret(
          `${base}/approle`,
          JSON.stringify({ role_id: roleId, secret_id: secretId }),
        );
        await fleet.createSecret(
          `${base}/db`,
          JSON.stringify({ ...lease, token_accessor: accessor, path: credsPath }),
        );
        return {
          name,
          vault: { address: env.VAULT_ADDR },
          tokenSecretId: `${base}/token`,
          approle: { secretId: `${base}/approle`, mount: fleet.approleMount },
          incrementSeconds: 3600,
          leases: [
            { name: 'db', secretId: `${base}/db`, reissuePath: credsPath, incrementSeconds: 3600 },
          ],
          notify: { onRelogin: false, onReissue: false },
        };
      }),
    ),
  );
  return { targets, topicArn: alerts.topicArn, seedMs: Math.round(performance.now() - started) };
}
