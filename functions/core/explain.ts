/**
 * For each problem code: the likely cause and the exact fix, naming the
 * target's real mount, role, secret and path. Shared by the SNS messages and
 * the diagnose function.
 */

import type { TargetConfig } from '../config/types.js';
import { loginRouteOf } from './login-route.js';
import { type Problem, ProblemCode } from './problems.js';

export interface Explanation {
  /** Short title for the subject line. */
  readonly title: string;
  readonly likelyCause: string;
  readonly fix: string;
}

/** The role the target logs in to: its AppRole role, or its jwt role. */
function roleRef(target: TargetConfig): string {
  const route = loginRouteOf(target);
  return `auth/${route.mount}/role/${route.roleName ?? '<role>'}`;
}

/** The policy stanza granting `capabilities` on `path`, as Vault's HCL. */
export function policyStanza(path: string, capabilities: readonly string[]): string {
  return `path "${path}" { capabilities = [${capabilities.map((c) => `"${c}"`).join(', ')}] }`;
}

export function explain(
  problem: Problem,
  target: TargetConfig,
  intervalSeconds: number,
): Explanation {
  const role = roleRef(target);
  const policies = problem.facts?.policies;
  const policyHint =
    policies === undefined
      ? 'the policy attached to its AppRole role'
      : `one of its policies (${policies})`;
  const lease = target.leases.find((l) => l.name === problem.lease);
  switch (problem.code) {
    case ProblemCode.TokenInvalid:
      return {
        title: 'token expired or revoked',
        likelyCause:
          'Nobody renewed the token in time, it reached its max TTL, or it was revoked. Its leases died with it.',
        fix: `If this run logged in again (no relogin-* alert for this target), nothing to do for the token; restart consumers that cached the old token or its database credentials. Check that the schedule ran (CloudWatch metric Invocations) and the role's limits: vault read ${role}`,
      };
    case ProblemCode.TokenNotRenewable:
      return {
        title: 'token not renewable',
        likelyCause:
          'The token was created with renewable=false, or the role issues non-renewable tokens.',
        fix: `Issue renewable service tokens: vault write ${role} token_type=service, and do not create tokens with renewable=false.`,
      };
    case ProblemCode.TokenBatch:
      return {
        title: 'batch token cannot be renewed',
        likelyCause:
          'The AppRole role issues batch tokens (token_type=batch); batch tokens are never renewable.',
        fix: `vault write ${role} token_type=service`,
      };
    case ProblemCode.TokenRoot:
      return {
        title: 'root token stored',
        likelyCause:
          'A root token was stored in the token secret. Root tokens are never renewed and should not be handed to workloads.',
        fix: `Revoke that root token (vault token revoke <token>) and store an AppRole token instead: npm run vault:bootstrap -- ${target.name}`,
      };
    case ProblemCode.TokenRenewDenied:
      return {
        title: 'policy denies renew-self',
        likelyCause: `The token's policies lack update on auth/token/renew-self (the default policy grants it; the token may have no_default_policy or an edited default policy).`,
        fix: `Add to ${policyHint}: ${policyStanza('auth/token/renew-self', ['update'])}`,
      };
    case ProblemCode.TokenTtlBelowHorizon:
      return {
        title: 'token dies before the renewer can act again',
        likelyCause: `Vault grants the token less than two schedule intervals (${intervalSeconds}s each), even renewed with the increment right away: the role's token_ttl, token_max_ttl or period, or the mount's max TTL, is too short. Logging in again would not help: a new token gets the same.`,
        fix: `Raise the role's limits above ${2 * intervalSeconds}s, e.g. vault write ${role} token_ttl=${4 * intervalSeconds}s token_max_ttl=${48 * intervalSeconds}s (check the mount: vault read sys/mounts/auth/${loginRouteOf(target).mount}/tune), or run the schedule more often (schedule.intervalMinutes).`,
      };
    case ProblemCode.Relogin:
      return {
        title: 'logged in again',
        likelyCause:
          'The stored token could not be kept alive by renewal (see the other messages of this run).',
        fix: 'Nothing to do. Consumers pick up the new token from the secret on their next read.',
      };
    case ProblemCode.ReloginBadCredentials:
      return {
        title: 'AppRole login refused',
        likelyCause:
          'The secret_id is wrong, expired (secret_id_ttl) or used up (secret_id_num_uses), or the role_id is wrong. Each failed login counts toward lockout.',
        fix: `Check the role's secret_id limits: vault read ${role}. Issue a new secret_id: vault write -f ${role}/secret-id, then store it: aws secretsmanager put-secret-value --secret-id ${loginRouteOf(target).secretId} --secret-string '{"role_id":"...","secret_id":"..."}'`,
      };
    case ProblemCode.ReloginLockedOut:
      return {
        title: 'AppRole login locked out',
        likelyCause:
          'Too many failed logins for this role_id (Vault user lockout: 5 failures, 15 minutes by default).',
        fix: `Fix the stored secret_id first (vault write -f ${role}/secret-id), then wait for the lockout to end or unlock: vault write sys/locked-users/<mount_accessor>/unlock/<role_id>`,
      };
    case ProblemCode.ReloginFailed:
      return {
        title: 'AppRole login failed',
        likelyCause:
          'The AppRole secret is missing or malformed, or Vault did not answer the login.',
        fix: `Check the secret ${loginRouteOf(target).secretId} holds {"role_id","secret_id"} and that auth/${loginRouteOf(target).mount} is enabled: vault auth list`,
      };
    case ProblemCode.WebIdentityUnavailable:
      return {
        title: 'STS signed no web identity token',
        likelyCause:
          "The target logs in with jwt, and STS GetWebIdentityToken refused: outbound identity federation is not enabled in this account (OutboundWebIdentityFederationDisabledException), STS is throttling (Throttling), or the renew role's policy does not allow the audience or tag (AccessDenied).",
        fix: `Enable federation once per account: aws iam enable-outbound-web-identity-federation (docs/deploy.md "Log in with no stored secret"). Throttling passes by itself. AccessDenied: the renew role may ask for audience ${target.jwt?.audience ?? '<audience>'} (sts:IdentityTokenAudience) and tag its request (sts:TagGetWebIdentityToken): npm run package and deploy.`,
      };
    case ProblemCode.JwtLoginRefused:
      return {
        title: 'jwt login refused',
        likelyCause:
          "Vault refused the token STS signed: the role does not exist, its bound_audiences, bound_subject (the renew role's ARN) or bound_claims (the target tag) do not match, or Vault cannot fetch the issuer's keys (its oidc_discovery_url is unreachable from Vault). Vault's answer names the claim.",
        fix: `Check the role: vault read ${role} (bound_audiences must hold ${target.jwt?.audience ?? '<audience>'}); set it up again with npm run vault:setup -- --targets ${target.name} --apply. Check the mount's issuer: vault read auth/${target.jwt?.mount ?? 'jwt'}/config, and that Vault reaches its discovery URL. npm run diagnose -- --targets ${target.name} checks every claim.`,
      };
    case ProblemCode.NewTokenRejected:
      return {
        title: 'new token failed verification',
        likelyCause:
          'The token issued by the AppRole login cannot look itself up (no default policy) or has no TTL.',
        fix: `Add to the role's policies: ${policyStanza('auth/token/lookup-self', ['read'])}, or drop token_no_default_policy: vault write ${role} token_no_default_policy=false`,
      };
    case ProblemCode.LeaseReissued:
      return {
        title: `lease ${problem.lease ?? ''} re-issued`.trim(),
        likelyCause: 'The lease could not be kept alive by renewal, or its token was replaced.',
        fix: 'Nothing to do. Consumers pick up the new credentials from the secret on their next read.',
      };
    case ProblemCode.LeaseOrphaned:
      return {
        title: `lease ${problem.lease ?? ''} was gone`.trim(),
        likelyCause:
          'The lease expired, was revoked, or died with the token that created it (leases are revoked with their token).',
        fix: 'Consumers using the old credentials must re-read the secret. Keep the token renewing (see the token messages of this run).',
      };
    case ProblemCode.LeaseTtlBelowHorizon:
      return {
        title: `lease ${problem.lease ?? ''} dies before the renewer can act again`.trim(),
        likelyCause: `Vault grants the lease less than two schedule intervals (${intervalSeconds}s each), even renewed with the increment right away: the secrets engine role's default_ttl/max_ttl, the mount's max TTL, or the lease's configured increment is too short.`,
        fix: `Raise the role's max_ttl above ${2 * intervalSeconds}s, e.g. vault write ${lease?.reissuePath.replace('/creds/', '/roles/') ?? '<mount>/roles/<role>'} max_ttl=${48 * intervalSeconds}s, and the lease's incrementSeconds in the config; or run the schedule more often (schedule.intervalMinutes).`,
      };
    case ProblemCode.LeaseRenewDenied:
      return {
        title: `policy denies lease renewal`,
        likelyCause:
          "The token's policies lack update on sys/leases/renew (the default policy grants it).",
        fix: `Add to ${policyHint}: ${policyStanza('sys/leases/renew', ['update'])}`,
      };
    case ProblemCode.LeaseReissueFailed:
      return {
        title: `lease ${problem.lease ?? ''} re-issue failed`.trim(),
        likelyCause:
          'The token may not read the issuing path, or the secrets engine role is missing or misconfigured.',
        fix: `Grant ${policyStanza(lease?.reissuePath ?? '<path>', ['read'])} to the token's policy and check the role exists: vault read ${lease?.reissuePath ?? '<path>'}`,
      };
    case ProblemCode.LeaseRenewFailed:
      return {
        title: `lease ${problem.lease ?? ''} renewal failed`.trim(),
        likelyCause:
          'Vault was unavailable, sealed, slow or rate-limiting, or answered unexpectedly.',
        fix: `Check Vault health: curl -s ${target.vault.address}/v1/sys/health; the renewer tries again on its next run.`,
      };
    case ProblemCode.VaultUnreachable:
      return {
        title: 'Vault unreachable or sealed',
        likelyCause:
          'Vault is sealed, down, rate-limiting, slow, or the network path (VPC, security group, DNS) is broken.',
        fix: `Check: curl -s ${target.vault.address}/v1/sys/health (sealed: vault operator unseal). The renewer retries on its next run and does not log in again meanwhile.`,
      };
    case ProblemCode.SecretUnreadable:
      return {
        title: 'secret unreadable',
        likelyCause:
          'The secret does not exist, the function role lacks secretsmanager:GetSecretValue (or kms:Decrypt), or Secrets Manager throttled.',
        fix: `aws secretsmanager describe-secret --secret-id ${problem.lease === undefined ? target.tokenSecretId : (lease?.secretId ?? '<secret>')}; check the function's IAM role.`,
      };
    case ProblemCode.SecretMalformed:
      return {
        title: 'secret malformed',
        likelyCause: 'The secret is not a JSON object of the expected shape.',
        fix:
          problem.lease === undefined
            ? `Store a JSON object with a "token" key in ${target.tokenSecretId} (or {} to have the renewer log in and fill it).`
            : `Store a JSON object in ${lease?.secretId ?? '<secret>'} ({} lets the renewer issue a lease and fill it).`,
      };
    case ProblemCode.SecretWriteFailed:
      return {
        title: 'could not store new credentials',
        likelyCause:
          'The function role lacks secretsmanager:PutSecretValue (or kms:GenerateDataKey), or Secrets Manager throttled.',
        fix: "Check the function's IAM role and the secret's KMS key; the renewer tries again on its next run.",
      };
    case ProblemCode.ApproleSecretUnusable:
      return {
        title: 'AppRole secret unusable',
        likelyCause: 'The AppRole secret is missing, unreadable or lacks role_id/secret_id.',
        fix: `Store {"role_id","secret_id"} in ${loginRouteOf(target).secretId}: vault read ${role}/role-id; vault write -f ${role}/secret-id`,
      };
    case ProblemCode.SecretIdExpiring:
      return {
        title: 'secret_id expiring',
        likelyCause:
          'The stored secret_id expires soon, has few uses left, or Vault no longer knows it (expired, used up, destroyed): the next AppRole login would fail with it, and then the token cannot be replaced.',
        fix: `Issue a new secret_id and store it: vault write -f ${role}/secret-id, then aws secretsmanager put-secret-value --secret-id ${loginRouteOf(target).secretId} --secret-string '{"role_id":"...","secret_id":"..."}' (or npm run vault:bootstrap -- ${target.name} --rotate-secret-id). Check the role's secret_id_ttl and secret_id_num_uses: vault read ${role}`,
      };
    case ProblemCode.SecretIdUntracked:
      return {
        title: 'secret_id not tracked',
        likelyCause:
          loginRouteOf(target).roleName === undefined
            ? 'The config does not name the AppRole role of this target (approle.role), so the renewer cannot look its secret_id up.'
            : "The target's token may not look up its own secret_id, so the renewer cannot warn before it expires.",
        fix:
          loginRouteOf(target).roleName === undefined
            ? `Add approle.role to the target in the config, then package and deploy.`
            : `Add to ${policyHint}: ${policyStanza(`${role}/secret-id/lookup`, ['update'])} (npm run vault:bootstrap -- ${target.name} writes it).`,
      };
    case ProblemCode.RotationFailed: {
      const secret = problem.facts?.secret ?? loginRouteOf(target).secretId;
      return {
        title: `rotation failed at ${problem.facts?.step ?? 'a step'}`,
        likelyCause:
          problem.facts?.kind === 'approle'
            ? 'The rotator could not issue a secret_id, or a login with the new one failed (role bound_cidr_list, secret_id_bound_cidrs or a wrong role_id), or Vault or Secrets Manager was unreachable. AWSCURRENT still holds the working secret_id.'
            : 'The AppRole login or the check of the new token failed, or Vault or Secrets Manager was unreachable. AWSCURRENT still holds the working token.',
        fix: `Nothing is lost: consumers keep using AWSCURRENT. Read the answer above, fix its cause, then rotate again: aws secretsmanager rotate-secret --secret-id ${secret} (or the console's "Rotate secret immediately"). Check the rotator target "${problem.facts?.rotator ?? '-'}" with the diagnose function.`,
      };
    }
    case ProblemCode.RotationCleanupFailed:
      return {
        title: 'previous secret_id not destroyed',
        likelyCause:
          'The rotation finished (AWSCURRENT holds the new secret_id) but the previous secret_id could not be destroyed: no accessor was stored with it, the rotator may not destroy it, or Vault was unreachable. It stays valid until its own TTL.',
        fix: `Read secret_id_accessor from the AWSPREVIOUS version of ${problem.facts?.secret ?? loginRouteOf(target).secretId} and run: vault write ${role}/secret-id-accessor/destroy secret_id_accessor=<accessor> (without an accessor: vault write ${role}/secret-id/destroy secret_id=<its secret_id>).`,
      };
    case ProblemCode.DeadlineSkipped:
      return {
        title: 'not processed before the deadline',
        likelyCause:
          'The run ran out of time (slow Vault, a Vault rate limit, too many targets for the timeout). The next run starts with what this one left.',
        fix: 'See docs/deploy.md "Sizing": raise the function timeout or pacing.maxConcurrency, check Vault latency and its rate limit (vault.maxRequestsPerSecond), or split the fleet.',
      };
    case ProblemCode.WritesDeferred:
      return {
        title: 'logins deferred for the write quota',
        likelyCause:
          "More credentials needed a new version than the run's Secrets Manager write budget allows (pacing.secretsManagerWritesPerSecond, below the account's 50 writes/s). Tokens that still outlive the next run wait for it; they are logged in first then.",
        fix: "Nothing, when it clears in the next run. When it lasts: spread the fleet's max TTLs (token_max_ttl per role), raise pacing.secretsManagerWritesPerSecond towards 50 if nothing else writes secrets in this account and region, or shorten the schedule interval.",
      };
    case ProblemCode.BatchesFailed:
      return {
        title: 'batches of the run failed',
        likelyCause:
          'Step Functions retried these batches of the fanned-out run with backoff and gave up (the renew batch function timed out, was throttled, or failed): their targets were not renewed in this run. The next run tries them again.',
        fix: 'Open the execution in the Step Functions console (its name is the run id): the map run lists the failed child executions with their error and cause; then the renewBatch function logs for that run id. Lower fanOut.batchSize or raise the function timeout when batches time out.',
      };
    case ProblemCode.UnexpectedError:
      return {
        title: 'unexpected error',
        likelyCause: 'A bug or an answer the renewer does not know.',
        fix: 'Look up the run id in the function logs and open an issue with the log lines.',
      };
  }
}
