/**
 * The AppRole secret_id the target's next login needs: looked up every run
 * (`auth/<mount>/role/<role>/secret-id/lookup`, with the target's own token,
 * right after a login with the new one), so its expiry or its last uses are
 * announced days ahead instead of when a login fails. One call per target.
 */

import type { TargetConfig } from '../config/types.js';
import type { Problem } from '../core/problems.js';
import { type SecretIdInfo, VaultFailureKind } from '../core/vault-port.js';
import { type ActiveToken, failureKind, type RunContext } from './run-context.js';
import { secretIdExpiringProblem, secretIdUntrackedProblem } from './target-problems.js';

const DAY_SECONDS = 86_400;
/** At most this many logins left is announced. */
const FEW_USES = 2;

export interface SecretIdStepResult {
  readonly problems: readonly Problem[];
  /** Seconds until the secret_id expires, when it does. */
  readonly expiresInSeconds?: number;
}

export async function secretIdStep(
  target: TargetConfig,
  /** The stored secret_id; undefined when the AppRole secret is unusable (reported already). */
  secretId: string | undefined,
  context: RunContext,
  active: ActiveToken,
  /** A dry run asks with the token a real run would replace: its refusal says nothing of the new one's. */
  predictedLogin = false,
): Promise<SecretIdStepResult> {
  if (secretId === undefined || target.approle === undefined) return { problems: [] };
  const role = target.approle.roleName;
  if (role === undefined) return { problems: [secretIdUntrackedProblem()] };

  let info: SecretIdInfo | undefined;
  try {
    info = await context.deps.vault.lookupSecretId(
      target.vault,
      active.token,
      target.approle.mount,
      role,
      secretId,
      { signal: context.signal },
    );
  } catch (error) {
    const kind = failureKind(error);
    // Denied: the policy lacks the path. Anything else (Vault down) is told by the token step.
    return kind === VaultFailureKind.PermissionDenied && !predictedLogin
      ? { problems: [secretIdUntrackedProblem(error)] }
      : { problems: [] };
  }
  return judgeSecretId(info, context.deps.now(), context.secretIdWarnDays);
}

/** Pure: what the lookup says about the next login. */
export function judgeSecretId(
  info: SecretIdInfo | undefined,
  nowMs: number,
  warnDays: number,
): SecretIdStepResult {
  if (info === undefined) return { problems: [secretIdExpiringProblem('unknown', {})] };
  const expiresInSeconds =
    info.expirationTime === null
      ? undefined
      : Math.round((Date.parse(info.expirationTime) - nowMs) / 1000);
  const expiry = expiresInSeconds === undefined ? {} : { expiresInSeconds };
  if (expiresInSeconds !== undefined && expiresInSeconds <= 0) {
    return { problems: [secretIdExpiringProblem('expired', expiry)], ...expiry };
  }
  const warnSeconds = warnDays * DAY_SECONDS;
  if (expiresInSeconds !== undefined && expiresInSeconds < warnSeconds) {
    return { problems: [secretIdExpiringProblem('expires-soon', expiry)], ...expiry };
  }
  if (info.usesLeft > 0 && info.usesLeft <= FEW_USES) {
    return {
      problems: [secretIdExpiringProblem('few-uses', { ...expiry, usesLeft: info.usesLeft })],
      ...expiry,
    };
  }
  return { problems: [], ...expiry };
}
