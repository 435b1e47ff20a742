/**
 * The checks of each configured lease: its secret, present in Vault,
 * renewable, TTL beyond the horizon, and whether it dies with its token
 * before its own expiry (leases are revoked with the token that created them,
 * vault-facts §4). Pure.
 */

import type { LeaseConfig } from '../config/types.js';
import { ProblemCode } from '../core/problems.js';
import { VaultFailureKind } from '../core/vault-port.js';
import { humanSeconds } from '../core/wording.js';
import { type Check, CheckId, CheckStatus, check, skipped } from './check.js';
import { type CheckContext, earliest, type TokenFacts } from './check-context.js';
import { fixes, renewerFix } from './fixes.js';
import type { LeaseObservations, TargetObservations } from './observations.js';

const EXPECTED = {
  [CheckId.LeaseSecret]: 'a JSON object with a lease_id',
  [CheckId.LeasePresent]: 'sys/leases/lookup finds it',
  [CheckId.LeaseRenewable]: 'renewable',
  [CheckId.LeaseTtl]: 'more than two runs and a margin left',
  [CheckId.LeaseParent]: 'its token outlives it',
} as const;

type LeaseCheckId = keyof typeof EXPECTED;

/** When the first looked-up lease expires (for the sys/leases/renew capability check). */
export function firstLeaseExpiry(observations: TargetObservations): string | undefined {
  return earliest(
    ...observations.leases.map((lease) =>
      lease.lookup.status === 'ok' ? (lease.lookup.value.expireTime ?? undefined) : undefined,
    ),
  );
}

export function leaseChecks(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
): Check[] {
  return context.target.leases.flatMap((lease) => {
    const observed = observations.leases.find((l) => l.name === lease.name);
    return observed === undefined
      ? (Object.keys(EXPECTED) as LeaseCheckId[]).map((id) =>
          skipped(id, EXPECTED[id], 'not observed', lease.name),
        )
      : oneLease(lease, observed, facts, context);
  });
}

function oneLease(
  lease: LeaseConfig,
  observed: LeaseObservations,
  facts: TokenFacts,
  context: CheckContext,
): Check[] {
  const name = lease.name;
  const rest = [
    CheckId.LeasePresent,
    CheckId.LeaseRenewable,
    CheckId.LeaseTtl,
    CheckId.LeaseParent,
  ] as const;
  const skipRest = (why: string, fix?: string) =>
    rest.map((id) => skipped(id, EXPECTED[id], why, name, fix));

  const { secret } = observed;
  if (secret.status !== 'ok' || !secret.value.hasLease) {
    const [actual, fix] =
      secret.status === 'unreadable'
        ? [
            `unreadable: ${secret.answer}`,
            renewerFix(ProblemCode.SecretUnreadable, facts.fix, lease),
          ]
        : secret.status === 'malformed'
          ? [
              `malformed: ${secret.problem}`,
              renewerFix(ProblemCode.SecretMalformed, facts.fix, lease),
            ]
          : ['holds no lease yet', fixes.leaseAbsent(lease)];
    return [
      check({
        id: CheckId.LeaseSecret,
        lease: name,
        status: CheckStatus.Fail,
        expected: EXPECTED[CheckId.LeaseSecret],
        actual,
        fix,
      }),
      ...skipRest('no usable lease secret'),
    ];
  }
  const secretCheck = check({
    id: CheckId.LeaseSecret,
    lease: name,
    status: CheckStatus.Pass,
    expected: EXPECTED[CheckId.LeaseSecret],
    actual: 'holds a lease',
  });
  if (!facts.vaultUsable)
    return [secretCheck, ...skipRest('Vault is not usable (see vault.health)')];
  if (facts.liveness === 'dead') {
    return [
      secretCheck,
      ...skipRest(
        'the stored token is invalid; a lease it created was revoked with it',
        fixes.leaseGone(facts.fix, lease),
      ),
    ];
  }

  const { lookup } = observed;
  if (lookup.status === 'not-run') return [secretCheck, ...skipRest(lookup.reason)];
  if (lookup.status === 'failed') {
    const gone =
      lookup.kind === VaultFailureKind.LeaseNotFound ||
      lookup.kind === VaultFailureKind.LeaseExpired;
    const denied = lookup.kind === VaultFailureKind.PermissionDenied;
    return [
      secretCheck,
      check({
        id: CheckId.LeasePresent,
        lease: name,
        status: gone ? CheckStatus.Fail : CheckStatus.Warn,
        expected: EXPECTED[CheckId.LeasePresent],
        actual: gone
          ? `gone (expired, revoked, or died with its token): ${lookup.answer}`
          : denied
            ? `unknown: the token may not look leases up (${lookup.answer})`
            : `could not be checked: ${lookup.answer}`,
        fix: gone
          ? fixes.leaseGone(facts.fix, lease)
          : denied
            ? fixes.leaseLookupDenied(facts.fix)
            : renewerFix(ProblemCode.VaultUnreachable, facts.fix),
      }),
      ...skipRest(gone ? 'the lease is gone' : 'the lease could not be looked up').slice(1),
    ];
  }

  const info = lookup.value;
  const expireTime = info.expireTime ?? undefined;
  const present = check({
    id: CheckId.LeasePresent,
    lease: name,
    status: CheckStatus.Pass,
    expected: EXPECTED[CheckId.LeasePresent],
    actual: `present, ${humanSeconds(info.ttlSeconds)} left, expires ${info.expireTime ?? 'never'}`,
    data: { ttlSeconds: info.ttlSeconds, expireTime: info.expireTime, renewable: info.renewable },
  });
  const renewable = check({
    id: CheckId.LeaseRenewable,
    lease: name,
    status: info.renewable ? CheckStatus.Pass : CheckStatus.Warn,
    expected: EXPECTED[CheckId.LeaseRenewable],
    actual: info.renewable ? 'renewable' : 'not renewable',
    fix: fixes.leaseNotRenewable(lease),
    breaksAt: expireTime,
  });
  const ttl = check({
    id: CheckId.LeaseTtl,
    lease: name,
    status: info.ttlSeconds > facts.horizonSeconds ? CheckStatus.Pass : CheckStatus.Warn,
    expected: `more than ${humanSeconds(facts.horizonSeconds)} left`,
    actual: `${humanSeconds(info.ttlSeconds)} left`,
    fix: fixes.leaseShortTtl(lease, context.scheduleIntervalSeconds),
    // Renewable: the renewer extends it; not renewable: it dies at its expiry.
    breaksAt: info.renewable ? undefined : expireTime,
  });
  return [secretCheck, present, renewable, ttl, parentCheck(lease, observed, facts, expireTime)];
}

