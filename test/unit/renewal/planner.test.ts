import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HORIZON_MARGIN_SECONDS,
  horizonSeconds,
  Lifetime,
  lifetimeOf,
} from '../../../functions/core/lifetime.js';
import type { TokenInfo, TokenRenewal } from '../../../functions/core/vault-port.js';
import { VaultFailureKind } from '../../../functions/core/vault-port.js';
import {
  decideLease,
  decideToken,
  isCapped,
  type LeaseObservation,
  TokenAction,
  type TokenObservation,
  TokenReason,
} from '../../../functions/renewal/planner.js';

const INTERVAL = 900;
const HORIZON = horizonSeconds(INTERVAL);
const capWarning = (ttl: string, max: string) =>
  `TTL of "${ttl}" exceeded the effective max_ttl of "${max}"; TTL value is capped accordingly`;

function renewal(ttlSeconds: number, warnings: string[] = []): TokenRenewal {
  return {
    ttlSeconds,
    renewable: true,
    accessor: 'acc',
    policies: ['default', 'app'],
    tokenType: 'service',
    warnings,
  };
}

function info(overrides: Partial<TokenInfo> = {}): TokenInfo {
  return {
    accessor: 'acc',
    policies: ['default', 'app'],
    ttlSeconds: 3600,
    renewable: true,
    type: 'service',
    expireTime: '2026-01-01T00:00:00Z',
    creationTime: 0,
    creationTtlSeconds: 3600,
    explicitMaxTtlSeconds: 0,
    numUses: 0,
    orphan: true,
    path: 'auth/approle/login',
    meta: null,
    ...overrides,
  };
}

const policy = { scheduleIntervalSeconds: INTERVAL, forceRelogin: false, nowMs: 60_000 };

describe('horizonSeconds', () => {
  it('covers the next run, one spare run and a margin', () => {
    expect(horizonSeconds(900)).toBe(2 * 900 + HORIZON_MARGIN_SECONDS);
  });
});

describe('isCapped', () => {
  it.each([
    [[capWarning('1h', '20m')], true],
    [
      ['TTL of "1m0s" exceeded the effective max_ttl of "45s"; TTL value is capped accordingly'],
      true,
    ],
    [['Policy "web" does not exist'], false],
    [[], false],
  ])('reads %j as capped=%s', (warnings, expected) => {
    expect(isCapped(warnings)).toBe(expected);
  });
});

describe('decideToken while a wave of max TTLs is spread over runs', () => {
  it('logs in early a token marked early whose renewal is capped past the horizon', () => {
    const capped = renewal(HORIZON + 600, [capWarning('1h', '41m')]);
    expect(decideToken({ kind: 'renewed', renewal: capped }, { ...policy, early: true })).toEqual({
      action: 'relogin',
      reason: 'max-ttl-spread',
      ttlSeconds: HORIZON + 600,
    });
  });

  it('keeps a token marked early that Vault still extends by the full increment', () => {
    const healthy = renewal(3600);
    expect(decideToken({ kind: 'renewed', renewal: healthy }, { ...policy, early: true })).toEqual({
      action: 'keep',
      reason: 'healthy',
      ttlSeconds: 3600,
    });
  });
});

