/**
 * Rotating an AppRole secret: a new secret_id, issued by the rotator,
 * staged, tested by a login, made current, and only then the previous one
 * destroyed by its accessor, so AWSCURRENT always holds a working secret_id.
 */

import type { TargetConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import {
  type AppRoleDocument,
  parseAppRoleDocument,
  parseTokenDocument,
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

/** Where the secret_id's accessor is kept beside role_id and secret_id. */
export const ACCESSOR_KEY = 'secret_id_accessor';

interface StagedAppRole extends AppRoleDocument {
  readonly accessor: string | undefined;
  readonly raw: Readonly<Record<string, unknown>>;
}

function parseStaged(value: string): StagedAppRole {
  const document = parseAppRoleDocument(value);
  const raw = JSON.parse(value) as Record<string, unknown>;
  const accessor = raw[ACCESSOR_KEY];
  return {
    ...document,
    raw,
    accessor: typeof accessor === 'string' && accessor !== '' ? accessor : undefined,
  };
}

function roleOf(target: TargetConfig): string {
  const role = requireAppRole(target).roleName;
  if (role === undefined) {
    throw new RotationStepError(
      `target "${target.name}" names no approle.role: a secret_id is issued for a role`,
    );
  }
  return role;
}

/** The rotator's current token (its target's token secret). */
async function rotatorToken(context: StepContext): Promise<string> {
  const rotatorName = context.config.rotator;
  const rotator = context.config.targets.find((t) => t.name === rotatorName);
  if (rotator === undefined) {
    throw new RotationStepError(
      'the config names no rotator (rotation.rotator): AppRole secrets cannot be rotated',
    );
  }
  const stored = await context.deps.staging.readVersion(
    rotator.tokenSecretId,
    { stage: Stage.Current },
    { signal: context.signal },
  );
  const token = stored === undefined ? undefined : parseTokenDocument(stored.value).token;
  if (token === undefined) {
    throw new RotationStepError(
      `the rotator "${rotator.name}" has no token in ${rotator.tokenSecretId} yet: run the renewer for it first`,
    );
  }
  return token;
}

async function currentDocument(context: StepContext): Promise<StagedAppRole> {
  const current = await context.deps.staging.readVersion(
    context.secretId,
    { stage: Stage.Current },
    { signal: context.signal },
  );
  if (current === undefined) {
    throw new RotationStepError(`secret ${context.description.name} has no AWSCURRENT value`);
  }
  return parseStaged(current.value);
}

async function pendingValue(context: StepContext): Promise<string | undefined> {
  return (
    await context.deps.staging.readVersion(
      context.secretId,
      { versionId: context.token, stage: Stage.Pending },
      { signal: context.signal },
    )
  )?.value;
}

export async function createAppRoleSecret(context: StepContext): Promise<StepResult> {
  const { deps, target, signal } = context;
  const current = await currentDocument(context);
  if ((await pendingValue(context)) !== undefined) {
    return { outcome: StepOutcome.AlreadyCreated, problems: [] };
  }
  const role = roleOf(target);
  const token = await rotatorToken(context);
  const issued = await deps.vault.issueSecretId(
    target.vault,
    token,
    requireAppRole(target).mount,
    role,
    // Not secret: shown by secret-id lookups, so an operator can tell where it came from.
    { issued_by: 'vault-renewer-rotation', rotation: context.token },
    { signal },
  );
  const value = JSON.stringify({
    ...current.raw,
    role_id: current.roleId,
    secret_id: issued.secretId,
    [ACCESSOR_KEY]: issued.accessor,
    rotated_at: new Date(deps.now()).toISOString(),
    managed_by: 'vault-renewer',
  });
  try {
    await deps.staging.stagePending(context.secretId, context.token, value, { signal });
  } catch (error) {
    // Not staged, so never used: it must not stay valid in Vault.
    await destroyQuietly(context, token, role, issued.accessor);
    throw error;
  }
  return {
    outcome: StepOutcome.Created,
    problems: [],
    details: { secretIdTtlSeconds: issued.ttlSeconds, secretIdNumUses: issued.numUses },
  };
}

export async function testAppRoleSecret(context: StepContext): Promise<StepResult> {
  const { deps, target, signal } = context;
  const pending = await pendingValue(context);
  const current = await context.deps.staging.readVersion(
    context.secretId,
    { stage: Stage.Current },
    { signal },
  );
  if (pending === undefined || pending === current?.value) {
    // Secrets Manager checking the configuration (RotateImmediately=false):
    // nothing new to test, and a login would spend a use of the current secret_id.
    await deps.vault.lookupSelf(target.vault, await rotatorToken(context), { signal });
    return { outcome: StepOutcome.ConfigurationChecked, problems: [] };
  }
  const staged = parseStaged(pending);
  let login: Awaited<ReturnType<typeof deps.vault.appRoleLogin>>;
  try {
    login = await deps.vault.appRoleLogin(
      target.vault,
      requireAppRole(target).mount,
      { roleId: staged.roleId, secretId: staged.secretId },
      { signal },
    );
  } catch (error) {
    if (isVaultFailure(error) && TRANSIENT_VAULT_FAILURES.has(error.kind)) throw error;
    // Vault refused the new secret_id: destroy it and unstage it, so this
    // rotation ends cleanly and the next one starts afresh.
    if (staged.accessor !== undefined) {
      await destroyQuietly(context, await rotatorToken(context), roleOf(target), staged.accessor);
    }
    await deps.staging.moveStage(
      context.secretId,
      Stage.Pending,
      { from: context.token },
      { signal },
    );
    throw new RotationStepError(
      `a login with the new secret_id failed; it was destroyed and AWSCURRENT is unchanged`,
      { cause: error, answer: describeAnswer(error) },
    );
  }
  // The test token must not outlive the test.
  const revoked = await deps.vault
    .revokeSelf(target.vault, login.token, { signal })
    .then(() => true)
    .catch(() => false);
  return { outcome: StepOutcome.Tested, problems: [], details: { testTokenRevoked: revoked } };
}

export async function finishAppRoleSecret(
  context: StepContext,
  alreadyCurrent: boolean,
): Promise<StepResult> {
  const { deps, signal, description, token } = context;
  const currentVersion = versionWith(description, Stage.Current);
  let previousVersion: string | undefined;
  if (alreadyCurrent) {
    previousVersion = versionWith(description, Stage.Previous);
  } else {
    if (currentVersion !== undefined) {
      await deps.staging.moveStage(
        context.secretId,
        Stage.Current,
        { to: token, from: currentVersion },
        { signal },
      );
    } else {
      await deps.staging.moveStage(context.secretId, Stage.Current, { to: token }, { signal });
    }
    previousVersion = currentVersion;
  }
  if (description.versionStages[token]?.includes(Stage.Pending)) {
    await deps.staging.moveStage(context.secretId, Stage.Pending, { from: token }, { signal });
  }
  const problems = await destroyPrevious(context, previousVersion);
  return {
    outcome: alreadyCurrent ? StepOutcome.AlreadyCurrent : StepOutcome.Finished,
    problems,
    details: { previousDestroyed: problems.length === 0 },
    // A secret_id's expiry is Vault's to tell (a lookup); the event does not guess it.
    madeCurrent: { expiresAt: null },
  };
}

/** Destroys the secret_id the move replaced; a failure is a WARNING, never a failed rotation. */
async function destroyPrevious(
  context: StepContext,
  previousVersion: string | undefined,
): Promise<Problem[]> {
  if (previousVersion === undefined || previousVersion === context.token) return [];
  const { deps, target, signal } = context;
  const [previous, latest] = await Promise.all([
    deps.staging.readVersion(context.secretId, { versionId: previousVersion }, { signal }),
    deps.staging.readVersion(context.secretId, { versionId: context.token }, { signal }),
  ]);
  if (previous === undefined) return [];
  const old = parseStaged(previous.value);
  const now = latest === undefined ? undefined : parseStaged(latest.value);
  if (now !== undefined && old.secretId === now.secretId) return [];
  const cleanupProblem = (summary: string, answer?: string): Problem => ({
    code: ProblemCode.RotationCleanupFailed,
    severity: Severity.Warning,
    summary,
    ...(answer === undefined ? {} : { answer }),
    facts: { secret: context.description.name, kind: context.kind },
  });
  if (old.accessor === undefined) {
    return [
      cleanupProblem(
        `The previous secret_id (version ${previousVersion}) has no ${ACCESSOR_KEY} stored, so it was not destroyed; it stays valid until its TTL.`,
      ),
    ];
  }
  try {
    const token = await rotatorToken(context);
    await deps.vault.destroySecretIdByAccessor(
      target.vault,
      token,
      requireAppRole(target).mount,
      roleOf(target),
      old.accessor,
      { signal },
    );
    return [];
  } catch (error) {
    if (isGoneAccessor(error)) return [];
    return [
      cleanupProblem(
        `The previous secret_id (version ${previousVersion}) could not be destroyed; it stays valid until its TTL.`,
        describeAnswer(error),
      ),
    ];
  }
}

/**
 * Destroying an accessor Vault no longer knows: an earlier attempt already
 * did it. OpenBao answers 500 `failed to find accessor entry for
 * secret_id_accessor` (measured); Vault's accessor lookup says 403 `invalid
 * secret id accessor` (vault-facts §6.2). Both are accepted.
 */
function isGoneAccessor(error: unknown): boolean {
  return (
    isVaultFailure(error) &&
    error.vaultErrors.some((text) =>
      /invalid secret id accessor|failed to find accessor entry/i.test(text),
    )
  );
}

async function destroyQuietly(
  context: StepContext,
  token: string,
  role: string,
  accessor: string,
): Promise<void> {
  await context.deps.vault
    .destroySecretIdByAccessor(
      context.target.vault,
      token,
      requireAppRole(context.target).mount,
      role,
      accessor,
      {
        signal: context.signal,
      },
    )
    .catch(() => undefined);
}
