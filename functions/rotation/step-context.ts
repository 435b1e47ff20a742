/**
 * What every rotation step gets: the dependencies, the secret and its
 * target, and the request. Steps return what they did; the orchestrator
 * (rotate.ts) publishes and reports.
 */

import type { RenewerConfig, TargetConfig } from '../config/types.js';
import type { Problem } from '../core/problems.js';
import type { SecretIdPort } from '../core/secret-id-port.js';
import type { SecretDescription, SecretStagingStore } from '../core/staging-port.js';
import type { VaultInspectionPort } from '../core/vault-inspection-port.js';
import type { VaultPort } from '../core/vault-port.js';
import type { SecretKind } from './rotation-target.js';

export const RotationStep = {
  Create: 'createSecret',
  Set: 'setSecret',
  Test: 'testSecret',
  Finish: 'finishSecret',
} as const;
export type RotationStep = (typeof RotationStep)[keyof typeof RotationStep];

export interface RotationDeps {
  readonly vault: VaultPort & Pick<VaultInspectionPort, 'revokeSelf'> & SecretIdPort;
  readonly staging: SecretStagingStore;
  readonly now: () => number;
}

export interface StepContext {
  readonly config: RenewerConfig;
  readonly deps: RotationDeps;
  readonly target: TargetConfig;
  readonly kind: SecretKind;
  /** The secret as the event names it (its ARN). */
  readonly secretId: string;
  readonly description: SecretDescription;
  /** The ClientRequestToken: the VersionId of the new version. */
  readonly token: string;
  readonly signal: AbortSignal;
}

export const StepOutcome = {
  Created: 'created',
  AlreadyCreated: 'already-created',
  NothingToSet: 'nothing-to-set',
  Tested: 'tested',
  /** testSecret on a version with no new value: Secrets Manager checking the configuration. */
  ConfigurationChecked: 'configuration-checked',
  Finished: 'finished',
  /** The version was already current; only the clean-up after the move was (re)done. */
  AlreadyCurrent: 'already-current',
} as const;
export type StepOutcome = (typeof StepOutcome)[keyof typeof StepOutcome];

export interface StepResult {
  readonly outcome: StepOutcome;
  /** Things a person should hear about although the step succeeded. */
  readonly problems: readonly Problem[];
  /** Non-secret facts for the report, e.g. the new token's TTL. */
  readonly details?: Readonly<Record<string, string | number | boolean>>;
  /** The step made the new version current (finishSecret): the change event's facts. */
  readonly madeCurrent?: { readonly expiresAt: string | null };
}

/**
 * A step that failed for good. `problem` says why; `cleanedUp` tells what
 * was undone so nothing is left half-made.
 */
export class RotationStepError extends Error {
  override name = 'RotationStepError';
  readonly answer: string | undefined;

  constructor(message: string, options: { cause?: unknown; answer?: string } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.answer = options.answer;
  }
}