describe('decideToken', () => {
  it.each<[string, TokenObservation, string, string]>([
    [
      'keeps a renewed token that outlives the horizon',
      { kind: 'renewed', renewal: renewal(HORIZON + 1) },
      'keep',
      'healthy',
    ],
    [
      'logs in again when the renewed TTL is capped inside the horizon',
      { kind: 'renewed', renewal: renewal(HORIZON, [capWarning('1h', '31m')]) },
      'relogin',
      'max-ttl-inside-horizon',
    ],
    [
      'keeps a capped token whose remaining TTL still outlives the horizon',
      { kind: 'renewed', renewal: renewal(HORIZON + 600, [capWarning('2h', '41m')]) },
      'keep',
      'healthy',
    ],
    [
      'keeps but flags a short uncapped TTL (a new login would get the same)',
      { kind: 'renewed', renewal: renewal(600) },
      'keep',
      'ttl-below-horizon',
    ],
    ['logs in when the secret has no token yet', { kind: 'absent' }, 'relogin', 'absent'],
    [
      'logs in again when the token is invalid',
      { kind: 'failed', failure: VaultFailureKind.InvalidToken },
      'relogin',
      'invalid',
    ],
    [
      'logs in again when the token lease expired',
      { kind: 'failed', failure: VaultFailureKind.LeaseExpired },
      'relogin',
      'invalid',
    ],
    [
      'logs in again when the token is not renewable',
      {
        kind: 'failed',
        failure: VaultFailureKind.NotRenewable,
        lookup: info({ renewable: false }),
      },
      'relogin',
      'not-renewable',
    ],
    [
      'logs in again for a batch token it could not look up',
      { kind: 'failed', failure: VaultFailureKind.BatchToken },
      'relogin',
      'batch',
    ],
    [
      'keeps a batch token while it outlives the horizon (no churn)',
      {
        kind: 'failed',
        failure: VaultFailureKind.BatchToken,
        lookup: info({ type: 'batch', renewable: false, ttlSeconds: HORIZON + 1 }),
      },
      'keep',
      'batch',
    ],
    [
      'logs in again for a batch token that would not outlive the horizon',
      {
        kind: 'failed',
        failure: VaultFailureKind.BatchToken,
        lookup: info({ type: 'batch', renewable: false, ttlSeconds: HORIZON }),
      },
      'relogin',
      'batch',
    ],
    [
      'keeps a token whose policy denies renew-self while it outlives the horizon',
      {
        kind: 'failed',
        failure: VaultFailureKind.PermissionDenied,
        lookup: info({ ttlSeconds: HORIZON + 1 }),
      },
      'keep',
      'renew-denied',
    ],
    [
      'falls back to a login when a token that may not renew itself is inside the horizon',
      {
        kind: 'failed',
        failure: VaultFailureKind.PermissionDenied,
        lookup: info({ ttlSeconds: HORIZON }),
      },
      'relogin',
      'renew-denied',
    ],
    [
      'never renews nor replaces a root token (invalid lease ID)',
      { kind: 'failed', failure: VaultFailureKind.RootToken },
      'report',
      'root',
    ],
    [
      'recognises a created root token by its policy',
      {
        kind: 'failed',
        failure: VaultFailureKind.NotRenewable,
        lookup: info({ policies: ['root'], ttlSeconds: 0, expireTime: null }),
      },
      'report',
      'root',
    ],
    [
      'does not log in again when Vault is sealed',
      { kind: 'failed', failure: VaultFailureKind.Sealed },
      'report',
      'vault-unavailable',
    ],
    [
      'does not log in again when Vault is down',
      { kind: 'failed', failure: VaultFailureKind.Unavailable },
      'report',
      'vault-unavailable',
    ],
    [
      'does not log in again when Vault rate-limits',
      { kind: 'failed', failure: VaultFailureKind.RateLimited },
      'report',
      'vault-unavailable',
    ],
    [
      'does not log in again when Vault is too slow',
      { kind: 'failed', failure: VaultFailureKind.Timeout },
      'report',
      'vault-unavailable',
    ],
    [
      'reports an unexpected bad request',
      { kind: 'failed', failure: VaultFailureKind.BadRequest },
      'report',
      'unexpected',
    ],
    [
      'dry run: would renew a healthy token',
      { kind: 'looked-up', info: info() },
      'keep',
      'healthy',
    ],
    [
      'dry run: would log in for a non-renewable token',
      { kind: 'looked-up', info: info({ renewable: false }) },
      'relogin',
      'not-renewable',
    ],
    [
      'dry run: keeps a batch token that outlives the horizon',
      { kind: 'looked-up', info: info({ type: 'batch', renewable: false }) },
      'keep',
      'batch',
    ],
    [
      'dry run: cannot tell what renewing a token inside the horizon would grant',
      { kind: 'looked-up', info: info({ ttlSeconds: 60 }) },
      'keep',
      'grant-unknown',
    ],
    [
      'dry run: would log in again when the explicit max TTL falls inside the horizon',
      {
        kind: 'looked-up',
        info: info({ ttlSeconds: 60, creationTime: 0, explicitMaxTtlSeconds: 120 }),
      },
      'relogin',
      'max-ttl-inside-horizon',
    ],
    [
      'dry run: would log in for a batch token inside the horizon',
      { kind: 'looked-up', info: info({ type: 'batch', renewable: false, ttlSeconds: 60 }) },
      'relogin',
      'batch',
    ],
    [
      'dry run: reports a root token',
      { kind: 'looked-up', info: info({ policies: ['root'] }) },
      'report',
      'root',
    ],
  ])('%s', (_name, observation, action, reason) => {
    // Act
    const decision = decideToken(observation, policy);
    // Assess
    expect(decision).toMatchObject({ action, reason });
  });

  it('logs in again when the operator asks, whatever the token state', () => {
    const decision = decideToken({ kind: 'skipped' }, { ...policy, forceRelogin: true });
    expect(decision).toEqual({ action: 'relogin', reason: 'requested' });
  });

  it('carries the remaining TTL into the decision', () => {
    const decision = decideToken({ kind: 'renewed', renewal: renewal(5000) }, policy);
    expect(decision.ttlSeconds).toBe(5000);
  });
});

