/**
 * The checks of Vault itself and of the stored token: present, valid, not
 * root, issued by the target's AppRole, a renewable service token, TTL and
 * time to max TTL beyond the renewer's horizon, no use limit. Pure.
 */

import { loginRouteOf } from '../core/login-route.js';
import { ProblemCode } from '../core/problems.js';
import { humanSeconds } from '../core/wording.js';
import { type Check, CheckId, CheckStatus, check, skipped } from './check.js';
import { authMountOf, type CheckContext, type TokenFacts } from './check-context.js';
import { fixes, renewerFix } from './fixes.js';
import { vaultDuration } from './max-ttl.js';
import type { TargetObservations } from './observations.js';

const VAULT_NOT_USABLE = 'Vault is not usable (see vault.health)';

export function vaultHealthCheck(observations: TargetObservations, facts: TokenFacts): Check {
  const expected = 'reachable, initialized, unsealed';
  const { health } = observations;
  const fix = renewerFix(ProblemCode.VaultUnreachable, facts.fix);
  if (health.status === 'not-run') return skipped(CheckId.VaultHealth, expected, health.reason);
  if (health.status === 'failed') {
    return check({
      id: CheckId.VaultHealth,
      status: CheckStatus.Fail,
      expected,
      actual: `unreachable: ${health.answer}`,
      fix,
    });
  }
  const { value } = health;
  const state = [
    value.initialized ? 'initialized' : 'NOT initialized',
    value.sealed ? 'SEALED' : 'unsealed',
    value.standby ? 'standby' : 'active',
  ].join(', ');
  return check({
    id: CheckId.VaultHealth,
    status: facts.vaultUsable ? CheckStatus.Pass : CheckStatus.Fail,
    expected,
    actual: `${state}, version ${value.version || 'unknown'}`,
    fix,
    data: { sealed: value.sealed, initialized: value.initialized, version: value.version },
  });
}

export function tokenChecks(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
): Check[] {
  const checks: Check[] = [tokenSecretCheck(observations, facts)];
  const infoChecks = [
    [CheckId.TokenNotRoot, 'no root policy'],
    [CheckId.TokenOrigin, originExpected(context)],
    [CheckId.TokenType, 'service'],
    [CheckId.TokenRenewable, 'renewable'],
    [
      CheckId.TokenTtl,
      `more than ${humanSeconds(facts.horizonSeconds)} left (two runs and a margin)`,
    ],
    [CheckId.TokenMaxTtl, `more than ${humanSeconds(facts.horizonSeconds)} left`],
    [CheckId.TokenNumUses, 'unlimited (num_uses 0)'],
  ] as const;
  const skipAll = (why: string) => infoChecks.map(([id, expected]) => skipped(id, expected, why));

  if (observations.tokenSecret.status !== 'ok' || !observations.tokenSecret.value.hasToken) {
    checks.push(skipped(CheckId.TokenValid, 'lookup-self answers', 'no usable token secret'));
    checks.push(...skipAll('no usable token secret'));
    return checks;
  }
  if (!facts.vaultUsable) {
    checks.push(skipped(CheckId.TokenValid, 'lookup-self answers', VAULT_NOT_USABLE));
    checks.push(...skipAll(VAULT_NOT_USABLE));
    return checks;
  }
  checks.push(tokenValidCheck(observations, facts));
  const { info } = facts;
  if (info === undefined) {
    checks.push(
      ...skipAll(facts.liveness === 'alive' ? 'lookup-self is denied' : 'the token is not valid'),
    );
    return checks;
  }
  const fix = facts.fix;
  checks.push(
    check({
      id: CheckId.TokenNotRoot,
      status: facts.isRoot ? CheckStatus.Fail : CheckStatus.Pass,
      expected: 'no root policy',
      actual: facts.isRoot ? 'a root token' : 'not root',
      fix: renewerFix(ProblemCode.TokenRoot, fix),
    }),
  );
  if (facts.isRoot) {
    checks.push(...skipAll('root token').slice(1));
    return checks;
  }
  checks.push(originCheck(facts, context));

  const isBatch = info.type === 'batch';
  const expireTime = info.expireTime ?? undefined;
  checks.push(
    check({
      id: CheckId.TokenType,
      status: isBatch ? CheckStatus.Fail : CheckStatus.Pass,
      expected: 'service',
      actual: info.type,
      fix: renewerFix(ProblemCode.TokenBatch, fix),
      breaksAt: expireTime,
    }),
  );
  checks.push(
    isBatch
      ? skipped(CheckId.TokenRenewable, 'renewable', 'batch tokens are never renewable')
      : check({
          id: CheckId.TokenRenewable,
          status: info.renewable === true ? CheckStatus.Pass : CheckStatus.Fail,
          expected: 'renewable',
          actual: info.renewable === true ? 'renewable' : 'not renewable',
          fix: renewerFix(ProblemCode.TokenNotRenewable, fix),
          breaksAt: expireTime,
        }),
  );
  checks.push(ttlCheck(facts, context));
  checks.push(maxTtlCheck(facts, context));
  checks.push(
    check({
      id: CheckId.TokenNumUses,
      status: info.numUses === 0 ? CheckStatus.Pass : CheckStatus.Warn,
      expected: 'unlimited (num_uses 0)',
      actual:
        info.numUses === 0
          ? 'unlimited'
          : `${info.numUses} uses left; every call spends one (diagnose spent one on lookup-self and made no other call with it)`,
      fix: fixes.tokenNumUses(fix),
      data: { numUses: info.numUses },
    }),
  );
  return checks;
}

