/**
 * What the renewal domain needs from the secret store (AWS Secrets Manager in
 * production). The `aws/` adapter implements it; it moves bytes and never
 * decides anything.
 */

export interface StoredSecret {
  readonly secretId: string;
  /** The SecretString. A secret: never log it. */
  readonly value: string;
  readonly versionId: string;
}

/** A per-secret read failure (BatchGetSecretValue `Errors[]`, or a whole batch that failed). */
export interface SecretReadFailure {
  readonly secretId: string;
  /** e.g. `ResourceNotFoundException`, `AccessDeniedException`, `DecryptionFailure`, `ThrottlingException`. */
  readonly code: string;
  /** AWS's message; AWS does not echo secret values in it. */
  readonly message: string;
}

/** Failure codes that are the service's trouble (throttled, failing, out of reach), not one secret's. */
const SERVICE_TROUBLE: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'InternalServiceError',
  'InternalFailure',
  'ServiceUnavailable',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'TimeoutError',
  'AbortError',
  'RequestTimeout',
]);

/** Whether every secret read now would fail the same way: a cause all targets share. */
export function isServiceTrouble(failure: SecretReadFailure): boolean {
  return SERVICE_TROUBLE.has(failure.code);
}

export type SecretReadResult =
  | { readonly ok: true; readonly secret: StoredSecret }
  | { readonly ok: false; readonly failure: SecretReadFailure };

export interface SecretWrite {
  readonly secretId: string;
  readonly value: string;
  /** Deterministic idempotency key (32-64 chars) so a retried write cannot create a second version. */
  readonly clientRequestToken: string;
}

/** The version a write made, now AWSCURRENT. */
export interface WrittenVersion {
  readonly versionId: string;
  /** The secret's ARN as AWS answered; the id written to when the answer held none. */
  readonly arn: string;
}

/**
 * The most ids one {@link SecretsStore.readBatch} takes: BatchGetSecretValue
 * accepts 20 in `SecretIdList`; the SDK does not check it, the service does
 * (aws-facts §1.2). `secret-reads.ts` packs ids into reads of this size; no
 * one else splits them.
 */
export const SECRET_IDS_PER_READ = 20;

export interface SecretsStore {
  /**
   * Reads up to {@link SECRET_IDS_PER_READ} ids in one BatchGetSecretValue
   * call; one result per id, never throws for a single bad id.
   */
  readBatch(
    secretIds: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<ReadonlyMap<string, SecretReadResult>>;
  /** PutSecretValue; returns the new version. Throws {@link SecretWriteError} on failure. */
  write(request: SecretWrite, options?: { readonly signal?: AbortSignal }): Promise<WrittenVersion>;
  /**
   * The version before the current one (AWSPREVIOUS); `undefined` when the
   * secret has none. Throws when the secret cannot be read. Optional: a store
   * without it retires no replaced credential.
   */
  readPrevious?(
    secretId: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<StoredSecret | undefined>;
}
