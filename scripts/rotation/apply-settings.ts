/**
 * Applies the config's rotation settings to the fleet's secrets through the
 * Secrets Manager API: DescribeSecret for each AppRole and token secret,
 * RotateSecret(RotateImmediately=false) where the config and Secrets Manager
 * differ (Secrets Manager then only runs testSecret, which checks the
 * configuration and spends nothing), CancelRotateSecret for drift with
 * `prune`. Idempotent: a second run changes nothing.
 */

import {
  CancelRotateSecretCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import pLimit from 'p-limit';
import { createSecretStagingStore } from '../../functions/aws/secret-staging.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { describeAnswer } from '../../functions/core/wording.js';
import {
  type DesiredRotation,
  decideSetting,
  desiredRotations,
  SettingAction,
} from './settings-plan.js';

export interface ApplyOptions {
  readonly functionArn: string;
  /** Report only. */
  readonly dryRun: boolean;
  /** Cancel rotation this function runs on secrets the config no longer rotates. */
  readonly prune: boolean;
  readonly concurrency?: number;
}

export interface SecretOutcome {
  readonly secret: string;
  readonly target: string;
  readonly kind: DesiredRotation['kind'];
  readonly action: SettingAction;
  /** `applied`, `cancelled`, `would apply`, ... or the failure. */
  readonly result: string;
  readonly differences: readonly string[];
  readonly failed: boolean;
}

export async function applyRotationSettings(
  config: RenewerConfig,
  client: SecretsManagerClient,
  options: ApplyOptions,
): Promise<SecretOutcome[]> {
  const store = createSecretStagingStore(client);
  const limit = pLimit(options.concurrency ?? 8);
  return Promise.all(
    desiredRotations(config).map((desired) =>
      limit(async (): Promise<SecretOutcome> => {
        const base = { secret: desired.secretId, target: desired.target, kind: desired.kind };
        try {
          const observed = await store.describe(desired.secretId);
          const decision = decideSetting(desired, observed, options.functionArn);
          const outcome = { ...base, action: decision.action, differences: decision.differences };
          if (decision.action === SettingAction.Apply && desired.rules !== undefined) {
            if (options.dryRun) return { ...outcome, result: 'would apply', failed: false };
            await client.send(
              new RotateSecretCommand({
                SecretId: desired.secretId,
                RotationLambdaARN: options.functionArn,
                RotationRules: { ...desired.rules },
                RotateImmediately: false,
              }),
            );
            return { ...outcome, result: 'applied', failed: false };
          }
          if (decision.action === SettingAction.Drift && options.prune) {
            if (options.dryRun) return { ...outcome, result: 'would cancel', failed: false };
            await client.send(new CancelRotateSecretCommand({ SecretId: desired.secretId }));
            return { ...outcome, result: 'cancelled', failed: false };
          }
          return { ...outcome, result: 'unchanged', failed: false };
        } catch (error) {
          return {
            ...base,
            action: SettingAction.Apply,
            differences: [],
            result: describeAnswer(error),
            failed: true,
          };
        }
      }),
    ),
  );
}

export function summarise(outcomes: readonly SecretOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const outcome of outcomes) {
    const key = outcome.failed ? 'failed' : `${outcome.action}/${outcome.result}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