function tokenSecretCheck(observations: TargetObservations, facts: TokenFacts): Check {
  const expected = 'a JSON object with a "token"';
  const secret = observations.tokenSecret;
  const fail = (actual: string, fix: string) =>
    check({ id: CheckId.TokenSecret, status: CheckStatus.Fail, expected, actual, fix });
  switch (secret.status) {
    case 'unreadable':
      return fail(
        `unreadable: ${secret.answer}`,
        renewerFix(ProblemCode.SecretUnreadable, facts.fix),
      );
    case 'malformed':
      return fail(
        `malformed: ${secret.problem}`,
        renewerFix(ProblemCode.SecretMalformed, facts.fix),
      );
    case 'ok':
      return secret.value.hasToken
        ? check({
            id: CheckId.TokenSecret,
            status: CheckStatus.Pass,
            expected,
            actual: 'holds a token',
          })
        : fail('holds no token yet', fixes.tokenAbsent(facts.fix));
  }
}

function tokenValidCheck(observations: TargetObservations, facts: TokenFacts): Check {
  const expected = 'lookup-self answers (not expired, not revoked)';
  const { lookup } = observations;
  if (facts.info !== undefined) {
    return check({
      id: CheckId.TokenValid,
      status: CheckStatus.Pass,
      expected,
      actual: `valid; policies: ${facts.info.policies.join(', ') || 'none'}`,
      data: { policies: facts.info.policies.join(',') },
    });
  }
  const answer = lookup.status === 'failed' ? lookup.answer : 'no answer';
  switch (facts.liveness) {
    case 'alive':
      return check({
        id: CheckId.TokenValid,
        status: CheckStatus.Pass,
        expected,
        actual: `alive (sys/capabilities-self answers), but lookup-self is denied: ${answer}`,
      });
    case 'dead':
      return check({
        id: CheckId.TokenValid,
        status: CheckStatus.Fail,
        expected,
        actual: `invalid: expired or revoked, and every lease it created went with it (${answer})`,
        fix: fixes.tokenInvalid(facts.fix),
      });
    case 'unknown':
      return check({
        id: CheckId.TokenValid,
        status: CheckStatus.Fail,
        expected,
        actual: `could not be checked: ${answer}`,
        fix: renewerFix(ProblemCode.VaultUnreachable, facts.fix),
      });
  }
}

