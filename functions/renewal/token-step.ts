/**
 * The token of one target: observe it (renew-self, or lookup-self in a dry
 * run), let the planner decide, act on the decision (keep, report, or log in
 * again through relogin.ts). Returns what it found and did; the lease steps
 * get the token to use from the result.
 */

import type { TargetConfig } from '../config/types.js';
import type { Refusal } from '../core/fleet-ledger.js';
import { Lifetime, lifetimeOf, livenessAfterDenial } from '../core/lifetime.js';
import type { TokenDocument } from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import { type TokenInfo, VaultFailureKind } from '../core/vault-port.js';
import { decideToken, TokenAction, type TokenObservation, TokenReason } from './planner.js';
import { relogin } from './relogin.js';
import { type TargetReport, TokenOutcome } from './report.js';
import {
  type ActiveToken,
  failureKind,
  isoAfter,
  type RunContext,
  type StepResult,
} from './run-context.js';
import {
  reloginProblem,
  renewDeniedKeptProblem,
  tokenReportProblem,
  tokenTtlBelowHorizonProblem,
} from './target-problems.js';

export interface TokenStepResult extends StepResult {
  readonly token: TargetReport['token'];
  /** The token the leases are renewed and issued with; absent when none can be. */
  readonly active?: ActiveToken;
  /** Why the leases are not touched, when there is no token to use for them. */
  readonly leasesSkipped?: string;
  /** The leases' token was (or would be) replaced: leases die with the token that made them. */
  readonly replaced: boolean;
  /** Dry run: what it could not know, so the target is `unknown`, never `ok`. */
  readonly unknown?: readonly string[];
  /** Dry run: whether the token may renew leases (sys/capabilities-self), when asked. */
  readonly mayRenewLeases?: boolean;
  /** The secret_id a re-login used, when it logged in: the one to look up. */
  readonly loginSecretId?: string;
  /** A login Vault refused (to remember), or `null` after one succeeded; absent: no login tried. */
  readonly refusedLogin?: Refusal | null;
}

interface ObservedToken {
  readonly observation: TokenObservation;
  readonly error?: unknown;
  readonly info?: TokenInfo;
  readonly mayRenewLeases?: boolean;
}

const RENEW_SELF = 'auth/token/renew-self';
const DEAD_TOKEN =
  'The stored token is invalid (expired or revoked), and every lease it created is gone with it.';
const LEASES_RENEW = 'sys/leases/renew';

/** `update` (or root) on `path`, as capabilities-self lists it. */
function allows(capabilities: Readonly<Record<string, readonly string[]>>, path: string): boolean {
  const listed = capabilities[path] ?? [];
  return listed.includes('update') || listed.includes('root');
}

