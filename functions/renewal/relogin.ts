/**
 * Acting on a decision to log in again: AppRole login with the stored
 * credentials, verify the new token (lookup-self), store it. A good token is
 * never replaced by one that failed any of these; the old token is never
 * revoked (its consumers and leases still depend on it).
 */

import type { TargetConfig } from '../config/types.js';
import { CredentialKind, expiryForEvent } from '../core/change-events-port.js';
import { mayTryAgain, type Refusal } from '../core/fleet-ledger.js';
import { extendIfShort } from '../core/lifetime.js';
import { MIN_TARGET_BUDGET_MS } from '../core/run-scope.js';
import {
  type AppRoleDocument,
  parseAppRoleDocument,
  renderTokenDocument,
  type TokenDocument,
} from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import {
  isVaultFailure,
  type LoginResult,
  type TokenInfo,
  VaultFailureKind,
} from '../core/vault-port.js';
import type { TokenDecision } from './planner.js';
import { type TargetReport, TokenOutcome } from './report.js';
import {
  type ActiveToken,
  diesBeforeNextRun,
  isoAfter,
  type RunContext,
  type StepResult,
  storeSecret,
  waitForWriteSlot,
} from './run-context.js';
import {
  ReloginFailure,
  reloggedInProblem,
  reloginFailedProblem,
  writesDeferredProblem,
} from './target-problems.js';

export type ReloginResult =
  | (StepResult & {
      readonly ok: true;
      readonly active: ActiveToken;
      readonly token: TargetReport['token'];
      /** The secret_id the login used (AppRole): a rotation may have replaced the one read first. */
      readonly secretId?: string;
      /** A login succeeded: any refusal remembered is over. */
      readonly refused: null;
    })
  | (StepResult & {
      readonly ok: false;
      /** Not tried for the write budget: the token outlives the next run, which logs in first. */
      readonly deferred?: boolean;
      /** The refusal to remember (a login Vault refused now, or the one that held this back). */
      readonly refused?: Refusal;
    });

export async function relogin(
  target: TargetConfig,
  document: TokenDocument,
  decision: TokenDecision,
  secrets: SecretLookup,
  context: RunContext,
): Promise<ReloginResult> {
  const { deps, signal } = context;
  const failed = (failure: ReloginFailure, detail: Parameters<typeof reloginFailedProblem>[2]) =>
    ({
      ok: false,
      problems: [reloginFailedProblem(failure, decision, detail)],
      writes: 0,
    }) as const;

  const obtained =
    target.approle === undefined
      ? await webIdentityLogin(target, decision, context, failed)
      : await appRoleLoginOf(target, target.approle, decision, secrets, context, failed);
  if (!('login' in obtained)) return obtained;
  const { login } = obtained;

  // Verify before storing: a token that cannot even look itself up must
  // never replace the stored one.
  let verified: TokenInfo;
  try {
    verified = await deps.vault.lookupSelf(target.vault, login.token, { signal });
    if (verified.ttlSeconds <= 0 && verified.expireTime !== null) {
      throw new Error('the new token has no TTL left');
    }
  } catch (error) {
    return failed(ReloginFailure.NewTokenRejected, { error });
  }

  // A role with a short token_ttl and a long token_max_ttl: extended at once.
  const ttlSeconds = await extendIfShort(
    verified.ttlSeconds,
    login.renewable,
    context.scheduleIntervalSeconds,
    async () => {
      const renewed = await deps.vault.renewSelf(
        target.vault,
        login.token,
        target.incrementSeconds,
        {
          signal,
        },
      );
      return renewed.ttlSeconds;
    },
  );
  const now = deps.now();
  const expiresAt =
    ttlSeconds === verified.ttlSeconds ? verified.expireTime : isoAfter(now, ttlSeconds);
  const value = renderTokenDocument(document.raw, {
    token: login.token,
    accessor: verified.accessor,
    renewable: login.renewable,
    policies: verified.policies,
    tokenType: verified.type,
    issuedAt: new Date(now).toISOString(),
    expiresAt,
    ttlSeconds,
  });
  let written: Awaited<ReturnType<typeof storeSecret>>;
  try {
    written = await storeSecret(context, target.tokenSecretId, value);
  } catch (error) {
    return failed(ReloginFailure.WriteFailed, { error });
  }

  return {
    ok: true,
    refused: null,
    active: { token: login.token, accessor: verified.accessor },
    ...(obtained.secretId === undefined ? {} : { secretId: obtained.secretId }),
    token: {
      outcome: TokenOutcome.Relogged,
      reason: decision.reason,
      ttlSeconds,
      expiresAt: isoAfter(now, ttlSeconds),
    },
    problems: [reloggedInProblem(decision, ttlSeconds)],
    writes: 1,
    changes: [
      {
        target: target.name,
        kind: CredentialKind.Token,
        name: CredentialKind.Token,
        secretArn: written.arn,
        versionId: written.versionId,
        reason: decision.reason,
        expiresAt: expiryForEvent(expiresAt),
      },
    ],
  };
}

