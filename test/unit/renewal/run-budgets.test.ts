/**
 * A run within its budgets, over in-memory ports: logins the write budget
 * cannot store this run wait for the next (or are told CRITICAL when the
 * token dies first), the ledger orders the next run, and a refused AppRole
 * secret version is not tried again.
 */

import { describe, expect, it } from 'vitest';
import { deepFreeze } from '../../../functions/config/deep-freeze.js';
import { DEFAULT_PACING } from '../../../functions/config/schema.js';
import type { RenewerConfig, TargetConfig } from '../../../functions/config/types.js';
import type { FleetLedger, LedgerStore } from '../../../functions/core/fleet-ledger.js';
import type { SecretsStore } from '../../../functions/core/store-port.js';
import type { VaultFailure, VaultPort } from '../../../functions/core/vault-port.js';
import { targetConfig } from '../../support/targets.js';
import { runInMemory } from './in-memory-run.js';

const CAPPED =
  'TTL of "1h" exceeded the effective max_ttl of "20m"; TTL value is capped accordingly';

function fleet(size: number, writesPerSecond: number): RenewerConfig {
  const targets: TargetConfig[] = Array.from({ length: size }, (_, i) =>
    targetConfig(`t${i}`, { vault: { address: 'http://127.0.0.1:1' } }),
  );
  return deepFreeze({
    version: 1,
    scheduleIntervalSeconds: 900,
    concurrency: 4,
    pacing: { ...DEFAULT_PACING, writesPerSecond },
    secretIdWarnDays: 7,
    reminderHours: 24,
    targets,
  });
}

function memoryStore(): SecretsStore & { readonly writes: string[] } {
  const writes: string[] = [];
  return {
    writes,
    readBatch: async (ids) =>
      new Map(
        ids.map((id) => [
          id,
          {
            ok: true,
            secret: {
              secretId: id,
              value: id.endsWith('/token') ? '{"token":"t"}' : '{"role_id":"r","secret_id":"s"}',
              versionId: 'approle-v1',
            },
          },
        ]),
      ),
    write: async (request) => {
      writes.push(request.secretId);
      return { versionId: `v${writes.length}`, arn: request.secretId };
    },
  };
}

/** Every token renewed, capped at its max TTL `ttlSeconds` from now; logins work unless refused. */
function cappedVault(
  ttlSeconds: number,
  login: 'ok' | 'refused' = 'ok',
): VaultPort & { logins: number } {
  const vault = {
    logins: 0,
    renewSelf: async () => ({
      ttlSeconds,
      renewable: true,
      accessor: 'a',
      policies: ['default'],
      tokenType: 'service',
      warnings: [CAPPED],
    }),
    lookupSelf: async () => ({
      accessor: 'new',
      policies: ['default'],
      ttlSeconds: 3600,
      renewable: true,
      type: 'service',
      expireTime: new Date(Date.now() + 3_600_000).toISOString(),
      creationTime: 0,
      creationTtlSeconds: 3600,
      explicitMaxTtlSeconds: 0,
    }),
    appRoleLogin: async () => {
      vault.logins += 1;
      if (login === 'refused') {
        const refused: VaultFailure = Object.assign(new Error('invalid role or secret ID'), {
          kind: 'invalid-credentials' as const,
          vaultErrors: ['invalid role or secret ID'],
          path: 'auth/approle/login',
        });
        throw refused;
      }
      return {
        token: `fresh-${vault.logins}`,
        accessor: 'new',
        ttlSeconds: 3600,
        renewable: true,
        policies: ['default'],
        tokenType: 'service',
        warnings: [],
      };
    },
    renewLease: async () => {
      throw new Error('no leases here');
    },
    lookupLease: async () => {
      throw new Error('no leases here');
    },
    issueLease: async () => {
      throw new Error('no leases here');
    },
    capabilitiesSelf: async () => ({}),
  };
  return vault as unknown as VaultPort & { logins: number };
}

function memoryLedger(): LedgerStore & { saved: FleetLedger } {
  const ledger = {
    saved: new Map() as FleetLedger,
    load: async () => ledger.saved,
    save: async (next: FleetLedger) => {
      ledger.saved = next;
    },
  };
  return ledger;
}

describe('a run within the Secrets Manager write budget', () => {
  it('leaves for the next run the logins it cannot store in this one, when the tokens outlive it', async () => {
    // Prepare: 12 tokens at their max TTL in 20 minutes (past the next run, inside the horizon);
    // 1 write a second and a run of 6 s (3 s kept back) store about 4
    const config = fleet(12, 1);
    const store = memoryStore();
    const vault = cappedVault(1200);

    // Act
    const { report } = await runInMemory(config, { vault, store }, 30_000, 6_000);

    // Assess
    const deferred = report.targets.filter((t) => t.token.outcome === 'deferred');
    const relogged = report.targets.filter((t) => t.token.outcome === 'relogged-in');
    expect(relogged.length).toBeGreaterThanOrEqual(2);
    expect(relogged.length).toBeLessThanOrEqual(5);
    expect(deferred.length).toBe(12 - relogged.length);
    expect(vault.logins).toBe(relogged.length);
    expect(store.writes).toHaveLength(relogged.length);
    expect(deferred[0]?.problems).toContainEqual(
      expect.objectContaining({ code: 'writes-deferred', severity: 'WARNING' }),
    );
    expect(report.carriedOver?.writeBudget?.count).toBe(deferred.length);
  }, 20_000);

  it('does not log in a token that dies before the next run when no write slot is left, and says so CRITICAL', async () => {
    // Prepare: max TTL in 10 minutes, before the next run
    const config = fleet(12, 1);
    const store = memoryStore();
    const vault = cappedVault(600);

    // Act
    const { report } = await runInMemory(config, { vault, store }, 30_000, 6_000);

    // Assess: every login made was stored; the rest were not made
    const notMade = report.targets.filter((t) =>
      t.problems.some((p) => p.code === 'writes-deferred'),
    );
    expect(notMade.length).toBeGreaterThan(0);
    expect(notMade[0]?.problems).toContainEqual(
      expect.objectContaining({ code: 'writes-deferred', severity: 'CRITICAL' }),
    );
    expect(vault.logins).toBe(store.writes.length);
  }, 20_000);
});