/** What Vault says about the stored token this run. */
async function observeToken(
  target: TargetConfig,
  document: TokenDocument,
  context: RunContext,
): Promise<ObservedToken> {
  const { deps, request, signal } = context;
  if (request.forceRelogin) return { observation: { kind: 'skipped' } };
  const token = document.token;
  if (token === undefined) return { observation: { kind: 'absent' } };
  const failed = (error: unknown): ObservedToken => ({
    observation: { kind: 'failed', failure: failureKind(error) ?? VaultFailureKind.Unavailable },
    error,
  });
  const lookup = async (): Promise<{ info: TokenInfo } | { error: unknown }> => {
    try {
      return { info: await deps.vault.lookupSelf(target.vault, token, { signal }) };
    } catch (error) {
      return { error };
    }
  };

  if (request.dryRun) {
    const looked = await lookup();
    if ('info' in looked) {
      // What the real run would be allowed: the default policy grants capabilities-self.
      let capabilities: Readonly<Record<string, readonly string[]>> | undefined;
      try {
        capabilities = await deps.vault.capabilitiesSelf(
          target.vault,
          token,
          [RENEW_SELF, LEASES_RENEW],
          { signal },
        );
      } catch {
        capabilities = undefined;
      }
      return {
        observation: {
          kind: 'looked-up',
          info: looked.info,
          ...(capabilities === undefined ? {} : { mayRenew: allows(capabilities, RENEW_SELF) }),
        },
        info: looked.info,
        ...(capabilities === undefined
          ? {}
          : { mayRenewLeases: allows(capabilities, LEASES_RENEW) }),
      };
    }
    // lookup-self is in the default policy: refused, the token is dead.
    if (livenessAfterDenial(failureKind(looked.error)) === 'dead') {
      return {
        observation: { kind: 'failed', failure: VaultFailureKind.InvalidToken },
        error: looked.error,
      };
    }
    return failed(looked.error);
  }

  try {
    const renewal = await deps.vault.renewSelf(target.vault, token, target.incrementSeconds, {
      signal,
    });
    return { observation: { kind: 'renewed', renewal } };
  } catch (error) {
    const kind = failureKind(error);
    if (
      kind !== VaultFailureKind.PermissionDenied &&
      kind !== VaultFailureKind.NotRenewable &&
      kind !== VaultFailureKind.BatchToken
    ) {
      return failed(error);
    }
    // A dead token or a policy denial (the 403 rule); lookup-self tells, and
    // also reveals a root token, and how long a token that cannot be renewed
    // still lasts.
    const looked = await lookup();
    if ('info' in looked) {
      return {
        observation: { kind: 'failed', failure: kind, lookup: looked.info },
        error,
        info: looked.info,
      };
    }
    if (
      kind === VaultFailureKind.PermissionDenied &&
      livenessAfterDenial(failureKind(looked.error)) === 'dead'
    ) {
      return { observation: { kind: 'failed', failure: VaultFailureKind.InvalidToken }, error };
    }
    return failed(error);
  }
}

