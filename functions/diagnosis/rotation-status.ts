/**
 * A target's rotation as Secrets Manager has it (DescribeSecret), beside
 * what the config asks for: enabled, last and next rotation, a rotation left
 * half-done. Read only; never a value.
 */

import type { RotationRules, TargetConfig } from '../config/types.js';
import { NO_APPROLE_SECRET } from '../core/login-route.js';
import { type SecretDescription, Stage, versionWith } from '../core/staging-port.js';
import { describeAnswer } from '../core/wording.js';

export interface SecretRotationStatus {
  readonly secret: string;
  /** What Secrets Manager says. */
  readonly enabled: boolean;
  readonly lastRotated?: string;
  readonly nextRotation?: string;
  /** The rules the config asks for; absent when it does not rotate this secret. */
  readonly configured?: RotationRules;
  /** Rotation enabled exactly when the config asks for it. */
  readonly matchesConfig: boolean;
  /** AWSPENDING on a version that is not AWSCURRENT: a rotation in progress or left failed. */
  readonly pending: boolean;
  /** DescribeSecret failed (AWS's code and message). */
  readonly error?: string;
}

export interface RotationStatus {
  readonly approle: SecretRotationStatus;
  readonly token: SecretRotationStatus;
}

export type Describe = (secretId: string) => Promise<SecretDescription>;

export async function rotationStatus(
  target: TargetConfig,
  describe: Describe,
): Promise<RotationStatus> {
  const [approle, token] = await Promise.all([
    target.approle === undefined
      ? Promise.resolve(noAppRoleSecret())
      : statusOf(target.approle.secretId, target.rotation?.approle, describe),
    statusOf(target.tokenSecretId, target.rotation?.token, describe),
  ]);
  return { approle, token };
}

/** A jwt target keeps no AppRole secret: nothing to rotate, nothing out of step. */
function noAppRoleSecret(): SecretRotationStatus {
  return { secret: NO_APPROLE_SECRET, enabled: false, matchesConfig: true, pending: false };
}

async function statusOf(
  secretId: string,
  configured: RotationRules | undefined,
  describe: Describe,
): Promise<SecretRotationStatus> {
  const base = { secret: secretId, ...(configured === undefined ? {} : { configured }) };
  try {
    const described = await describe(secretId);
    const pendingVersion = versionWith(described, Stage.Pending);
    return {
      ...base,
      enabled: described.rotationEnabled,
      ...(described.lastRotatedDate === undefined
        ? {}
        : { lastRotated: described.lastRotatedDate }),
      ...(described.nextRotationDate === undefined
        ? {}
        : { nextRotation: described.nextRotationDate }),
      matchesConfig: described.rotationEnabled === (configured !== undefined),
      pending:
        pendingVersion !== undefined &&
        !(described.versionStages[pendingVersion] ?? []).includes(Stage.Current),
    };
  } catch (error) {
    return {
      ...base,
      enabled: false,
      matchesConfig: false,
      pending: false,
      error: describeAnswer(error),
    };
  }
}

/** One line per kind, for the text rendering. */
export function rotationLines(status: RotationStatus): string[] {
  return (['approle', 'token'] as const).map((kind) => {
    const s = status[kind];
    if (s.error !== undefined) return `rotation ${kind}: unknown (${s.error})`;
    const state = s.enabled
      ? `enabled, last ${s.lastRotated ?? 'never'}, next ${s.nextRotation ?? 'not scheduled'}`
      : 'not enabled';
    const config =
      s.configured === undefined
        ? 'config: not rotated'
        : `config: ${s.configured.AutomaticallyAfterDays === undefined ? s.configured.ScheduleExpression : `every ${s.configured.AutomaticallyAfterDays} days`}`;
    const notes = [
      ...(s.matchesConfig ? [] : ['differs from the config: run npm run rotation:apply']),
      ...(s.pending ? ['AWSPENDING left on a version (in progress, or failed)'] : []),
    ];
    return `rotation ${kind}: ${state}; ${config}${notes.length === 0 ? '' : `; ${notes.join('; ')}`}`;
  });
}