describe('the writes a run sends', () => {
  it('stay within the budget in every second, however the logins before them bunch up', async () => {
    // Prepare: 12 logins, 4 writes a second; the first logins answer slowest, so every
    // token is ready to be written at about the same moment, 2.75 s in
    const config = fleet(12, 4);
    const sentAt: number[] = [];
    const store = memoryStore();
    const write = store.write;
    store.write = async (request, options) => {
      sentAt.push(Date.now());
      return write(request, options);
    };
    const vault = cappedVault(600);
    const login = vault.appRoleLogin.bind(vault);
    let started = 0;
    vault.appRoleLogin = async (...args) => {
      const slowness = Math.max(0, 11 - started) * 250;
      started += 1;
      await new Promise((resolve) => setTimeout(resolve, slowness));
      return login(...args);
    };

    // Act
    await runInMemory(config, { vault, store }, 30_000, 20_000);

    // Assess: all 12 written, never more than the rate plus one in a second
    expect(sentAt).toHaveLength(12);
    const busiest = Math.max(
      ...sentAt.map((start) => sentAt.filter((t) => t >= start && t < start + 1000).length),
    );
    expect(busiest).toBeLessThanOrEqual(5);
  }, 30_000);
});

describe('what a run leaves the next', () => {
  it('starts the next run with the logins it deferred, and never tries a refused AppRole version again', async () => {
    // Prepare
    const config = fleet(12, 1);
    const ledger = memoryLedger();

    // Act: a run that defers, then one with budget to spare
    const first = await runInMemory(
      config,
      { vault: cappedVault(1200), store: memoryStore(), ledger },
      30_000,
      6_000,
    );
    const deferred = first.report.targets
      .filter((t) => t.token.outcome === 'deferred')
      .map((t) => t.target);
    const second = await runInMemory(
      fleet(12, 40),
      { vault: cappedVault(1200), store: memoryStore(), ledger },
      30_000,
      60_000,
    );

    // Assess: the deferred ones come first (soonest death first), and all are done
    expect(deferred.length).toBeGreaterThan(0);
    expect(
      second.report.targets
        .slice(0, deferred.length)
        .map((t) => t.target)
        .sort(),
    ).toEqual([...deferred].sort());
    expect(second.report.carriedOver).toBeUndefined();

    // Act: a login Vault refuses, twice
    const refusing = cappedVault(300, 'refused');
    await runInMemory(fleet(1, 40), { vault: refusing, store: memoryStore(), ledger });
    const again = await runInMemory(fleet(1, 40), {
      vault: refusing,
      store: memoryStore(),
      ledger,
    });

    // Assess: one login in two runs; the second says why it did not try
    expect(refusing.logins).toBe(1);
    expect(again.report.targets[0]?.problems).toContainEqual(
      expect.objectContaining({
        code: 'relogin-bad-credentials',
        summary: expect.stringMatching(
          /^Not logged in again: Vault refused this AppRole secret version/,
        ),
      }),
    );
    expect(again.report.carriedOver?.refusedLogin).toEqual({ count: 1, targets: ['t0'] });
  }, 30_000);
});

describe('a wave of max TTLs seen coming', () => {
  it('logs in early, before they fall due, the tokens a later run could not write', async () => {
    // Prepare: 200 tokens the ledger saw capped, all dying two runs from now; a run
    // of 6 s at 40 writes/s can write about 96 (a fifth kept back)
    const config = fleet(200, 40);
    const diesAtSeconds = Math.floor(Date.now() / 1000) + 2 * 900 + 300;
    const ledger = memoryLedger();
    ledger.saved = new Map(config.targets.map((t) => [t.name, { diesAtSeconds }]));
    const vault = cappedVault(2 * 900 + 300);

    // Act
    const { report } = await runInMemory(
      config,
      { vault, store: memoryStore(), ledger },
      30_000,
      6_000,
    );

    // Assess: some logged in now, as a spread wave, and the report counts them
    const spread = report.targets.filter(
      (t) => t.token.outcome === 'relogged-in' && t.token.reason === 'max-ttl-spread',
    );
    expect(spread.length).toBeGreaterThan(0);
    expect(report.pacing.earlyLogins).toBe(spread.length);
    // Without the wave in the ledger, nobody is logged in early.
    const quiet = await runInMemory(
      config,
      { vault: cappedVault(2 * 900 + 300), store: memoryStore(), ledger: memoryLedger() },
      30_000,
      6_000,
    );
    expect(quiet.report.pacing.earlyLogins).toBe(0);
  }, 30_000);
});