function isInvalidCredentials(error: unknown): boolean {
  return isVaultFailure(error) && error.kind === VaultFailureKind.InvalidCredentials;
}

/** Answers that count toward Vault's lockout of the role, or show it. */
function isRefusal(error: unknown): boolean {
  return (
    isVaultFailure(error) &&
    (error.kind === VaultFailureKind.InvalidCredentials ||
      error.kind === VaultFailureKind.LockedOut)
  );
}

/**
 * Takes the write slot the new token will need before logging in: a login
 * whose token cannot be stored in this run is not made. A token that
 * outlives the next run waits for it (deferred); one that dies first is
 * told CRITICAL. Answers the result to return when no slot was taken.
 */
async function takeWriteSlot(
  target: TargetConfig,
  decision: TokenDecision,
  context: RunContext,
): Promise<(ReloginResult & { readonly ok: false }) | undefined> {
  const { deps, request, writes } = context;
  const ttlSeconds = Math.max(0, decision.ttlSeconds ?? 0);
  const diesAtMs = deps.now() + ttlSeconds * 1000;
  const urgent = diesBeforeNextRun(context, diesAtMs);
  const deferred: ReloginResult = {
    ok: false,
    deferred: !urgent,
    problems: [writesDeferredProblem(ttlSeconds, urgent)],
    writes: 0,
  };
  if (writes.tryTake()) return undefined;
  // The budget is busy. While the run still visits targets (it may park), a
  // token that outlives the next run does not queue: it is taken up again
  // once every target was visited, if time and writes are left.
  if (!urgent && context.park !== undefined) return deferred;
  // The token and every lease re-issued after it must fit before the run's last start.
  const needed = 1 + target.leases.length;
  if (!writes.fits(needed, diesAtMs, request.deadlineAtMs - MIN_TARGET_BUDGET_MS)) {
    return deferred;
  }
  return (await waitForWriteSlot(context, diesAtMs)) ? undefined : deferred;
}

type Failed = (
  failure: ReloginFailure,
  detail: Parameters<typeof reloginFailedProblem>[2],
) => ReloginResult & { readonly ok: false };

/** A login and what it used; or why there is none. */
type Obtained =
  | { readonly login: LoginResult; readonly secretId?: string }
  | (ReloginResult & { readonly ok: false });

/**
 * AppRole: the stored credentials, never a secret version Vault refused
 * before (until it changes or the back-off passed), a write slot, the login;
 * a rotation that replaced the secret_id meanwhile is followed once.
 */
