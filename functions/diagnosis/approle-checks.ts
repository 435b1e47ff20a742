/**
 * The checks of the AppRole credentials the renewer logs in again with: the
 * secret, the role's settings, the secret_id's expiry and remaining uses, and
 * (only when asked) a real login. Pure.
 *
 * A broken re-login does not stop the stored token: it breaks the target when
 * that token dies and must be replaced, so these checks carry the token's
 * death as their `breaksAt` (none, i.e. broken now, when it is dead already).
 */

import { ProblemCode } from '../core/problems.js';
import type { AppRoleRoleSettings } from '../core/vault-inspection-port.js';
import { VaultFailureKind } from '../core/vault-port.js';
import { humanSeconds } from '../core/wording.js';
import { type Check, CheckId, CheckStatus, check, skipped } from './check.js';
import { type CheckContext, earliest, type TokenFacts } from './check-context.js';
import { fixes, renewerFix, rolePath } from './fixes.js';
import { vaultDuration } from './max-ttl.js';
import type { TargetObservations } from './observations.js';

/** A secret_id expiring within this is worth a warning even when the token outlives it. */
export const SECRET_ID_EXPIRY_WARNING_SECONDS = 7 * 86_400;

const STATUS_RANK: Readonly<Record<CheckStatus, number>> = {
  [CheckStatus.Skip]: 0,
  [CheckStatus.Pass]: 1,
  [CheckStatus.Warn]: 2,
  [CheckStatus.Fail]: 3,
};

export function approleChecks(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
): Check[] {
  // When a broken re-login hurts: when the stored token dies (now, if it is dead).
  const breaksAt = facts.liveness === 'dead' ? undefined : facts.diesAt;
  return [
    secretCheck(observations, facts, breaksAt),
    roleCheck(observations, facts, breaksAt),
    secretIdCheck(observations, facts, context, breaksAt),
    loginCheck(observations, facts, context, breaksAt),
  ];
}

function secretCheck(
  observations: TargetObservations,
  facts: TokenFacts,
  breaksAt: string | undefined,
): Check {
  const expected = 'a JSON object with role_id and secret_id';
  const secret = observations.approleSecret;
  const fix = renewerFix(ProblemCode.ApproleSecretUnusable, facts.fix);
  if (secret.status === 'ok') {
    return check({
      id: CheckId.AppRoleSecret,
      status: CheckStatus.Pass,
      expected,
      actual: 'holds role_id and secret_id',
    });
  }
  return check({
    id: CheckId.AppRoleSecret,
    status: CheckStatus.Fail,
    expected,
    actual:
      secret.status === 'unreadable'
        ? `unreadable: ${secret.answer}`
        : `malformed: ${secret.problem}`,
    fix,
    breaksAt,
  });
}

interface Finding {
  readonly status: CheckStatus;
  readonly fix: string;
}

function roleFindings(settings: AppRoleRoleSettings, facts: TokenFacts): Finding[] {
  const findings: Finding[] = [];
  if (settings.tokenType === 'batch') {
    findings.push({ status: CheckStatus.Fail, fix: renewerFix(ProblemCode.TokenBatch, facts.fix) });
  }
  const periodic = settings.tokenPeriodSeconds > 0;
  const ttl = periodic ? settings.tokenPeriodSeconds : settings.tokenTtlSeconds;
  if (ttl > 0 && ttl <= facts.horizonSeconds) {
    findings.push({ status: CheckStatus.Warn, fix: fixes.roleShortTtl(facts.fix) });
  }
  if (
    !periodic &&
    settings.tokenMaxTtlSeconds > 0 &&
    settings.tokenMaxTtlSeconds <= facts.horizonSeconds
  ) {
    findings.push({
      status: CheckStatus.Warn,
      fix: fixes.nearMaxTtl(facts.fix, 'role-token-max-ttl', settings.tokenMaxTtlSeconds),
    });
  }
  if (settings.tokenNumUses > 0) {
    findings.push({ status: CheckStatus.Warn, fix: fixes.tokenNumUses(facts.fix) });
  }
  return findings;
}

function describeRole(settings: AppRoleRoleSettings): string {
  const duration = (seconds: number) => (seconds > 0 ? vaultDuration(seconds) : 'unset');
  return [
    `token_type ${settings.tokenType}`,
    `token_ttl ${duration(settings.tokenTtlSeconds)}`,
    `token_max_ttl ${duration(settings.tokenMaxTtlSeconds)}`,
    `token_period ${duration(settings.tokenPeriodSeconds)}`,
    `token_num_uses ${settings.tokenNumUses}`,
    `secret_id_ttl ${duration(settings.secretIdTtlSeconds)}`,
    `secret_id_num_uses ${settings.secretIdNumUses === 0 ? 'unlimited' : settings.secretIdNumUses}`,
  ].join(', ');
}

