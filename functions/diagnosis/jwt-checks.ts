/**
 * The checks of a target that logs in with jwt: its role exists, is bound to
 * the audience the renewer asks STS for, to the claim naming the target and
 * to a subject, the mount's issuer answers discovery, and Vault's clock
 * agrees with ours (Vault checks the token's times with its own). Each
 * failure says which claim a login would be refused for. Pure.
 */

import { TARGET_CLAIM } from '../core/web-identity-port.js';
import { type Check, CheckId, CheckStatus, check, skipped } from './check.js';
import type { CheckContext } from './check-context.js';
import type { TargetObservations } from './observations.js';

/** Vault's jwt auth method accepts this much clock difference by default (clock_skew_leeway). */
const CLOCK_LEEWAY_SECONDS = 60;

export function jwtChecks(observations: TargetObservations, context: CheckContext): Check[] {
  const jwt = context.target.jwt;
  const seen = observations.jwt;
  if (jwt === undefined || seen === undefined) return [];
  const role = seen.role;
  const setUp = `npm run vault:setup -- --targets ${context.target.name} --apply --jwt-issuer <issuer> --renew-role-arn <RenewRoleArn>`;
  const roleBase = `auth/${jwt.mount}/role/${jwt.role}`;
  const checks: Check[] = [];

  if (role.status === 'failed' && /no handler for route|unsupported path/i.test(role.answer)) {
    // Vault knows no such mount: every login is refused before any claim is read.
    checks.push(
      check({
        id: CheckId.JwtRole,
        status: CheckStatus.Fail,
        expected: `${roleBase} exists`,
        actual: `auth/${jwt.mount} is not mounted: ${role.answer}`,
        fix: `${setUp} --enable-jwt`,
      }),
      skipped(CheckId.JwtAudience, `bound to ${jwt.audience}`, 'no mount'),
      skipped(CheckId.JwtClaims, 'bound to this target', 'no mount'),
    );
  } else if (role.status !== 'ok') {
    const why = role.status === 'failed' ? role.answer : role.reason;
    checks.push(
      skipped(CheckId.JwtRole, `${roleBase} exists`, `not read: ${why}`),
      skipped(CheckId.JwtAudience, `bound to ${jwt.audience}`, 'the role was not read'),
      skipped(CheckId.JwtClaims, 'bound to this target', 'the role was not read'),
    );
  } else if (role.value === null) {
    checks.push(
      check({
        id: CheckId.JwtRole,
        status: CheckStatus.Fail,
        expected: `${roleBase} exists`,
        actual: 'no such role: every login is refused (role could not be found)',
        fix: setUp,
      }),
      skipped(CheckId.JwtAudience, `bound to ${jwt.audience}`, 'no role'),
      skipped(CheckId.JwtClaims, 'bound to this target', 'no role'),
    );
  } else {
    const settings = role.value;
    checks.push(
      check({
        id: CheckId.JwtRole,
        status: settings.roleType === 'jwt' ? CheckStatus.Pass : CheckStatus.Fail,
        expected: `${roleBase} exists, role_type jwt`,
        actual: `role_type ${settings.roleType || '(none)'}`,
        fix: setUp,
      }),
      check({
        id: CheckId.JwtAudience,
        status: settings.boundAudiences.includes(jwt.audience)
          ? CheckStatus.Pass
          : CheckStatus.Fail,
        expected: `bound_audiences holds ${jwt.audience}, the aud the renewer asks STS for`,
        actual: `bound_audiences ${settings.boundAudiences.join(', ') || '(none)'}${settings.boundAudiences.includes(jwt.audience) ? '' : ': a login is refused for its aud claim'}`,
        fix: `Give the target's jwt.audience and the role's bound_audiences the same value: ${setUp}`,
      }),
      claimsCheck(settings, context.target.name, setUp),
    );
  }

  checks.push(issuerCheck(observations, jwt.mount), clockCheck(observations, context.nowMs));
  return checks;
}

