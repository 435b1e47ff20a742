import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../../../functions/config/deep-freeze.js';
import type { RenewerConfig } from '../../../functions/config/types.js';
import type { SecretsStore } from '../../../functions/core/store-port.js';
import type { VaultPort } from '../../../functions/core/vault-port.js';
import type { RunLogger } from '../../../functions/renewal/run-context.js';
import { renewerConfig, targetConfig } from '../../support/targets.js';
import { runInMemory } from './in-memory-run.js';

/*
 * A healthy target is one DEBUG line; at INFO the line (and building it) is
 * skipped, while a target that needs attention is logged at any level.
 */

const target = (name: string) =>
  targetConfig(name, {
    vault: { address: 'http://127.0.0.1:1' },
    approle: { secretId: `${name}/approle`, mount: 'approle', roleName: name },
  });

const config: RenewerConfig = deepFreeze(renewerConfig([target('healthy'), target('broken')]));

const store: SecretsStore = {
  readBatch: async (ids) =>
    new Map(
      ids.map((id) => [
        id,
        id === 'broken/token'
          ? { ok: false, failure: { secretId: id, code: 'AccessDeniedException', message: 'no' } }
          : {
              ok: true,
              secret: {
                secretId: id,
                value: id.endsWith('/token')
                  ? '{"token":"t","accessor":"a"}'
                  : '{"role_id":"r","secret_id":"s"}',
                versionId: 'v1',
              },
            },
      ]),
    ),
  write: async (request) => ({ versionId: 'v2', arn: request.secretId }),
};

const healthyVault = {
  renewSelf: async () => ({
    ttlSeconds: 3600,
    renewable: true,
    accessor: 'a',
    policies: ['default'],
    tokenType: 'service',
    warnings: [],
  }),
  lookupSecretId: async () => ({ expirationTime: null, usesLeft: 0, ttlSeconds: 0 }),
} as unknown as VaultPort;

function recordingLogger(level: string | undefined) {
  const lines: string[] = [];
  const record =
    (name: string) =>
    (message: string, ...fields: Record<string, unknown>[]) =>
      lines.push(`${name} ${message} ${String(fields[0]?.target)}`);
  const logger: RunLogger = {
    ...(level === undefined ? {} : { getLevelName: () => level }),
    debug: record('DEBUG'),
    info: record('INFO'),
    warn: record('WARN'),
    error: record('ERROR'),
  };
  return { logger, lines };
}

describe('logging each target', () => {
  it.each([
    ['DEBUG', true],
    ['TRACE', true],
    [undefined, true],
    ['INFO', false],
    ['WARN', false],
  ])('at level %s, logs the healthy target: %s', async (level, logged) => {
    const { logger, lines } = recordingLogger(level);

    const { report } = await runInMemory(config, { vault: healthyVault, store, logger });

    expect(report.summary).toMatchObject({ ok: 1, failed: 1 });
    expect(lines.includes('DEBUG target processed healthy')).toBe(logged);
    expect(lines).toContain('INFO target processed broken');
  });
});