function roleCheck(
  observations: TargetObservations,
  facts: TokenFacts,
  breaksAt: string | undefined,
): Check {
  const expected = 'service tokens, TTL and max TTL beyond two runs, no token use limit';
  const observed = observations.approleRole;
  if (observed === undefined) {
    return skipped(
      CheckId.AppRoleRole,
      expected,
      'the role name is unknown (set approle.role of this target in the config)',
    );
  }
  const { settings } = observed;
  const where = `auth/${observed.mount}/role/${observed.role}`;
  if (settings.status === 'not-run') return skipped(CheckId.AppRoleRole, expected, settings.reason);
  if (settings.status === 'failed') {
    return settings.kind === VaultFailureKind.PermissionDenied
      ? skipped(
          CheckId.AppRoleRole,
          expected,
          `${where} is not readable with the stored token`,
          undefined,
          fixes.roleUnreadable(facts.fix),
        )
      : check({
          id: CheckId.AppRoleRole,
          status: CheckStatus.Warn,
          expected,
          actual: `could not be read: ${settings.answer}`,
          fix: renewerFix(ProblemCode.VaultUnreachable, facts.fix),
        });
  }
  if (settings.value === null) {
    // Vault re-reads the role at every renewal of its tokens and fails when it is gone
    // (vault-facts §3.2), and no login works: broken now.
    return check({
      id: CheckId.AppRoleRole,
      status: CheckStatus.Fail,
      expected,
      actual: `${where} does not exist`,
      fix: fixes.roleMissing(facts.fix),
    });
  }
  const findings = roleFindings(settings.value, facts);
  const status = findings.reduce<CheckStatus>(
    (worst, finding) => (STATUS_RANK[finding.status] > STATUS_RANK[worst] ? finding.status : worst),
    CheckStatus.Pass,
  );
  return check({
    id: CheckId.AppRoleRole,
    status,
    expected,
    actual: `${where}: ${describeRole(settings.value)}`,
    fix: findings.map((f) => f.fix).join(' '),
    // New logins get the role's tokens: a bad role breaks the target at its next re-login.
    breaksAt: status === CheckStatus.Fail ? breaksAt : undefined,
    data: {
      tokenType: settings.value.tokenType,
      tokenTtlSeconds: settings.value.tokenTtlSeconds,
      tokenMaxTtlSeconds: settings.value.tokenMaxTtlSeconds,
      tokenPeriodSeconds: settings.value.tokenPeriodSeconds,
      secretIdTtlSeconds: settings.value.secretIdTtlSeconds,
      secretIdNumUses: settings.value.secretIdNumUses,
    },
  });
}

function secretIdCheck(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
  breaksAt: string | undefined,
): Check {
  const expected = 'known to Vault, not expiring before the next re-login, uses left';
  if (observations.approleSecret.status !== 'ok') {
    return skipped(CheckId.AppRoleSecretId, expected, 'no usable AppRole secret');
  }
  const observed = observations.secretId;
  if (observed.status === 'not-run')
    return skipped(CheckId.AppRoleSecretId, expected, observed.reason);
  if (observed.status === 'failed') {
    return observed.kind === VaultFailureKind.PermissionDenied
      ? skipped(
          CheckId.AppRoleSecretId,
          expected,
          `${rolePath(facts.fix)}/secret-id/lookup is not allowed for the stored token`,
          undefined,
          fixes.secretIdUnreadable(facts.fix),
        )
      : check({
          id: CheckId.AppRoleSecretId,
          status: CheckStatus.Warn,
          expected,
          actual: `could not be checked: ${observed.answer}`,
          fix: renewerFix(ProblemCode.VaultUnreachable, facts.fix),
        });
  }
  const badCredentials = renewerFix(ProblemCode.ReloginBadCredentials, facts.fix);
  const info = observed.value;
  if (info === null) {
    return check({
      id: CheckId.AppRoleSecretId,
      status: CheckStatus.Fail,
      expected,
      actual: 'Vault does not know this secret_id: it is wrong, expired or used up',
      fix: badCredentials,
      breaksAt,
    });
  }
  const data = { expirationTime: info.expirationTime, usesLeft: info.usesLeft };
  const uses = info.usesLeft === 0 ? 'unlimited uses' : `${info.usesLeft} use(s) left`;
  if (info.expirationTime === null) {
    return check({
      id: CheckId.AppRoleSecretId,
      status: info.usesLeft === 1 ? CheckStatus.Warn : CheckStatus.Pass,
      expected,
      actual: `never expires, ${uses}`,
      fix: fixes.secretIdOneUseLeft(facts.fix),
      data,
    });
  }
  const expiresMs = Date.parse(info.expirationTime);
  const leftSeconds = Math.round((expiresMs - context.nowMs) / 1000);
  const actual = `expires ${info.expirationTime} (in ${humanSeconds(Math.max(0, leftSeconds))}), ${uses}`;
  if (leftSeconds <= 0) {
    return check({
      id: CheckId.AppRoleSecretId,
      status: CheckStatus.Fail,
      expected,
      actual,
      fix: badCredentials,
      breaksAt,
      data,
    });
  }
  // Expiring before the stored token dies: the re-login that replaces it will fail.
  const beforeDeath =
    facts.diesAt !== undefined &&
    earliest(info.expirationTime, facts.diesAt) === info.expirationTime;
  const soon = leftSeconds <= SECRET_ID_EXPIRY_WARNING_SECONDS;
  const lastUse = info.usesLeft === 1;
  return check({
    id: CheckId.AppRoleSecretId,
    status: beforeDeath || soon || lastUse ? CheckStatus.Warn : CheckStatus.Pass,
    expected,
    actual,
    fix:
      lastUse && !beforeDeath && !soon
        ? fixes.secretIdOneUseLeft(facts.fix)
        : fixes.secretIdExpiring(facts.fix),
    breaksAt: beforeDeath || soon ? info.expirationTime : undefined,
    data,
  });
}