describe('decideLease', () => {
  const context = { scheduleIntervalSeconds: INTERVAL, tokenReplaced: false, ownerIsStale: false };
  const leaseRenewal = (ttlSeconds: number, warnings: string[] = [], renewable = true) => ({
    leaseId: 'database/creds/app/x',
    ttlSeconds,
    renewable,
    warnings,
  });

  it.each<[string, LeaseObservation, string, string]>([
    ['keeps a renewed lease', { kind: 'renewed', renewal: leaseRenewal(3600) }, 'keep', 'healthy'],
    [
      're-issues a lease capped inside the horizon',
      { kind: 'renewed', renewal: leaseRenewal(600, [capWarning('1h', '10m')]) },
      'reissue',
      'max-ttl-inside-horizon',
    ],
    [
      'keeps a capped lease that outlives the horizon',
      { kind: 'renewed', renewal: leaseRenewal(HORIZON + 1, [capWarning('1h', '40m')]) },
      'keep',
      'healthy',
    ],
    [
      're-issues a lease that is gone',
      { kind: 'failed', failure: VaultFailureKind.LeaseNotFound },
      'reissue',
      'gone',
    ],
    [
      're-issues an expired lease',
      { kind: 'failed', failure: VaultFailureKind.LeaseExpired },
      'reissue',
      'gone',
    ],
    [
      're-issues a non-renewable lease',
      { kind: 'failed', failure: VaultFailureKind.NotRenewable },
      'reissue',
      'not-renewable',
    ],
    [
      're-issues when the policy denies lease renewal',
      { kind: 'failed', failure: VaultFailureKind.PermissionDenied },
      'reissue',
      'renew-denied',
    ],
    [
      'reports when Vault is unavailable',
      { kind: 'failed', failure: VaultFailureKind.Unavailable },
      'report',
      'vault-unavailable',
    ],
    ['issues a first lease into an empty secret', { kind: 'absent' }, 'reissue', 'absent'],
    [
      'dry run: would re-issue a non-renewable lease',
      { kind: 'looked-up', renewable: false, ttlSeconds: 100 },
      'reissue',
      'not-renewable',
    ],
    [
      'dry run: would renew a renewable lease that outlives the horizon',
      { kind: 'looked-up', renewable: true, ttlSeconds: HORIZON + 1 },
      'keep',
      'healthy',
    ],
    [
      'dry run: cannot tell what renewing a lease inside the horizon would grant',
      { kind: 'looked-up', renewable: true, ttlSeconds: 100 },
      'keep',
      'grant-unknown',
    ],
    [
      'dry run: would re-issue a lease the token may not renew',
      { kind: 'looked-up', renewable: true, ttlSeconds: HORIZON + 1, mayRenew: false },
      'reissue',
      'renew-denied',
    ],
  ])('%s', (_name, observation, action, reason) => {
    expect(decideLease(observation, context)).toMatchObject({ action, reason });
  });

  it('re-issues every lease after the token was replaced (leases die with their token)', () => {
    const decision = decideLease(
      { kind: 'renewed', renewal: leaseRenewal(99_999) },
      { ...context, tokenReplaced: true },
    );
    expect(decision).toEqual({ action: 'reissue', reason: 'token-replaced' });
  });

  it('re-issues a lease owned by a token the renewer no longer keeps alive', () => {
    const decision = decideLease(
      { kind: 'renewed', renewal: leaseRenewal(99_999) },
      { ...context, ownerIsStale: true },
    );
    expect(decision).toEqual({ action: 'reissue', reason: 'owner-not-managed' });
  });
});

