/**
 * The diagnose function's answer: a stable, versioned JSON document. Consumers
 * match on `schema`, check `id`s, `status` and `verdict`; the texts are for
 * humans and may be reworded. It never holds a token, accessor, secret_id,
 * lease id or credential.
 */

import type { OpenIncident } from '../core/incident-port.js';
import type { Check } from './check.js';
import type { RotationStatus } from './rotation-status.js';
import type { Verdict } from './verdict.js';

export const DIAGNOSIS_SCHEMA = 'vault-renewer/diagnosis/v1';

export interface TargetDiagnosis {
  readonly target: string;
  readonly verdict: Verdict;
  /** For `at-risk`: when it breaks, when known (RFC3339). */
  readonly breaksAt?: string;
  /** The checks behind the verdict (`id`, or `id/lease`). */
  readonly because: readonly string[];
  readonly vault: { readonly address: string; readonly namespace?: string };
  readonly checks: readonly Check[];
  /** Why the target could not be diagnosed (verdict `unknown`). */
  readonly error?: string;
  /**
   * Its open incidents, as the renew runs (`code`, or `code/lease`) and the
   * rotations of its secrets (`rotation/<kind>/<code>`) told them; when diagnose has the table.
   */
  readonly incidents?: readonly (OpenIncident & { readonly key: string })[];
  /** Why the incidents could not be listed. */
  readonly incidentsError?: string;
  /** Secrets Manager's rotation of its AppRole and token secrets, when diagnose may describe them. */
  readonly rotation?: RotationStatus;
  readonly durationMs: number;
}

export interface DiagnosisSummary {
  readonly targets: number;
  readonly healthy: number;
  readonly atRisk: number;
  readonly broken: number;
  readonly unknown: number;
}

export interface DiagnosisReport {
  readonly schema: typeof DIAGNOSIS_SCHEMA;
  readonly runId: string;
  readonly diagnosedAt: string;
  readonly durationMs: number;
  /** Whether the event asked for real AppRole logins. */
  readonly login: boolean;
  readonly summary: DiagnosisSummary;
  readonly targets: readonly TargetDiagnosis[];
}
