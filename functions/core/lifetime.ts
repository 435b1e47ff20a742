/**
 * How long a credential must stay alive for the renewer to leave it alone,
 * and what can never be kept alive: the one rule renew, diagnose and every
 * later feature share.
 */

import type { TokenInfo } from './vault-port.js';

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

/**
 * A root token is one with the `root` policy; the initial root token also has
 * no lease entry (renew-self answers `invalid lease ID`), a created root token
 * has TTL 0 and no expiry (vault-facts §3.5).
 */
export function isRootToken(info: TokenInfo): boolean {
  return info.policies.includes('root');
}
