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

export type SecretReadResult =
  | { readonly ok: true; readonly secret: StoredSecret }
  | { readonly ok: false; readonly failure: SecretReadFailure };

export interface SecretWrite {
  readonly secretId: string;
  readonly value: string;
  /** Deterministic idempotency key (32-64 chars) so a retried write cannot create a second version. */
  readonly clientRequestToken: string;
}

export interface SecretsStore {
  /** Reads every id (20 per BatchGetSecretValue call); one result per id, never throws for a single bad id. */
  readMany(
    secretIds: readonly string[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<ReadonlyMap<string, SecretReadResult>>;
  /** PutSecretValue; returns the new VersionId. Throws {@link SecretWriteError} on failure. */
  write(request: SecretWrite, options?: { readonly signal?: AbortSignal }): Promise<string>;
}
