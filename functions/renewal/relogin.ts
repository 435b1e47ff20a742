/**
 * Acting on a decision to log in again: AppRole login with the stored
 * credentials, verify the new token (lookup-self), store it. A good token is
 * never replaced by one that failed any of these; the old token is never
 * revoked (its consumers and leases still depend on it).
 */

import type { TargetConfig } from '../config/types.js';
import { CredentialKind, expiryForEvent } from '../core/change-events-port.js';
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
  extendIfShort,
  isoAfter,
  type RunContext,
  type StepResult,
  storeSecret,
} from './run-context.js';
import { ReloginFailure, reloggedInProblem, reloginFailedProblem } from './target-problems.js';

export type ReloginResult =
  | (StepResult & {
      readonly ok: true;
      readonly active: ActiveToken;
      readonly token: TargetReport['token'];
      /** The secret_id the login used: a rotation may have replaced the one read first. */
      readonly secretId: string;
    })
  | (StepResult & { readonly ok: false });

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

  const read = secrets.get(target.approle.secretId);
  if (!read?.ok) {
    return failed(ReloginFailure.CredentialsUnreadable, read === undefined ? {} : { read });
  }
  let credentials: AppRoleDocument;
  try {
    credentials = parseAppRoleDocument(read.secret.value);
  } catch (error) {
    return failed(ReloginFailure.CredentialsUnusable, { error });
  }

  let login: LoginResult;
  try {
    login = await deps.vault.appRoleLogin(target.vault, target.approle.mount, credentials, {
      signal,
    });
  } catch (error) {
    // Rotation may have replaced (and destroyed) the secret_id since this run
    // read it: read AWSCURRENT again and, if it changed, log in with it once.
    const fresh = isInvalidCredentials(error)
      ? await freshCredentials(target, credentials.secretId, context)
      : undefined;
    if (fresh === undefined) return failed(ReloginFailure.LoginRefused, { error });
    try {
      login = await deps.vault.appRoleLogin(target.vault, target.approle.mount, fresh, { signal });
      credentials = fresh;
    } catch (retryError) {
      return failed(ReloginFailure.LoginRefused, { error: retryError });
    }
  }

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
    context,
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
    active: { token: login.token, accessor: verified.accessor },
    secretId: credentials.secretId,
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

/** The AppRole secret read again; `undefined` unless it now holds another secret_id. */
async function freshCredentials(
  target: TargetConfig,
  usedSecretId: string,
  context: RunContext,
): Promise<AppRoleDocument | undefined> {
  const answer = await context.deps.store
    .readBatch([target.approle.secretId], { signal: context.signal })
    .catch(() => undefined);
  const read = answer?.get(target.approle.secretId);
  if (!read?.ok) return undefined;
  try {
    const fresh = parseAppRoleDocument(read.secret.value);
    return fresh.secretId === usedSecretId ? undefined : fresh;
  } catch {
    return undefined;
  }
}