function originExpected(context: CheckContext): string {
  const { mount, roleName } = loginRouteOf(context.target);
  return `issued by auth/${mount}/login${roleName === undefined ? '' : ` (role ${roleName})`}`;
}

function originCheck(facts: TokenFacts, context: CheckContext): Check {
  const info = facts.info;
  const { mount } = loginRouteOf(context.target);
  const wantedRole = loginRouteOf(context.target).roleName;
  const expected = originExpected(context);
  const path = info?.path ?? '';
  const tokenRole = info?.meta?.role_name;
  const sameMount = authMountOf(path) === mount;
  const sameRole = wantedRole === undefined || tokenRole === undefined || tokenRole === wantedRole;
  return check({
    id: CheckId.TokenOrigin,
    status: sameMount && sameRole ? CheckStatus.Pass : CheckStatus.Warn,
    expected,
    actual: `issued by ${path || 'an unknown path'}${tokenRole === undefined ? '' : ` (role ${tokenRole})`}`,
    fix: fixes.tokenOrigin(facts.fix),
  });
}

function ttlCheck(facts: TokenFacts, context: CheckContext): Check {
  const info = facts.info;
  const expected = `more than ${humanSeconds(facts.horizonSeconds)} left (two runs and a margin)`;
  if (info === undefined) return skipped(CheckId.TokenTtl, expected, 'no lookup-self answer');
  const ttl = info.ttlSeconds;
  const data = {
    ttlSeconds: ttl,
    expireTime: info.expireTime,
    creationTtlSeconds: info.creationTtlSeconds,
  };
  const actual = `${humanSeconds(ttl)} left, expires ${info.expireTime ?? 'never'} (creation TTL ${vaultDuration(info.creationTtlSeconds)})`;
  if (ttl <= 0) {
    return check({
      id: CheckId.TokenTtl,
      status: CheckStatus.Fail,
      expected,
      actual,
      fix: fixes.tokenInvalid(facts.fix),
      data,
    });
  }
  return check({
    id: CheckId.TokenTtl,
    status: ttl > facts.horizonSeconds ? CheckStatus.Pass : CheckStatus.Warn,
    expected,
    actual,
    fix: renewerFix(ProblemCode.TokenTtlBelowHorizon, facts.fix, undefined, {
      intervalSeconds: String(context.scheduleIntervalSeconds),
    }),
    data,
  });
}

function maxTtlCheck(facts: TokenFacts, context: CheckContext): Check {
  const expected = `more than ${humanSeconds(facts.horizonSeconds)} left`;
  const derivation = facts.maxTtl;
  if (derivation === undefined)
    return skipped(CheckId.TokenMaxTtl, expected, 'no lookup-self answer');
  const data = {
    source: derivation.source,
    assumed: derivation.assumed,
    basis: derivation.basis,
    maxTtlSeconds: derivation.maxTtlSeconds ?? null,
    deadline: derivation.deadline ?? null,
  };
  if (derivation.deadline === undefined || derivation.maxTtlSeconds === undefined) {
    return check({
      id: CheckId.TokenMaxTtl,
      status: CheckStatus.Pass,
      expected,
      actual: `no max TTL: ${derivation.basis}`,
      data,
    });
  }
  const leftSeconds = Math.round((Date.parse(derivation.deadline) - context.nowMs) / 1000);
  const tooClose =
    leftSeconds <= facts.horizonSeconds || derivation.maxTtlSeconds <= facts.horizonSeconds;
  return check({
    id: CheckId.TokenMaxTtl,
    status: tooClose ? CheckStatus.Warn : CheckStatus.Pass,
    expected,
    actual: `${humanSeconds(Math.max(0, leftSeconds))} left, until ${derivation.deadline}; max TTL ${vaultDuration(derivation.maxTtlSeconds)} from ${derivation.basis}`,
    fix: fixes.nearMaxTtl(facts.fix, derivation.source, derivation.maxTtlSeconds),
    breaksAt: derivation.deadline,
    data: { ...data, secondsLeft: leftSeconds },
  });
}
