/**
 * Observations of a healthy target, and of each of its parts, for the pure
 * check tests: each test changes the one thing its case is about.
 */

import type { TargetConfig } from '../../../functions/config/types.js';
import type { AppRoleRoleSettings } from '../../../functions/core/vault-inspection-port.js';
import type { SecretIdInfo } from '../../../functions/core/vault-port.js';
import {
  type LeaseInfo,
  type TokenInfo,
  VaultFailureKind,
} from '../../../functions/core/vault-port.js';
import type { CheckContext } from '../../../functions/diagnosis/check-context.js';
import type {
  LeaseObservations,
  Observed,
  RoleObservation,
  TargetObservations,
} from '../../../functions/diagnosis/observations.js';

/** 2026-11-26T12:00:00Z */
export const NOW_MS = Date.parse('2026-11-26T12:00:00Z');
export const INTERVAL = 900;
const HOUR = 3600;

export function at(secondsFromNow: number): string {
  return new Date(NOW_MS + secondsFromNow * 1000).toISOString();
}

export const TARGET: TargetConfig = {
  name: 'billing-api',
  vault: { address: 'https://vault.example.com:8200' },
  tokenSecretId: 'vault/billing-api/token',
  approle: { secretId: 'vault/billing-api/approle', mount: 'approle', roleName: 'billing-api' },
  incrementSeconds: 7200,
  leases: [
    {
      name: 'db',
      secretId: 'vault/billing-api/db',
      reissuePath: 'database/creds/billing-api',
      incrementSeconds: HOUR,
    },
  ],
  notify: { onRelogin: false, onReissue: false },
};

export function context(overrides: Partial<CheckContext> = {}): CheckContext {
  return {
    target: TARGET,
    nowMs: NOW_MS,
    scheduleIntervalSeconds: INTERVAL,
    loginRequested: false,
    ...overrides,
  };
}

/** A token issued 1h ago by the AppRole role, renewed to 1h left, max TTL 24h. */
export function tokenInfo(overrides: Partial<TokenInfo> = {}): TokenInfo {
  return {
    accessor: 'accessor-of-the-stored-token',
    policies: ['default', 'billing-api'],
    ttlSeconds: HOUR,
    renewable: true,
    type: 'service',
    expireTime: at(HOUR),
    issueTime: at(-HOUR),
    creationTime: (NOW_MS - HOUR * 1000) / 1000,
    creationTtlSeconds: HOUR,
    explicitMaxTtlSeconds: 0,
    numUses: 0,
    orphan: true,
    path: 'auth/approle/login',
    meta: { role_name: 'billing-api' },
    ...overrides,
  };
}

export function roleSettings(overrides: Partial<AppRoleRoleSettings> = {}): AppRoleRoleSettings {
  return {
    tokenTtlSeconds: HOUR,
    tokenMaxTtlSeconds: 24 * HOUR,
    tokenPeriodSeconds: 0,
    tokenExplicitMaxTtlSeconds: 0,
    tokenType: 'default',
    tokenNumUses: 0,
    tokenNoDefaultPolicy: false,
    tokenPolicies: ['billing-api'],
    bindSecretId: true,
    secretIdTtlSeconds: 0,
    secretIdNumUses: 0,
    ...overrides,
  };
}

/** A successful call, or a readable secret: the same shape in `Observed` and `StoredDocument`. */
export function ok<T>(value: T): { readonly status: 'ok'; readonly value: T } {
  return { status: 'ok', value };
}

export function failed<T>(kind: VaultFailureKind, answer = `403 ${kind}`): Observed<T> {
  return { status: 'failed', kind, answer };
}

export const DENIED = VaultFailureKind.PermissionDenied;

export function role(settings: Observed<AppRoleRoleSettings | null>): RoleObservation {
  return { mount: 'approle', role: 'billing-api', settings };
}

export function leaseInfo(overrides: Partial<LeaseInfo> = {}): LeaseInfo {
  return { ttlSeconds: HOUR, renewable: true, expireTime: at(HOUR), ...overrides };
}

export function lease(overrides: Partial<LeaseObservations> = {}): LeaseObservations {
  return {
    name: 'db',
    secret: ok({ hasLease: true }),
    lookup: ok(leaseInfo()),
    ...overrides,
  };
}

export function secretId(overrides: Partial<SecretIdInfo> = {}): SecretIdInfo {
  return { expirationTime: null, usesLeft: 0, ttlSeconds: 0, ...overrides };
}

/** Overrides of `healthy()`; an `undefined` optional part removes it. */
export type ObservationOverrides = {
  readonly [K in keyof TargetObservations]?: TargetObservations[K] | undefined;
};

/** Everything healthy, every read allowed. */
export function healthy(overrides: ObservationOverrides = {}): TargetObservations {
  const roleObservation = role(ok(roleSettings()));
  return {
    health: ok({
      initialized: true,
      sealed: false,
      standby: false,
      version: '1.17.2',
      status: 200,
    }),
    tokenSecret: ok({ hasToken: true }),
    lookup: ok(tokenInfo()),
    liveness: 'alive',
    capabilities: ok({
      'auth/token/renew-self': ['update'],
      'auth/token/lookup-self': ['read'],
      'sys/leases/renew': ['update'],
    }),
    tokenRole: roleObservation,
    approleRole: roleObservation,
    tuning: {
      mount: 'approle',
      tuning: ok({ defaultLeaseTtlSeconds: 768 * HOUR, maxLeaseTtlSeconds: 768 * HOUR }),
    },
    approleSecret: ok(true),
    secretId: ok(secretId()),
    login: undefined,
    leases: [lease()],
    ...overrides,
  } as TargetObservations;
}