function claimsCheck(
  settings: {
    readonly boundClaims: Readonly<Record<string, readonly string[]>>;
    readonly boundSubject: string;
  },
  target: string,
  setUp: string,
): Check {
  const expected = `bound_claims ${TARGET_CLAIM} = ${target}, and bound_subject the renew role`;
  const values = settings.boundClaims[TARGET_CLAIM];
  if (values !== undefined && !values.includes(target)) {
    return check({
      id: CheckId.JwtClaims,
      status: CheckStatus.Fail,
      expected,
      actual: `the role wants ${TARGET_CLAIM} = ${values.join(' or ')}: a login is refused for that claim`,
      fix: setUp,
    });
  }
  if (values === undefined || settings.boundSubject === '') {
    return check({
      id: CheckId.JwtClaims,
      status: CheckStatus.Warn,
      expected,
      actual:
        values === undefined
          ? 'the role does not bind the target claim: any token the renew role gets would log in as this target'
          : 'the role binds no subject: a token of any role in the account with this tag would log in',
      fix: setUp,
    });
  }
  return check({
    id: CheckId.JwtClaims,
    status: CheckStatus.Pass,
    expected,
    actual: `bound to ${target}, subject ${settings.boundSubject}`,
  });
}

function issuerCheck(observations: TargetObservations, mount: string): Check {
  const expected = `auth/${mount} trusts an issuer whose discovery answers`;
  const seen = observations.jwt;
  if (seen === undefined) return skipped(CheckId.JwtIssuer, expected, 'not a jwt target');
  const { issuer } = seen;
  if (issuer.status === 'failed') {
    return skipped(CheckId.JwtIssuer, expected, `not read: ${issuer.answer}`);
  }
  if (issuer.status === 'not-run') {
    return skipped(CheckId.JwtIssuer, expected, `not read: ${issuer.reason}`);
  }
  const url = issuer.value;
  if (url === null || url === '') {
    return check({
      id: CheckId.JwtIssuer,
      status: CheckStatus.Fail,
      expected,
      actual: `auth/${mount} names no oidc_discovery_url`,
      fix: `vault write auth/${mount}/config oidc_discovery_url=<the account's issuer URL>`,
    });
  }
  if (seen.discovery.status !== 'ok') {
    return check({
      id: CheckId.JwtIssuer,
      status: CheckStatus.Fail,
      expected,
      actual: `${url}/.well-known/openid-configuration does not answer from here: ${seen.discovery.status === 'failed' ? seen.discovery.answer : seen.discovery.reason}`,
      fix: 'Check the issuer URL (aws iam enable-outbound-web-identity-federation answers it) and that Vault and this function reach it.',
    });
  }
  const same = seen.discovery.value === url;
  return check({
    id: CheckId.JwtIssuer,
    status: same ? CheckStatus.Pass : CheckStatus.Fail,
    expected,
    actual: same
      ? `${url} answers discovery`
      : `${url} names another issuer: ${seen.discovery.value}`,
    fix: `vault write auth/${mount}/config oidc_discovery_url=<the issuer its discovery names>`,
  });
}

function clockCheck(observations: TargetObservations, nowMs: number): Check {
  const expected = `Vault's clock within ${CLOCK_LEEWAY_SECONDS} s of ours (it checks the token's iat, nbf and exp)`;
  const vaultTime =
    observations.health.status === 'ok' ? observations.health.value.serverTimeUtc : undefined;
  if (vaultTime === undefined)
    return skipped(CheckId.VaultClock, expected, 'Vault did not say its time');
  const skew = Math.round(vaultTime - nowMs / 1000);
  return check({
    id: CheckId.VaultClock,
    status: Math.abs(skew) > CLOCK_LEEWAY_SECONDS ? CheckStatus.Warn : CheckStatus.Pass,
    expected,
    actual: `${skew >= 0 ? '+' : ''}${skew} s`,
    fix: "Fix the clock of Vault's hosts (NTP): a token signed now may be refused as not yet valid or expired.",
  });
}