async function appRoleLoginOf(
  target: TargetConfig,
  approle: NonNullable<TargetConfig['approle']>,
  decision: TokenDecision,
  secrets: SecretLookup,
  context: RunContext,
  failed: Failed,
): Promise<Obtained> {
  const { deps, signal } = context;
  const read = secrets.get(approle.secretId);
  if (!read?.ok) {
    return failed(ReloginFailure.CredentialsUnreadable, read === undefined ? {} : { read });
  }
  let credentials: AppRoleDocument;
  try {
    credentials = parseAppRoleDocument(read.secret.value);
  } catch (error) {
    return failed(ReloginFailure.CredentialsUnusable, { error });
  }

  // Never the AppRole secret version Vault refused, until it changes or the back-off passed.
  const refusal = context.ledger.get(target.name)?.refusedLogin;
  if (!mayTryAgain(refusal, read.secret.versionId, deps.now(), context.reloginRetrySeconds)) {
    return {
      ...failed(ReloginFailure.HeldBack, {
        refusedAt: isoAfter((refusal?.atSeconds ?? 0) * 1000, 0),
        retryAt: isoAfter((refusal?.atSeconds ?? 0) * 1000, context.reloginRetrySeconds),
      }),
      ...(refusal === undefined ? {} : { refused: refusal }),
    };
  }

  const slot = await takeWriteSlot(target, decision, context);
  if (slot !== undefined) return slot;

  let login: LoginResult;
  let loginVersion = read.secret.versionId;
  const refused = (error: unknown) => ({
    ...failed(ReloginFailure.LoginRefused, { error }),
    ...(isRefusal(error)
      ? { refused: { version: loginVersion, atSeconds: Math.floor(deps.now() / 1000) } }
      : {}),
  });
  try {
    login = await deps.vault.appRoleLogin(target.vault, approle.mount, credentials, {
      signal,
    });
  } catch (error) {
    // Rotation may have replaced (and destroyed) the secret_id since this run
    // read it: read AWSCURRENT again and, if it changed, log in with it once.
    const fresh = isInvalidCredentials(error)
      ? await freshCredentials(approle, credentials.secretId, context)
      : undefined;
    if (fresh === undefined) return refused(error);
    loginVersion = fresh.versionId;
    try {
      login = await deps.vault.appRoleLogin(target.vault, approle.mount, fresh.document, {
        signal,
      });
      credentials = fresh.document;
    } catch (retryError) {
      return refused(retryError);
    }
  }

  return { login, secretId: credentials.secretId };
}

/**
 * jwt: a write slot, a token STS signs for the target's audience (tagged
 * with its name), the login. Nothing is stored to log in with, and jwt
 * logins count toward no lockout: each run may try.
 */
async function webIdentityLogin(
  target: TargetConfig,
  decision: TokenDecision,
  context: RunContext,
  failed: Failed,
): Promise<Obtained> {
  const { deps, signal } = context;
  const jwt = target.jwt;
  if (jwt === undefined || deps.webIdentity === undefined) {
    return failed(ReloginFailure.NoWebIdentity, {});
  }
  const slot = await takeWriteSlot(target, decision, context);
  if (slot !== undefined) return slot;
  let signed: string;
  try {
    signed = await deps.webIdentity.token(
      { audience: jwt.audience, target: target.name },
      { signal },
    );
  } catch (error) {
    return failed(ReloginFailure.WebIdentityUnavailable, { error });
  }
  try {
    return {
      login: await deps.vault.jwtLogin(
        target.vault,
        jwt.mount,
        { role: jwt.role, jwt: signed },
        { signal },
      ),
    };
  } catch (error) {
    return failed(ReloginFailure.JwtRefused, { error });
  }
}

/** The AppRole secret read again; `undefined` unless it now holds another secret_id. */
async function freshCredentials(
  approle: NonNullable<TargetConfig['approle']>,
  usedSecretId: string,
  context: RunContext,
): Promise<{ readonly document: AppRoleDocument; readonly versionId: string } | undefined> {
  const answer = await context.deps.store
    .readBatch([approle.secretId], { signal: context.signal })
    .catch(() => undefined);
  const read = answer?.get(approle.secretId);
  if (!read?.ok) return undefined;
  try {
    const fresh = parseAppRoleDocument(read.secret.value);
    return fresh.secretId === usedSecretId
      ? undefined
      : { document: fresh, versionId: read.secret.versionId };
  } catch {
    return undefined;
  }
}
