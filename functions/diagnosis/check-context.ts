/**
 * What every group of checks needs besides the observations: the target, the
 * clock, the schedule, and the facts about the stored token that several
 * groups depend on (when it dies, which role issued it). Computed once, pure.
 */

import type { TargetConfig } from '../config/types.js';
import type { TokenLiveness } from '../core/lifetime.js';
import { horizonSeconds, isRootToken } from '../core/lifetime.js';
import { loginRouteOf } from '../core/login-route.js';
import type { TokenInfo } from '../core/vault-port.js';
import type { FixContext } from './fixes.js';
import { deriveMaxTtl, type MaxTtlDerivation } from './max-ttl.js';
import type { RoleObservation, TargetObservations } from './observations.js';

export interface CheckContext {
  readonly target: TargetConfig;
  readonly nowMs: number;
  readonly scheduleIntervalSeconds: number;
  /** The event asked for a real AppRole login (`"login": true`). */
  readonly loginRequested: boolean;
}

export interface TokenFacts {
  /** Vault answered `sys/health` as initialized and unsealed. */
  readonly vaultUsable: boolean;
  readonly liveness: TokenLiveness;
  /** lookup-self's answer, when it gave one. */
  readonly info?: TokenInfo;
  readonly isRoot: boolean;
  readonly maxTtl?: MaxTtlDerivation;
  /**
   * When the stored token stops working unless something replaces it: its
   * expire time when it cannot be renewed (batch, not renewable, renew-self
   * denied), else its max-TTL deadline; absent when it has neither.
   */
  readonly diesAt?: string;
  /** The role name: the config's, else the stored token's `meta.role_name`. */
  readonly roleName?: string;
  readonly fix: FixContext;
  /** Two schedule intervals and a margin (the renewer's horizon). */
  readonly horizonSeconds: number;
}

/** `auth/<mount>/...` → `<mount>`, for the token's own path (e.g. `auth/approle/login`). */
export function authMountOf(path: string): string | undefined {
  const match = /^auth\/(.+)\/login(?:\/[^/]+)?$/.exec(path);
  if (match?.[1] !== undefined) return match[1];
  return path.startsWith('auth/token/') ? 'token' : undefined;
}

function roleInput(observation: RoleObservation | undefined) {
  if (observation === undefined) return 'not-applicable' as const;
  const { settings } = observation;
  if (settings.status !== 'ok') return 'unreadable' as const;
  return settings.value ?? ('not-applicable' as const);
}

function canRenew(observations: TargetObservations, info: TokenInfo): boolean {
  if (info.type === 'batch' || info.renewable !== true) return false;
  const { capabilities } = observations;
  if (capabilities.status !== 'ok') return true;
  const renewSelf = capabilities.value['auth/token/renew-self'] ?? [];
  return renewSelf.includes('update') || renewSelf.includes('root');
}

export function tokenFacts(observations: TargetObservations, context: CheckContext): TokenFacts {
  const { target } = context;
  const health = observations.health;
  const vaultUsable = health.status === 'ok' && health.value.initialized && !health.value.sealed;
  const info = observations.lookup.status === 'ok' ? observations.lookup.value : undefined;
  const metaRole = info?.meta?.role_name;
  const roleName =
    loginRouteOf(target).roleName ??
    (info !== undefined && authMountOf(info.path) === loginRouteOf(target).mount
      ? metaRole
      : undefined);
  const fix: FixContext = {
    target,
    scheduleIntervalSeconds: context.scheduleIntervalSeconds,
    ...(roleName === undefined ? {} : { roleName }),
    ...(info === undefined ? {} : { policies: info.policies }),
  };
  const base = {
    vaultUsable,
    liveness: observations.liveness,
    fix,
    horizonSeconds: horizonSeconds(context.scheduleIntervalSeconds),
    ...(roleName === undefined ? {} : { roleName }),
  };
  if (info === undefined) return { ...base, isRoot: false };

  const tokenRole = observations.tokenRole;
  const tuning = observations.tuning;
  const mountPath = `sys/mounts/auth/${tuning?.mount ?? authMountOf(info.path) ?? loginRouteOf(target).mount}/tune`;
  const maxTtl = deriveMaxTtl({
    token: info,
    role: roleInput(tokenRole),
    ...(tokenRole === undefined
      ? {}
      : { rolePath: `auth/${tokenRole.mount}/role/${tokenRole.role}` }),
    mount: tuning?.tuning.status === 'ok' ? tuning.tuning.value : 'unreadable',
    mountPath,
  });
  const diesAt = canRenew(observations, info) ? maxTtl.deadline : (info.expireTime ?? undefined);
  return {
    ...base,
    info,
    isRoot: isRootToken(info),
    maxTtl,
    ...(diesAt === undefined ? {} : { diesAt }),
  };
}

/** The earlier of two optional RFC3339 times. */
export function earliest(...times: readonly (string | undefined)[]): string | undefined {
  let best: string | undefined;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const time of times) {
    if (time === undefined) continue;
    const ms = Date.parse(time);
    if (!Number.isNaN(ms) && ms < bestMs) {
      best = time;
      bestMs = ms;
    }
  }
  return best;
}
