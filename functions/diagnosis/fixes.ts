/**
 * The fix of each failed check, naming the target's real role, mount, secret
 * and paths. Where the renewer already words a fix for the same cause
 * (`core/explain.ts`), it is reused as is; the rest are causes only
 * diagnose sees, or fixes the renewer words for after a run ("this run logged
 * in again"), which diagnose, changing nothing, must word for before one.
 */

import type { LeaseConfig, TargetConfig } from '../config/types.js';
import { explain, policyStanza } from '../core/explain.js';
import { loginRouteOf } from '../core/login-route.js';
import { Severity } from '../core/notifier-port.js';
import type { ProblemCode } from '../core/problems.js';
import { vaultDuration } from './max-ttl.js';

export interface FixContext {
  readonly target: TargetConfig;
  readonly scheduleIntervalSeconds: number;
  /** The role name, when the config omits it but the stored token names it. */
  readonly roleName?: string;
  /** The stored token's policies, when lookup-self told them. */
  readonly policies?: readonly string[];
}

/** The renewer's own fix text for a problem code, with the role name filled in when known. */
export function renewerFix(
  code: ProblemCode,
  context: FixContext,
  lease?: LeaseConfig,
  facts?: Readonly<Record<string, string>>,
): string {
  const { target, roleName } = context;
  const named =
    target.approle !== undefined && target.approle.roleName === undefined && roleName !== undefined
      ? { ...target, approle: { ...target.approle, roleName } }
      : target;
  const policies = context.policies === undefined ? {} : { policies: context.policies.join(',') };
  return explain(
    {
      code,
      severity: Severity.Error,
      summary: '',
      ...(lease === undefined ? {} : { lease: lease.name }),
      facts: { ...policies, ...facts },
    },
    named,
    context.scheduleIntervalSeconds,
  ).fix;
}

export function rolePath(context: FixContext): string {
  const role = loginRouteOf(context.target).roleName ?? context.roleName ?? '<role>';
  return `auth/${loginRouteOf(context.target).mount}/role/${role}`;
}

/** The console event that makes the renew function log this target in again now. */
export function reloginEvent(target: TargetConfig): string {
  return `{"action": "relogin", "targets": ["${target.name}"]}`;
}

function policyHint(context: FixContext): string {
  return context.policies === undefined || context.policies.length === 0
    ? 'the policy of its AppRole role'
    : `one of its policies (${context.policies.join(', ')})`;
}