export async function tokenStep(
  target: TargetConfig,
  document: TokenDocument,
  secrets: SecretLookup,
  context: RunContext,
): Promise<TokenStepResult> {
  const { request, scheduleIntervalSeconds } = context;
  const { observation, error, info, mayRenewLeases } = await observeToken(
    target,
    document,
    context,
  );
  const now = context.deps.now();
  const decision = decideToken(observation, {
    scheduleIntervalSeconds,
    forceRelogin: request.forceRelogin,
    nowMs: now,
    early: context.early.has(target.name),
  });

  const current: ActiveToken | undefined =
    document.token === undefined
      ? undefined
      : {
          token: document.token,
          accessor:
            observation.kind === 'renewed'
              ? observation.renewal.accessor
              : (info?.accessor ?? document.accessor),
        };
  const ttl = decision.ttlSeconds;
  const expiry = ttl === undefined ? {} : { ttlSeconds: ttl, expiresAt: isoAfter(now, ttl) };
  const kept = (token: TargetReport['token'], problems: StepResult['problems']) => ({
    token,
    problems,
    writes: 0,
    ...(current === undefined ? {} : { active: current }),
    replaced: false,
    ...(mayRenewLeases === undefined ? {} : { mayRenewLeases }),
  });

  if (decision.action === TokenAction.Keep) {
    if (decision.reason === TokenReason.Batch) {
      // A batch token that outlives the horizon: a supported setup, nothing to say.
      return kept({ outcome: TokenOutcome.Untouched, reason: decision.reason, ...expiry }, []);
    }
    if (decision.reason === TokenReason.RenewDenied) {
      return kept({ outcome: TokenOutcome.Untouched, reason: decision.reason, ...expiry }, [
        renewDeniedKeptProblem(decision, error, info),
      ]);
    }
    const outcome = request.dryRun ? TokenOutcome.WouldRenew : TokenOutcome.Renewed;
    if (observation.kind === 'looked-up' && observation.mayRenew === undefined) {
      // Without an answer from capabilities-self a dry run cannot know the real run's renew-self would pass.
      return {
        ...kept({ outcome, reason: decision.reason, ...expiry }, []),
        unknown: [
          'the token may not ask sys/capabilities-self (it lacks the default policy?), so only renewing tells whether its policy allows auth/token/renew-self',
        ],
      };
    }
    if (decision.reason === TokenReason.GrantUnknown) {
      return {
        ...kept({ outcome, reason: decision.reason, ...expiry }, []),
        unknown: [
          `the token has ${ttl ?? 0}s left, less than the horizon: only renewing it tells whether Vault would extend it past the horizon or cap it at its max TTL`,
        ],
      };
    }
    const shortLived =
      decision.reason === TokenReason.TtlBelowHorizon && ttl !== undefined
        ? [tokenTtlBelowHorizonProblem(ttl, scheduleIntervalSeconds)]
        : [];
    return kept({ outcome, reason: decision.reason, ...expiry }, shortLived);
  }

  if (decision.action === TokenAction.Report) {
    return {
      token: { outcome: TokenOutcome.Failed, reason: decision.reason },
      problems: [tokenReportProblem(decision, error)],
      writes: 0,
      leasesSkipped: decision.reason === TokenReason.Root ? 'root token' : 'Vault unreachable',
      replaced: false,
    };
  }

  // Log in again.
  const why = reloginProblem(decision, error, info, request.dryRun);
  const announced = why === undefined ? [] : [why];
  if (request.dryRun) {
    return {
      ...kept(
        { outcome: TokenOutcome.WouldRelogin, reason: decision.reason, ...expiry },
        announced,
      ),
      replaced: true,
    };
  }
  const login = await relogin(target, document, decision, secrets, context);
  if (login.ok) {
    const freshTtl = login.token.ttlSeconds;
    const shortLived =
      freshTtl !== undefined && lifetimeOf(freshTtl, scheduleIntervalSeconds) !== Lifetime.Enough
        ? [tokenTtlBelowHorizonProblem(freshTtl, scheduleIntervalSeconds, true)]
        : [];
    // A dead or unrenewable token the login replaced: what happened, repaired.
    const repaired = announced.map((p) =>
      decision.reason === TokenReason.Invalid || decision.reason === TokenReason.NotRenewable
        ? { ...p, repaired: true as const }
        : p,
    );
    return {
      token: login.token,
      problems: [...repaired, ...login.problems, ...shortLived],
      writes: login.writes,
      ...(login.changes === undefined ? {} : { changes: login.changes }),
      active: login.active,
      ...(login.secretId === undefined ? {} : { loginSecretId: login.secretId }),
      replaced: true,
      refusedLogin: null,
    };
  }
  if (login.deferred === true) {
    // Renewed and alive past the next run, which logs it in first.
    return kept({ outcome: TokenOutcome.Deferred, reason: decision.reason, ...expiry }, [
      ...login.problems,
    ]);
  }
  const refusedLogin = login.refused === undefined ? {} : { refusedLogin: login.refused };
  // After a failed login the old token is only used when it was seen alive
  // this run: not when it is dead or absent, nor when an operator's forced
  // re-login skipped looking at it.
  const stillValid =
    decision.reason !== TokenReason.Invalid &&
    decision.reason !== TokenReason.Absent &&
    decision.reason !== TokenReason.Requested;
  const failedToken = { outcome: TokenOutcome.Failed, reason: decision.reason, ...expiry };
  // One message per broken target: a dead token whose replacement failed is
  // the failure's message (CRITICAL), which says so, not a second one.
  const dead = decision.reason === TokenReason.Invalid && login.problems.length > 0;
  const problems = dead
    ? login.problems.map((p) => ({ ...p, summary: `${p.summary} ${DEAD_TOKEN}` }))
    : [...announced, ...login.problems];
  if (!stillValid) {
    return {
      token: failedToken,
      problems,
      writes: 0,
      leasesSkipped: 'no valid token',
      replaced: false,
      ...refusedLogin,
    };
  }
  return { ...kept(failedToken, problems), replaced: false, ...refusedLogin };
}
