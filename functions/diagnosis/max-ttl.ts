/**
 * When the stored token reaches its max TTL, and how we know: a pure function
 * of lookup-self, the issuing role and the auth mount's tuning, following
 * Vault's own `CalculateTTL` (vault-facts §3.1). Whatever diagnose could not
 * read is named, and a value resting on it is labelled an assumption.
 */

import type { AppRoleRoleSettings, MountTuning } from '../core/vault-inspection-port.js';
import type { TokenInfo } from '../core/vault-port.js';

/** Vault's system max lease TTL when nobody tuned it: 768h, 32 days (vault-facts §3.2). */
export const SYSTEM_MAX_TTL_SECONDS = 768 * 3600;

export const MaxTtlSource = {
  /** `explicit_max_ttl` of the token: a hard cap nothing can lift (vault-facts §3.4). */
  ExplicitMaxTtl: 'explicit-max-ttl',
  /** `token_max_ttl` of the AppRole role, re-read by Vault at every renewal. */
  RoleTokenMaxTtl: 'role-token-max-ttl',
  /** `max_lease_ttl` of the auth mount (the system value when not tuned). */
  MountMaxLeaseTtl: 'mount-max-lease-ttl',
  /** The 768h system default, assumed because the mount's tuning was not readable. */
  SystemDefault: 'system-default',
  /** A periodic token without explicit max: no max TTL, it lives while renewed within each period. */
  Periodic: 'periodic',
  /** TTL 0, no expire time (root tokens). */
  NeverExpires: 'never-expires',
} as const;
export type MaxTtlSource = (typeof MaxTtlSource)[keyof typeof MaxTtlSource];

export interface MaxTtlInputs {
  readonly token: TokenInfo;
  /**
   * The issuing AppRole role: its settings, `unreadable` (403, or the call
   * failed), or `not-applicable` (not an AppRole token, or the role is gone).
   */
  readonly role: AppRoleRoleSettings | 'unreadable' | 'not-applicable';
  /** e.g. `auth/approle/role/billing-api`, for the labels. */
  readonly rolePath?: string;
  readonly mount: MountTuning | 'unreadable';
  /** e.g. `sys/mounts/auth/approle/tune`, for the labels. */
  readonly mountPath: string;
}

export interface MaxTtlDerivation {
  readonly source: MaxTtlSource;
  /** From issue to the max; absent when there is none. */
  readonly maxTtlSeconds?: number;
  /** RFC3339; absent when there is none. */
  readonly deadline?: string;
  /** The value rests on something diagnose could not read. */
  readonly assumed: boolean;
  /** Where the value comes from and what it assumes, in words. */
  readonly basis: string;
}

/** A duration as Vault writes and reads it: `768h`, `90m`, `150s`. */
export function vaultDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  if (whole > 0 && whole % 3600 === 0) return `${whole / 3600}h`;
  if (whole > 0 && whole % 60 === 0) return `${whole / 60}m`;
  return `${whole}s`;
}

/** When the token's lease started: Vault anchors the max at the original issue time (§3.1). */
export function issuedAtMs(token: TokenInfo): number {
  const issued = token.issueTime === undefined ? Number.NaN : Date.parse(token.issueTime);
  return Number.isNaN(issued) ? token.creationTime * 1000 : issued;
}

interface Candidate {
  readonly source: MaxTtlSource;
  readonly seconds: number;
  readonly label: string;
}

export function deriveMaxTtl(inputs: MaxTtlInputs): MaxTtlDerivation {
  const { token } = inputs;
  const issuedMs = issuedAtMs(token);
  const at = (seconds: number) => new Date(issuedMs + seconds * 1000).toISOString();
  const explicit = token.explicitMaxTtlSeconds;

  if (token.expireTime === null && token.ttlSeconds === 0) {
    return {
      source: MaxTtlSource.NeverExpires,
      assumed: false,
      basis: 'the token has TTL 0 and never expires',
    };
  }
  const period = token.periodSeconds ?? 0;
  if (period > 0) {
    // Periodic tokens have no lifetime cap other than an explicit max (§3.3).
    if (explicit > 0) {
      return {
        source: MaxTtlSource.ExplicitMaxTtl,
        maxTtlSeconds: explicit,
        deadline: at(explicit),
        assumed: false,
        basis: `explicit_max_ttl ${vaultDuration(explicit)} of a periodic token (period ${vaultDuration(period)})`,
      };
    }
    return {
      source: MaxTtlSource.Periodic,
      assumed: false,
      basis: `periodic token (period ${vaultDuration(period)}): no max TTL, it lives as long as it is renewed within each period`,
    };
  }

  const candidates: Candidate[] = [];
  if (explicit > 0) {
    candidates.push({
      source: MaxTtlSource.ExplicitMaxTtl,
      seconds: explicit,
      label: `explicit_max_ttl ${vaultDuration(explicit)}`,
    });
  }
  const { role, mount } = inputs;
  if (typeof role === 'object' && role.tokenMaxTtlSeconds > 0) {
    candidates.push({
      source: MaxTtlSource.RoleTokenMaxTtl,
      seconds: role.tokenMaxTtlSeconds,
      label: `token_max_ttl ${vaultDuration(role.tokenMaxTtlSeconds)} of ${inputs.rolePath ?? 'its role'}`,
    });
  }
  if (typeof mount === 'object' && mount.maxLeaseTtlSeconds > 0) {
    candidates.push({
      source: MaxTtlSource.MountMaxLeaseTtl,
      seconds: mount.maxLeaseTtlSeconds,
      label: `max_lease_ttl ${vaultDuration(mount.maxLeaseTtlSeconds)} (${inputs.mountPath})`,
    });
  } else {
    candidates.push({
      source: MaxTtlSource.SystemDefault,
      seconds: SYSTEM_MAX_TTL_SECONDS,
      label: `the ${vaultDuration(SYSTEM_MAX_TTL_SECONDS)} system default`,
    });
  }
  // The lowest cap wins (§3.1); on a tie, the first listed (the most specific) names it.
  const chosen = candidates.reduce((low, next) => (next.seconds < low.seconds ? next : low));

  const unreadable = [
    ...(role === 'unreadable' ? [inputs.rolePath ?? 'the role'] : []),
    ...(mount === 'unreadable' ? [inputs.mountPath] : []),
  ];
  const assumed = role === 'unreadable' || chosen.source === MaxTtlSource.SystemDefault;
  const basis = assumed
    ? `${chosen.label}, assumed: ${unreadable.join(' and ')} not readable with the stored token${
        role === 'unreadable' ? ", and the role's token_max_ttl may be shorter" : ''
      }`
    : chosen.label;
  return {
    source: chosen.source,
    maxTtlSeconds: chosen.seconds,
    deadline: at(chosen.seconds),
    assumed,
    basis,
  };
}