export const fixes = {
  tokenAbsent: (context: FixContext) =>
    `The renewer logs in and stores a token on its next run; to do it now, invoke the renew function with ${reloginEvent(context.target)}.`,

  tokenInvalid: (context: FixContext) =>
    `Log in again now: invoke the renew function with ${reloginEvent(context.target)}; consumers must then re-read ${context.target.tokenSecretId} and their database credentials (the token's leases died with it). Then find out why it died: did the renew schedule run (CloudWatch metric Invocations)? What are the role's limits: vault read ${rolePath(context)}`,

  tokenOrigin: (context: FixContext) =>
    `The renewer's next login replaces it with a token from auth/${loginRouteOf(context.target).mount}/login; to do it now, invoke the renew function with ${reloginEvent(context.target)}.`,

  nearMaxTtl: (context: FixContext, source: string, maxTtlSeconds: number) => {
    const longer = vaultDuration(
      Math.max(24 * 3600, 8 * context.scheduleIntervalSeconds, 2 * maxTtlSeconds),
    );
    const raise =
      source === 'explicit-max-ttl'
        ? 'explicit_max_ttl cannot be raised on an existing token: drop token_explicit_max_ttl from the role'
        : source === 'mount-max-lease-ttl' || source === 'system-default'
          ? `raise the mount's max: vault auth tune -max-lease-ttl=${longer} ${loginRouteOf(context.target).mount}`
          : `raise the role's max: vault write ${rolePath(context)} token_max_ttl=${longer}`;
    return `The renewer logs in again once the max TTL is within two runs, so nothing to do while it runs; to log in less often, ${raise}.`;
  },

  tokenNumUses: (context: FixContext) =>
    `Issue tokens without a use limit: vault write ${rolePath(context)} token_num_uses=0 (each renewal, and each check, spends a use).`,

  capabilitiesSelfDenied: (context: FixContext) =>
    `Add to ${policyHint(context)}: ${policyStanza('sys/capabilities-self', ['update'])} (the default policy grants it), so its rights can be checked; it also needs ${policyStanza('auth/token/renew-self', ['update'])}`,

  roleMissing: (context: FixContext) =>
    `The role ${rolePath(context)} does not exist: list the roles (vault list auth/${loginRouteOf(context.target).mount}/role) and fix approle.role of target ${context.target.name} in the config, or recreate the role.`,

  roleUnreadable: (context: FixContext) =>
    `Read it yourself: vault read ${rolePath(context)}. To let diagnose read it (TTLs and limits, no secret), add to ${policyHint(context)}: ${policyStanza(rolePath(context), ['read'])}`,

  secretIdUnreadable: (context: FixContext) =>
    `Check it yourself: vault write ${rolePath(context)}/secret-id/lookup secret_id=<the stored secret_id>. To let diagnose check it, add to ${policyHint(context)}: ${policyStanza(`${rolePath(context)}/secret-id/lookup`, ['update'])}`,

  roleShortTtl: (context: FixContext) =>
    `Give new tokens more than two schedule intervals (${vaultDuration(context.scheduleIntervalSeconds)} each): vault write ${rolePath(context)} token_ttl=${vaultDuration(4 * context.scheduleIntervalSeconds)}.`,

  secretIdOneUseLeft: (context: FixContext) =>
    `Issue a new secret_id before the next re-login: vault write -f ${rolePath(context)}/secret-id, then store it in ${loginRouteOf(context.target).secretId}; or lift the limit: vault write ${rolePath(context)} secret_id_num_uses=0`,

  secretIdExpiring: (context: FixContext) =>
    `Issue a new secret_id before it expires: vault write -f ${rolePath(context)}/secret-id, then store it in ${loginRouteOf(context.target).secretId}.`,

  leaseAbsent: (lease: LeaseConfig) =>
    `The renewer issues a lease from ${lease.reissuePath} and stores it in ${lease.secretId} on its next run.`,

  leaseGone: (context: FixContext, lease: LeaseConfig) =>
    `The renewer re-issues it from ${lease.reissuePath} on its next run (to do it now, invoke the renew function with {"targets": ["${context.target.name}"]}); consumers must then re-read ${lease.secretId}.`,

  leaseLookupDenied: (context: FixContext) =>
    `Add to ${policyHint(context)}: ${policyStanza('sys/leases/lookup', ['update'])} (the default policy grants it).`,

  leaseNotRenewable: (lease: LeaseConfig) =>
    `Nothing to renew: the renewer re-issues it from ${lease.reissuePath} before it expires, and consumers must re-read ${lease.secretId}. For renewable credentials, check the secrets engine role behind ${lease.reissuePath}.`,

  leaseShortTtl: (lease: LeaseConfig, scheduleIntervalSeconds: number) =>
    `Raise the default TTL of the secrets engine role behind ${lease.reissuePath} above two schedule intervals (${vaultDuration(2 * scheduleIntervalSeconds)}), or run the schedule more often.`,

  leaseDiesWithToken: (context: FixContext, lease: LeaseConfig) =>
    `Leases are revoked with the token that created them. The renewer re-issues ${lease.name} after every re-login, so consumers of ${lease.secretId} must re-read it then; to keep it longer, raise the token's max TTL (vault write ${rolePath(context)} token_max_ttl=...).`,

  leaseOwnerStale: (context: FixContext, lease: LeaseConfig) =>
    `The renewer re-issues it under the stored token on its next run (to do it now, invoke the renew function with {"targets": ["${context.target.name}"]}); consumers must then re-read ${lease.secretId}.`,
} as const;
