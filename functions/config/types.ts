/**
 * The validated, frozen shape of the target list (see `schema.ts` for the file
 * format and README "Configuration"). Everything here is already defaulted and
 * normalised: consumers never apply their own fallbacks.
 *
 * Derived from the resolved schema (`resolved-schema.ts`, where each field is
 * documented), so the shape is written once: the schema the Lambda parses at
 * cold start is the type the code reads.
 */

import type * as z from 'zod/mini';
import type { resolvedSchema } from './resolved-schema.js';

/**
 * A parsed value as the code holds it: frozen (deepFreeze), and without
 * `undefined` in optional keys (JSON never holds it: a key is absent or set).
 */
export type Frozen<T> = T extends readonly (infer U)[]
  ? readonly Frozen<U>[]
  : T extends object
    ? { readonly [K in keyof T]: Frozen<Exclude<T[K], undefined>> }
    : T;

export type RenewerConfig = Frozen<z.output<typeof resolvedSchema>>;
export type TargetConfig = RenewerConfig['targets'][number];
export type LeaseConfig = TargetConfig['leases'][number];
export type NotifyConfig = TargetConfig['notify'];
/** Which of a target's secrets Secrets Manager rotates, and when. */
export type RotationConfig = NonNullable<TargetConfig['rotation']>;
/** Secrets Manager's own `RotationRules`, applied by the deploy step. */
export type RotationRules = NonNullable<RotationConfig['approle']>;
/** How IAM scopes the functions' Secrets Manager access (package time only). */
export type SecretAccessConfig = NonNullable<RenewerConfig['secretAccess']>;
export type PacingConfig = RenewerConfig['pacing'];
