/**
 * Which configured secret a rotation event is about, and what the rotation
 * protocol allows on it now. Pure: it reads the config and DescribeSecret's
 * answer, nothing else.
 */

import type { RenewerConfig, TargetConfig } from '../config/types.js';
import { type SecretDescription, Stage } from '../core/staging-port.js';

export const SecretKind = {
  /** `{role_id, secret_id, secret_id_accessor}`: a new secret_id. */
  AppRole: 'approle',
  /** `{token, ...}`: a verified re-login. */
  Token: 'token',
} as const;
export type SecretKind = (typeof SecretKind)[keyof typeof SecretKind];

export interface RotationTarget {
  readonly target: TargetConfig;
  readonly kind: SecretKind;
}

/** A rotation the function will not run; AWS's templates refuse the same. Never names a value. */
export class RotationRefusedError extends Error {
  override name = 'RotationRefusedError';
}

/**
 * The target's AppRole login: rotation logs in with it. A jwt target keeps
 * none, and the config refuses rotation for it; this says so if one slips by.
 */
export function requireAppRole(target: TargetConfig): NonNullable<TargetConfig['approle']> {
  if (target.approle === undefined) {
    throw new RotationRefusedError(
      `target "${target.name}" logs in with jwt: it keeps no AppRole secret, and its token is not rotated`,
    );
  }
  return target.approle;
}

/** The target and kind a secret belongs to; `undefined` when no target lists it as either. */
export function findRotationTarget(
  config: RenewerConfig,
  secret: Pick<SecretDescription, 'arn' | 'name'>,
): RotationTarget | undefined {
  const named = (id: string) => id === secret.name || id === secret.arn;
  for (const target of config.targets) {
    if (target.approle !== undefined && named(target.approle.secretId)) {
      return { target, kind: SecretKind.AppRole };
    }
    if (named(target.tokenSecretId)) return { target, kind: SecretKind.Token };
  }
  return undefined;
}

export const Readiness = {
  Proceed: 'proceed',
  /** The version already holds AWSCURRENT: an earlier attempt finished. */
  AlreadyCurrent: 'already-current',
} as const;
export type Readiness = (typeof Readiness)[keyof typeof Readiness];

/**
 * The checks AWS's rotation templates make before any step: rotation
 * enabled, the token a version of the secret, not yet current, staged as
 * AWSPENDING.
 */
export function readiness(description: SecretDescription, token: string): Readiness {
  const secret = JSON.stringify(description.name);
  if (!description.rotationEnabled) {
    throw new RotationRefusedError(`rotation is not enabled for secret ${secret}`);
  }
  const stages = description.versionStages[token];
  if (stages === undefined) {
    throw new RotationRefusedError(
      `ClientRequestToken ${token} is not a version of secret ${secret}`,
    );
  }
  if (stages.includes(Stage.Current)) return Readiness.AlreadyCurrent;
  if (!stages.includes(Stage.Pending)) {
    throw new RotationRefusedError(
      `version ${token} of secret ${secret} is not staged as AWSPENDING`,
    );
  }
  return Readiness.Proceed;
}
