/**
 * How long a credential must stay alive for the renewer to leave it alone,
 * and what can never be kept alive: the one rule renew, diagnose and every
 * later feature share.
 */

import { type TokenInfo, VaultFailureKind } from './vault-port.js';

/** Slack for a late scheduled invocation and the time a run takes. */
export const HORIZON_MARGIN_SECONDS = 60;

/**
 * How far ahead a credential must stay alive for the renewer to leave it
 * alone: the next run, plus one spare run in case that one fails, plus slack.
 * A credential that will die inside the horizon (and cannot be extended) is
 * replaced now, while there is still time.
 */
export function horizonSeconds(scheduleIntervalSeconds: number): number {
  return 2 * scheduleIntervalSeconds + HORIZON_MARGIN_SECONDS;
}

/** How soon a credential dies, against the renewer's own rhythm. */
export const Lifetime = {
  /** Outlives the horizon: the next runs keep it alive. */
  Enough: 'enough',
  /** Dies after the next run but inside the horizon: one missed run and it is gone. */
  InsideHorizon: 'inside-horizon',
  /** Dies before the next scheduled run can act. */
  BeforeNextRun: 'before-next-run',
} as const;
export type Lifetime = (typeof Lifetime)[keyof typeof Lifetime];

export function lifetimeOf(ttlSeconds: number, scheduleIntervalSeconds: number): Lifetime {
  if (ttlSeconds > horizonSeconds(scheduleIntervalSeconds)) return Lifetime.Enough;
  return ttlSeconds > scheduleIntervalSeconds ? Lifetime.InsideHorizon : Lifetime.BeforeNextRun;
}

/**
 * The one rule for a credential just issued (a login's token, a re-issued
 * lease, a rotated token) that would not outlive the horizon: renewed once
 * at once with the increment, since Vault counts a renewal from now, up to
 * the max TTL (vault-facts §3.1). Answers the TTL it has then: the issued
 * one when it is not renewable or the renewal fails (the caller then
 * reports a lifetime below the horizon).
 */
export async function extendIfShort(
  issuedTtlSeconds: number,
  renewable: boolean,
  scheduleIntervalSeconds: number,
  renew: () => Promise<number>,
): Promise<number> {
  if (!renewable || lifetimeOf(issuedTtlSeconds, scheduleIntervalSeconds) === Lifetime.Enough) {
    return issuedTtlSeconds;
  }
  try {
    return await renew();
  } catch {
    return issuedTtlSeconds;
  }
}

/**
 * A root token is one with the `root` policy; the initial root token also has
 * no lease entry (renew-self answers `invalid lease ID`), a created root token
 * has TTL 0 and no expiry (vault-facts §3.5).
 */
export function isRootToken(info: TokenInfo): boolean {
  return info.policies.includes('root');
}

/** Whether a token still lives, as far as the answers of this run tell. */
export type TokenLiveness = 'alive' | 'dead' | 'unknown';

/**
 * The one 403 rule. Vault before 1.17 (PR #25953) and OpenBao answer a dead
 * token with the same plain `permission denied` as a policy denial on a live
 * one (vault-facts §2). After such a 403, a call the default policy always
 * grants (lookup-self, capabilities-self) tells them apart: if it answers, the
 * token is alive and its policy lacks the capability; if it is refused too
 * (403 or `invalid token`), the token is dead; any other failure (Vault
 * unreachable) leaves it unknown. `probeFailure` is that call's failure kind,
 * or undefined when it answered.
 */
export function livenessAfterDenial(probeFailure: VaultFailureKind | undefined): TokenLiveness {
  if (probeFailure === undefined) return 'alive';
  return probeFailure === VaultFailureKind.PermissionDenied ||
    probeFailure === VaultFailureKind.InvalidToken
    ? 'dead'
    : 'unknown';
}