function loginCheck(
  observations: TargetObservations,
  facts: TokenFacts,
  context: CheckContext,
  breaksAt: string | undefined,
): Check {
  const expected =
    'AppRole login works and gives a renewable service token that can look itself up';
  if (!context.loginRequested || observations.login === undefined) {
    return skipped(
      CheckId.AppRoleLogin,
      expected,
      context.loginRequested
        ? 'no usable AppRole secret'
        : 'add "login": true to the event to test it (spends a secret_id use; a failure counts toward lockout)',
    );
  }
  const { login, verify, revoke } = observations.login;
  if (login.status === 'not-run') return skipped(CheckId.AppRoleLogin, expected, login.reason);
  if (login.status === 'failed') {
    const code =
      login.kind === VaultFailureKind.InvalidCredentials
        ? ProblemCode.ReloginBadCredentials
        : login.kind === VaultFailureKind.LockedOut
          ? ProblemCode.ReloginLockedOut
          : ProblemCode.ReloginFailed;
    return check({
      id: CheckId.AppRoleLogin,
      status: CheckStatus.Fail,
      expected,
      actual: `login refused: ${login.answer}`,
      fix: renewerFix(code, facts.fix),
      breaksAt,
    });
  }
  const fresh = login.value;
  const cleanup =
    revoke.status === 'ok'
      ? 'test token revoked'
      : `test token NOT revoked (${revoke.status === 'failed' ? revoke.answer : revoke.reason}); it expires in ${humanSeconds(fresh.ttlSeconds)}`;
  const described = `logged in: ${fresh.tokenType} token, ${fresh.renewable ? 'renewable' : 'not renewable'}, TTL ${vaultDuration(fresh.ttlSeconds)}, policies ${fresh.policies.join(', ') || 'none'}`;
  const failWith = (actual: string, code: ProblemCode) =>
    check({
      id: CheckId.AppRoleLogin,
      status: CheckStatus.Fail,
      expected,
      actual: `${actual}; ${cleanup}`,
      fix: renewerFix(code, facts.fix),
      breaksAt,
    });
  if (fresh.tokenType === 'batch') return failWith(described, ProblemCode.TokenBatch);
  if (!fresh.renewable) return failWith(described, ProblemCode.TokenNotRenewable);
  if (verify.status !== 'ok') {
    const why = verify.status === 'failed' ? verify.answer : verify.reason;
    return failWith(
      `${described}, but the new token cannot look itself up: ${why}`,
      ProblemCode.NewTokenRejected,
    );
  }
  // A new token that dies before the next runs can renew it: every re-login is at risk.
  // A test token left behind (revoke-self denied) puts nothing at risk: it says so and expires.
  const short = fresh.ttlSeconds <= facts.horizonSeconds;
  return check({
    id: CheckId.AppRoleLogin,
    status: short ? CheckStatus.Warn : CheckStatus.Pass,
    expected,
    actual: `${described}${short ? `, less than two runs and a margin (${humanSeconds(facts.horizonSeconds)})` : ''}; ${cleanup}`,
    fix: fixes.roleShortTtl(facts.fix),
  });
}
