/**
 * What rotation needs from the secret store: a secret's versions and their
 * staging labels, reading one version, staging a new one and moving labels
 * (Secrets Manager's rotation protocol, aws-facts §1.1). The `aws/` adapter
 * implements it; it moves bytes and decides nothing.
 */

import type { RotationRules } from '../config/types.js';

export const Stage = {
  Current: 'AWSCURRENT',
  Pending: 'AWSPENDING',
  Previous: 'AWSPREVIOUS',
} as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

/** DescribeSecret, the parts rotation and diagnosis use. Never a value. */
export interface SecretDescription {
  readonly arn: string;
  readonly name: string;
  readonly rotationEnabled: boolean;
  readonly rotationLambdaArn?: string;
  readonly rotationRules?: RotationRules;
  /** ISO times. */
  readonly lastRotatedDate?: string;
  readonly nextRotationDate?: string;
  /** VersionId → staging labels. */
  readonly versionStages: Readonly<Record<string, readonly string[]>>;
}

/** One version's value. `value` is a secret: never log it. */
export interface SecretVersion {
  readonly versionId: string;
  readonly value: string;
}

/** A failed store call, with AWS's code; its message never holds a value. */
export interface StagingFailure extends Error {
  readonly code: string;
}

export interface SecretStagingStore {
  describe(secretId: string, options?: StoreCallOptions): Promise<SecretDescription>;
  /**
   * GetSecretValue of one version (by id, stage, or both); `undefined` when
   * there is no such version or it has no value yet (the placeholder that
   * RotateSecret stages).
   */
  readVersion(
    secretId: string,
    version: { readonly versionId?: string; readonly stage?: Stage },
    options?: StoreCallOptions,
  ): Promise<SecretVersion | undefined>;
  /**
   * PutSecretValue with `versionId` as ClientRequestToken, labelled
   * AWSPENDING. Repeating it with the same value changes nothing.
   */
  stagePending(
    secretId: string,
    versionId: string,
    value: string,
    options?: StoreCallOptions,
  ): Promise<void>;
  /** UpdateSecretVersionStage: moves `stage` to `to` (if given) and off `from` (if given). */
  moveStage(
    secretId: string,
    stage: Stage,
    versions: { readonly to?: string; readonly from?: string },
    options?: StoreCallOptions,
  ): Promise<void>;
}

export interface StoreCallOptions {
  readonly signal?: AbortSignal;
}

/** The version that carries `stage`, if any. */
export function versionWith(
  description: Pick<SecretDescription, 'versionStages'>,
  stage: Stage,
): string | undefined {
  return Object.entries(description.versionStages).find(([, stages]) =>
    stages.includes(stage),
  )?.[0];
}
