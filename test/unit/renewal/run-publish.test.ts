import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../../../functions/config/deep-freeze.js';
import type { RenewerConfig } from '../../../functions/config/types.js';
import type { Notifier } from '../../../functions/core/notifier-port.js';
import type { SecretsStore } from '../../../functions/core/store-port.js';
import type { VaultFailure, VaultPort } from '../../../functions/core/vault-port.js';
import { renewerConfig, targetConfig } from '../../support/targets.js';
import { runInMemory } from './in-memory-run.js';

const config: RenewerConfig = deepFreeze(
  renewerConfig([targetConfig('a', { vault: { address: 'http://127.0.0.1:1' } })]),
);

/** Small in-memory ports: the store holds a healthy target, Vault is out of reach. */
const store: SecretsStore = {
  readBatch: async (ids) =>
    new Map(
      ids.map((id) => [
        id,
        {
          ok: true,
          secret: {
            secretId: id,
            value: id.endsWith('/token') ? '{"token":"t"}' : '{"role_id":"r","secret_id":"s"}',
            versionId: 'v1',
          },
        },
      ]),
    ),
  write: async (request) => ({ versionId: 'v2', arn: request.secretId }),
};

const unreachable = (): never => {
  const failure: VaultFailure = Object.assign(new Error('connect ECONNREFUSED'), {
    kind: 'unavailable' as const,
    vaultErrors: [],
    path: 'auth/token/renew-self',
  });
  throw failure;
};
const vault: VaultPort = {
  renewSelf: async () => unreachable(),
  lookupSelf: async () => unreachable(),
  appRoleLogin: async () => unreachable(),
  jwtLogin: async () => unreachable(),
  renewLease: async () => unreachable(),
  lookupLease: async () => unreachable(),
  issueLease: async () => unreachable(),
  capabilitiesSelf: async () => unreachable(),
  lookupSecretId: async () => unreachable(),
  health: async () => unreachable(),
};

/** SNS that never answers: publish ends only when its signal aborts. */
const hangingNotifier: Notifier = {
  publish: (_message, options) =>
    new Promise((_resolve, reject) => {
      options?.signal?.addEventListener('abort', () => reject(options.signal?.reason));
    }),
};

describe('runRenewal publishing', () => {
  it('gives up on a hanging SNS publish by the publish deadline, not 10 s later', async () => {
    // Act
    const started = performance.now();
    const result = await runInMemory(config, { vault, store, notifier: hangingNotifier }, 300);

    // Assess
    expect(result.report.targets[0]?.problems.map((p) => p.code)).toEqual(['vault-unreachable']);
    expect(result.publishFailures).toBe(1);
    expect(performance.now() - started).toBeLessThan(2_000);
  }, 5_000);
});