/**
 * A model of Vault's token TTL maths (vault-facts §3.1) used to drive the
 * planner through many runs: the increment counts from now and is capped at
 * issue time + max TTL; a login issues a fresh token.
 */
describe('property: with a working login and Vault up, no managed token dies between runs', () => {
  it('holds for any TTL, max TTL, increment and interval where a fresh token outlives one interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 6 * 3600 }), // schedule interval
        fc.integer({ min: 60, max: 40 * 24 * 3600 }), // max TTL
        fc.integer({ min: 60, max: 40 * 24 * 3600 }), // increment asked for
        fc.array(fc.integer({ min: 0, max: 59 }), { minLength: 50, maxLength: 50 }), // run lateness
        (interval, maxTtl, increment, lateness) => {
          const freshTtl = Math.min(increment, maxTtl);
          fc.pre(freshTtl > interval + 60);
          let now = 0;
          let token = { issuedAt: 0, expiresAt: freshTtl };
          for (const late of lateness) {
            now += interval + late;
            // The token must still be alive when the run starts.
            if (now >= token.expiresAt) {
              return false;
            }
            const maxAt = token.issuedAt + maxTtl;
            const ttl = Math.min(increment, maxAt - now);
            const warnings = ttl < increment ? [capWarning(`${increment}s`, `${ttl}s`)] : [];
            token = { ...token, expiresAt: now + ttl };
            const decision = decideToken(
              { kind: 'renewed', renewal: renewal(ttl, warnings) },
              { scheduleIntervalSeconds: interval, forceRelogin: false },
            );
            if (decision.action === 'relogin') {
              token = { issuedAt: now, expiresAt: now + freshTtl };
            }
            now -= late; // the schedule itself does not drift
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('survives any one run lost to a Vault outage when a fresh token outlives two intervals', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 6 * 3600 }),
        fc.integer({ min: 60, max: 40 * 24 * 3600 }),
        fc.integer({ min: 60, max: 40 * 24 * 3600 }),
        fc.integer({ min: 0, max: 39 }), // which run is lost
        fc.integer({ min: 0, max: 59 }), // lateness of every run
        (interval, maxTtl, increment, lostRun, late) => {
          const freshTtl = Math.min(increment, maxTtl);
          fc.pre(freshTtl > 2 * interval + 120);
          let token = { issuedAt: 0, expiresAt: freshTtl };
          for (let run = 1; run <= 40; run += 1) {
            const now = run * interval + late;
            if (now >= token.expiresAt) {
              return false;
            }
            if (run === lostRun) {
              continue; // Vault down: nothing renewed, nothing replaced
            }
            const ttl = Math.min(increment, token.issuedAt + maxTtl - now);
            const warnings = ttl < increment ? [capWarning(`${increment}s`, `${ttl}s`)] : [];
            token = { ...token, expiresAt: now + ttl };
            const decision = decideToken(
              { kind: 'renewed', renewal: renewal(ttl, warnings) },
              { scheduleIntervalSeconds: interval, forceRelogin: false },
            );
            if (decision.action === 'relogin') {
              token = { issuedAt: now, expiresAt: now + freshTtl };
            }
          }
          return true;
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never asks to log in again for Vault outages, which would burn secret_id uses', () => {
    const transient = [
      VaultFailureKind.Sealed,
      VaultFailureKind.Unavailable,
      VaultFailureKind.RateLimited,
      VaultFailureKind.Timeout,
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...transient),
        fc.integer({ min: 60, max: 86_400 }),
        (failure, interval) => {
          const decision = decideToken(
            { kind: 'failed', failure },
            { scheduleIntervalSeconds: interval, forceRelogin: false },
          );
          return decision.action === 'report';
        },
      ),
    );
  });
});