function parentCheck(
  lease: LeaseConfig,
  observed: LeaseObservations,
  facts: TokenFacts,
  leaseExpireTime: string | undefined,
): Check {
  const name = lease.name;
  const expected = EXPECTED[CheckId.LeaseParent];
  if (facts.info === undefined)
    return skipped(CheckId.LeaseParent, expected, 'no lookup-self answer', name);
  const recorded =
    observed.secret.status === 'ok' ? observed.secret.value.tokenAccessor : undefined;
  if (recorded !== undefined && facts.info.accessor !== '' && recorded !== facts.info.accessor) {
    // Compared, never printed: accessors are as sensitive as the tokens they revoke.
    return check({
      id: CheckId.LeaseParent,
      lease: name,
      status: CheckStatus.Warn,
      expected,
      actual:
        'issued by another token than the stored one: it dies with that token, which the renewer does not keep alive',
      fix: fixes.leaseOwnerStale(facts.fix, lease),
    });
  }
  const tokenDiesAt = facts.diesAt;
  if (tokenDiesAt === undefined) {
    return check({
      id: CheckId.LeaseParent,
      lease: name,
      status: CheckStatus.Pass,
      expected,
      actual: 'its token has no max TTL',
    });
  }
  const diesFirst =
    leaseExpireTime === undefined || earliest(tokenDiesAt, leaseExpireTime) === tokenDiesAt;
  const strictlyFirst = diesFirst && tokenDiesAt !== leaseExpireTime;
  return check({
    id: CheckId.LeaseParent,
    lease: name,
    status: strictlyFirst ? CheckStatus.Warn : CheckStatus.Pass,
    expected,
    actual: strictlyFirst
      ? `dies with its token at ${tokenDiesAt}, before its own expiry ${leaseExpireTime ?? '(never)'}`
      : `its token lives until ${tokenDiesAt}, the lease expires ${leaseExpireTime ?? 'never'}`,
    fix: fixes.leaseDiesWithToken(facts.fix, lease),
    breaksAt: tokenDiesAt,
  });
}
