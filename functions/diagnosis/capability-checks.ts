/**
 * The stored token's rights on the paths the renewer calls, as
 * `sys/capabilities-self` reports them (vault-facts §1.17). Pure.
 */

import { ProblemCode } from '../core/problems.js';
import { type Check, CheckId, CheckStatus, check, skipped } from './check.js';
import type { CheckContext, TokenFacts } from './check-context.js';
import { fixes, renewerFix } from './fixes.js';
import type { TargetObservations } from './observations.js';

/** The paths the renewer needs, and the capability each needs (vault-facts §3.8). */
export const RENEWER_CAPABILITIES = [
  { id: CheckId.CapabilityRenewSelf, path: 'auth/token/renew-self', capability: 'update' },
  { id: CheckId.CapabilityLookupSelf, path: 'auth/token/lookup-self', capability: 'read' },
  { id: CheckId.CapabilityLeasesRenew, path: 'sys/leases/renew', capability: 'update' },
] as const;

/** What to ask `sys/capabilities-self` about. */
export const CAPABILITY_PATHS: readonly string[] = RENEWER_CAPABILITIES.map((c) => c.path);

export function capabilityChecks(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
  /** When the first lease expires: leases nobody may renew die then. */
  firstLeaseExpiry: string | undefined,
): Check[] {
  const expectedOf = (wanted: (typeof RENEWER_CAPABILITIES)[number]) =>
    `${wanted.capability} on ${wanted.path}`;
  const skipAll = (why: string) =>
    RENEWER_CAPABILITIES.map((wanted) => skipped(wanted.id, expectedOf(wanted), why));
  const tokenUsable =
    observations.tokenSecret.status === 'ok' && observations.tokenSecret.value.hasToken;
  if (!tokenUsable) return skipAll('no usable token secret');
  if (!facts.vaultUsable) return skipAll('Vault is not usable (see vault.health)');
  if (facts.liveness !== 'alive') return skipAll('the token is not valid');
  if (facts.isRoot) return skipAll('root token');

  const { capabilities } = observations;
  if (capabilities.status === 'not-run') return skipAll(capabilities.reason);
  if (capabilities.status === 'failed') {
    const denied = capabilities.kind === 'permission-denied';
    return RENEWER_CAPABILITIES.map((wanted) =>
      check({
        id: wanted.id,
        status: CheckStatus.Warn,
        expected: expectedOf(wanted),
        actual: denied
          ? `unknown: the token may not call sys/capabilities-self (${capabilities.answer})`
          : `could not be checked: ${capabilities.answer}`,
        fix: denied
          ? fixes.capabilitiesSelfDenied(facts.fix)
          : renewerFix(ProblemCode.VaultUnreachable, facts.fix),
      }),
    );
  }

  const fixOf: Record<(typeof RENEWER_CAPABILITIES)[number]['id'], string> = {
    [CheckId.CapabilityRenewSelf]: renewerFix(ProblemCode.TokenRenewDenied, facts.fix),
    [CheckId.CapabilityLookupSelf]: renewerFix(ProblemCode.NewTokenRejected, facts.fix),
    [CheckId.CapabilityLeasesRenew]: renewerFix(ProblemCode.LeaseRenewDenied, facts.fix),
  };
  // A token that may not renew itself dies at its expire time; one that may not look
  // itself up cannot verify the token of its next re-login (at its max TTL); leases
  // nobody may renew die at their own expiry.
  const breaksAtOf: Record<(typeof RENEWER_CAPABILITIES)[number]['id'], string | undefined> = {
    [CheckId.CapabilityRenewSelf]: facts.info?.expireTime ?? undefined,
    [CheckId.CapabilityLookupSelf]: facts.diesAt,
    [CheckId.CapabilityLeasesRenew]: firstLeaseExpiry,
  };
  return RENEWER_CAPABILITIES.map((wanted) => {
    if (wanted.id === CheckId.CapabilityLeasesRenew && context.target.leases.length === 0) {
      return skipped(wanted.id, expectedOf(wanted), 'no leases configured');
    }
    const granted = capabilities.value[wanted.path] ?? [];
    const allowed = granted.includes(wanted.capability) || granted.includes('root');
    return check({
      id: wanted.id,
      status: allowed ? CheckStatus.Pass : CheckStatus.Fail,
      expected: expectedOf(wanted),
      actual: granted.length === 0 ? 'deny' : granted.join(', '),
      fix: fixOf[wanted.id],
      breaksAt: breaksAtOf[wanted.id],
    });
  });
}