describe('property: no credential dies before the next run without an alert', () => {
  /**
   * A model of the token step over 30 runs: renew with the increment; on a
   * capped renewal log in again and extend the fresh token with the increment
   * (token-step.ts, relogin.ts); alert when Vault is down, when the planner
   * keeps a token below the horizon, and when a fresh token still would not
   * outlive it (lifetimeOf). A token that dies before a run starts must have
   * been alerted about in an earlier or the same run.
   */
  it('holds for any role TTL, max TTL, increment, schedule, outages and lateness', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 4 * 3600 }), // schedule interval
        fc.integer({ min: 1, max: 48 * 3600 }), // role token_ttl
        fc.integer({ min: 1, max: 96 * 3600 }), // role token_max_ttl
        fc.integer({ min: 60, max: 48 * 3600 }), // increment
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }), // Vault down on that run
        fc.integer({ min: 0, max: 59 }), // lateness of every run
        fc.integer({ min: 0, max: 20 * 24 * 3600 }), // what the stored token has left at the start
        (interval, tokenTtl, tokenMaxTtl, increment, outages, late, storedLeft) => {
          const maxTtl = Math.max(tokenTtl, tokenMaxTtl);
          const login = (now: number) => {
            const issued = Math.min(tokenTtl, maxTtl);
            // relogin.ts: extended at once when it would not outlive the horizon.
            const ttl =
              lifetimeOf(issued, interval) === Lifetime.Enough
                ? issued
                : Math.min(increment, maxTtl);
            return { maxAt: now + maxTtl, expiresAt: now + ttl, ttl };
          };
          // The stored token, from before the first run: alive at least until then, its
          // max TTL somewhere ahead (the role may have changed since it was issued).
          const first = interval + late + 1 + storedLeft;
          let token = { maxAt: first + storedLeft, expiresAt: first, ttl: first };
          let alerted = false;
          for (let run = 1; run <= outages.length; run += 1) {
            const now = run * interval + late;
            if (now >= token.expiresAt) return alerted;
            alerted = false;
            if (outages[run - 1] === true) {
              alerted = true; // vault-unreachable, ERROR
              continue;
            }
            const ttl = Math.min(increment, token.maxAt - now);
            const warnings = ttl < increment ? [capWarning(`${increment}s`, `${ttl}s`)] : [];
            token = { ...token, expiresAt: now + ttl, ttl };
            const decision = decideToken(
              { kind: 'renewed', renewal: renewal(ttl, warnings) },
              { scheduleIntervalSeconds: interval, forceRelogin: false },
            );
            if (decision.reason === TokenReason.TtlBelowHorizon) alerted = true;
            if (decision.action === TokenAction.Relogin) {
              token = login(now);
              if (lifetimeOf(token.ttl, interval) !== Lifetime.Enough) alerted = true;
            }
          }
          return true;
        },
      ),
      { numRuns: 3000 },
    );
  });
});
