/**
 * The whole checklist of one target, in the order an on-call engineer would
 * run it by hand: Vault, the token, its rights, the AppRole credentials, the
 * leases. A pure function of the observations and the clock.
 */

import { approleChecks } from './approle-checks.js';
import { capabilityChecks } from './capability-checks.js';
import type { Check } from './check.js';
import { type CheckContext, tokenFacts } from './check-context.js';
import { jwtChecks } from './jwt-checks.js';
import { firstLeaseExpiry, leaseChecks } from './lease-checks.js';
import type { TargetObservations } from './observations.js';
import { tokenChecks, vaultHealthCheck } from './token-checks.js';

export function checkTarget(observations: TargetObservations, context: CheckContext): Check[] {
  const facts = tokenFacts(observations, context);
  return [
    vaultHealthCheck(observations, facts),
    ...tokenChecks(observations, facts, context),
    ...capabilityChecks(observations, facts, context, firstLeaseExpiry(observations)),
    // A jwt target keeps no AppRole secret: its login is STS's and the jwt role's.
    ...(context.target.approle === undefined ? [] : approleChecks(observations, facts, context)),
    ...jwtChecks(observations, context),
    ...leaseChecks(observations, facts, context),
  ];
}
