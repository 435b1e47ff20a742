/**
 * Rotating a token secret: a verified re-login. createSecret logs in with
 * the target's AppRole credentials and stages the token, testSecret checks
 * it (lookup-self) and extends it past the horizon, finishSecret makes it
 * current. The previous token is not revoked: it dies at its own TTL, and
 * the leases it issued keep working until the next renew run re-issues them
 * under the new token (a lease dies with the token that created it).
 */

import { expiryForEvent } from '../core/change-events-port.js';
import { extendIfShort, Lifetime, lifetimeOf } from '../core/lifetime.js';
import { tokenTtlBelowHorizonProblem } from '../core/lifetime-problems.js';
import {
  parseAppRoleDocument,
  parseTokenDocument,
  renderTokenDocument,
} from '../core/secret-documents.js';
import { Stage, versionWith } from '../core/staging-port.js';
import { isVaultFailure, TRANSIENT_VAULT_FAILURES } from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import { requireAppRole } from './rotation-target.js';
import {
  RotationStepError,
  type StepContext,
  StepOutcome,
  type StepResult,
} from './step-context.js';

async function readStage(context: StepContext, version: { versionId?: string; stage?: Stage }) {
  return context.deps.staging.readVersion(context.secretId, version, { signal: context.signal });
}

export async function createTokenSecret(context: StepContext): Promise<StepResult> {
  const { deps, target, signal } = context;
  const current = await readStage(context, { stage: Stage.Current });
  const currentRaw = current === undefined ? {} : parseTokenDocument(current.value).raw;
  if (
    (await readStage(context, { versionId: context.token, stage: Stage.Pending })) !== undefined
  ) {
    return { outcome: StepOutcome.AlreadyCreated, problems: [] };
  }
  const approle = await deps.staging.readVersion(
    requireAppRole(target).secretId,
    { stage: Stage.Current },
    { signal },
  );
  if (approle === undefined) {
    throw new RotationStepError(
      `the AppRole secret ${requireAppRole(target).secretId} has no value`,
    );
  }
  const credentials = parseAppRoleDocument(approle.value);
  const login = await deps.vault.appRoleLogin(
    target.vault,
    requireAppRole(target).mount,
    credentials,
    {
      signal,
    },
  );
  try {
    const now = deps.now();
    const value = renderTokenDocument(currentRaw, {
      token: login.token,
      accessor: login.accessor,
      renewable: login.renewable,
      policies: login.policies,
      tokenType: login.tokenType,
      issuedAt: new Date(now).toISOString(),
      expiresAt:
        login.ttlSeconds > 0 ? new Date(now + login.ttlSeconds * 1000).toISOString() : null,
      ttlSeconds: login.ttlSeconds,
    });
    await deps.staging.stagePending(context.secretId, context.token, value, { signal });
  } catch (error) {
    // Not staged, so nobody will use it.
    await deps.vault.revokeSelf(target.vault, login.token, { signal }).catch(() => undefined);
    throw error;
  }
  return { outcome: StepOutcome.Created, problems: [], details: { ttlSeconds: login.ttlSeconds } };
}

export async function testTokenSecret(context: StepContext): Promise<StepResult> {
  const { deps, target, signal, config } = context;
  const pending = await readStage(context, { versionId: context.token, stage: Stage.Pending });
  const current = await readStage(context, { stage: Stage.Current });
  if (pending === undefined || pending.value === current?.value) {
    // Secrets Manager checking the configuration: the stored token must work.
    const token = current === undefined ? undefined : parseTokenDocument(current.value).token;
    if (token !== undefined) await deps.vault.lookupSelf(target.vault, token, { signal });
    return { outcome: StepOutcome.ConfigurationChecked, problems: [] };
  }
  const token = parseTokenDocument(pending.value).token;
  if (token === undefined) {
    throw new RotationStepError('the staged version holds no token');
  }
  let ttlSeconds: number;
  let renewable: boolean | undefined;
  try {
    const info = await deps.vault.lookupSelf(target.vault, token, { signal });
    ttlSeconds = info.ttlSeconds;
    renewable = info.renewable;
  } catch (error) {
    if (isVaultFailure(error) && TRANSIENT_VAULT_FAILURES.has(error.kind)) throw error;
    await deps.staging.moveStage(
      context.secretId,
      Stage.Pending,
      { from: context.token },
      { signal },
    );
    throw new RotationStepError('the new token failed its lookup; AWSCURRENT is unchanged', {
      cause: error,
      answer: describeAnswer(error),
    });
  }
  // The same rule as a renewal run's login: a short token is renewed once at once.
  const lookedUpTtlSeconds = ttlSeconds;
  ttlSeconds = await extendIfShort(
    ttlSeconds,
    renewable === true,
    config.scheduleIntervalSeconds,
    async () =>
      (await deps.vault.renewSelf(target.vault, token, target.incrementSeconds, { signal }))
        .ttlSeconds,
  );
  const extended = ttlSeconds !== lookedUpTtlSeconds;
  // The invariant holds here too: a token that will not outlive the horizon is announced.
  const outlivesHorizon =
    lifetimeOf(ttlSeconds, config.scheduleIntervalSeconds) === Lifetime.Enough;
  return {
    outcome: StepOutcome.Tested,
    problems: outlivesHorizon
      ? []
      : [tokenTtlBelowHorizonProblem(ttlSeconds, config.scheduleIntervalSeconds, true)],
    details: { ttlSeconds, extended, outlivesHorizon },
  };
}

export async function finishTokenSecret(
  context: StepContext,
  alreadyCurrent: boolean,
): Promise<StepResult> {
  const { deps, signal, description, token, target } = context;
  if (!alreadyCurrent) {
    const currentVersion = versionWith(description, Stage.Current);
    await deps.staging.moveStage(
      context.secretId,
      Stage.Current,
      currentVersion === undefined ? { to: token } : { to: token, from: currentVersion },
      { signal },
    );
  }
  if (description.versionStages[token]?.includes(Stage.Pending)) {
    await deps.staging.moveStage(context.secretId, Stage.Pending, { from: token }, { signal });
  }
  return {
    outcome: alreadyCurrent ? StepOutcome.AlreadyCurrent : StepOutcome.Finished,
    problems: [],
    // Issued by the previous token: the next renew run re-issues them.
    details: { leasesToReissue: target.leases.length },
    madeCurrent: { expiresAt: await recordedExpiry(context) },
  };
}

/**
 * The new token's expiry as its document records it, in the events' form
 * (createSecret wrote it at login; a testSecret that extended the token
 * leaves it earlier than the real one). `null` when unreadable: the label
 * has moved, and a missing time must not fail the rotation.
 */
async function recordedExpiry(context: StepContext): Promise<string | null> {
  try {
    const version = await readStage(context, { versionId: context.token });
    const expiresAt =
      version === undefined ? undefined : parseTokenDocument(version.value).raw.expires_at;
    return typeof expiresAt === 'string' ? expiryForEvent(expiresAt) : null;
  } catch {
    return null;
  }
}
