/**
 * Errors thrown by the `aws/` adapters, born redacted: a message names the
 * secret id or topic ARN and AWS's error code, never a SecretString or a
 * message body. `cause` is always the original SDK error.
 */

/** What every failed AWS call tells us, read once from the SDK's error. */
export interface AwsFailure {
  /**
   * The SDK's error name: the wire code for Secrets Manager
   * (`ResourceNotFoundException`), the modelled exception for SNS
   * (`NotFoundException` for wire `NotFound`, aws-facts §2.2), or `AbortError`,
   * `ECONNREFUSED`, ... when no service answered.
   */
  readonly code: string;
  /** AWS's (or Node's) message, with any planted value already removed. */
  readonly message: string;
  /** HTTP status when the service answered; absent for network errors and aborts. */
  readonly httpStatusCode?: number;
}

const UNKNOWN_CODE = 'UnknownError';
const REDACTED = '[REDACTED]';

/**
 * Reads the code, message and status out of whatever `client.send()` threw.
 * The SDK names a service exception after its wire code (`error.name`) and puts
 * the status in `$metadata` (aws-facts §2.4); Node network errors carry `code`.
 * `redact` lists strings that must not survive into the message (a value we
 * sent), in case a service ever echoes one.
 */
export function describeAwsFailure(error: unknown, redact: readonly string[] = []): AwsFailure {
  if (!(error instanceof Error)) {
    return { code: UNKNOWN_CODE, message: redactAll(String(error), redact) };
  }
  const status = (error as { $metadata?: { httpStatusCode?: unknown } }).$metadata?.httpStatusCode;
  const systemCode = (error as { code?: unknown }).code;
  // The SDK attaches `$metadata` to network errors too; only an HTTP status
  // means the service answered and `name` is its code.
  const code =
    typeof status !== 'number' && typeof systemCode === 'string' && systemCode !== ''
      ? systemCode
      : error.name || UNKNOWN_CODE;
  const message = redactAll(error.message, redact);
  return typeof status === 'number' ? { code, message, httpStatusCode: status } : { code, message };
}

function redactAll(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret !== '') result = result.replaceAll(secret, REDACTED);
  }
  return result;
}

/** Base of every Secrets Manager adapter error. */
export class SecretStoreError extends Error {
  override name = 'SecretStoreError';
}

/** PutSecretValue failed. The value that was being written is never part of it. */
export class SecretWriteError extends SecretStoreError {
  override name = 'SecretWriteError';
  readonly secretId: string;
  /** AWS's error code, e.g. `ResourceNotFoundException`, `ResourceExistsException`, `AccessDeniedException`. */
  readonly code: string;
  readonly httpStatusCode: number | undefined;

  constructor(secretId: string, failure: AwsFailure, options: { cause: unknown }) {
    super(
      `PutSecretValue failed for secret ${JSON.stringify(secretId)}: ${failure.code}: ${failure.message}`,
      options,
    );
    this.secretId = secretId;
    this.code = failure.code;
    this.httpStatusCode = failure.httpStatusCode;
  }
}

/** Base of every SNS adapter error. */
export class NotifierError extends Error {
  override name = 'NotifierError';
}

/**
 * The message breaks an SNS Publish constraint and was not sent. A bug in the
 * wording, not an outage: retrying will not help. `problems` names each one.
 */
export class InvalidMessageError extends NotifierError {
  override name = 'InvalidMessageError';
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`SNS message rejected before sending: ${problems.join('; ')}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** SNS Publish failed. The message body is never part of it. */
export class PublishError extends NotifierError {
  override name = 'PublishError';
  readonly topicArn: string;
  /** AWS's error code, e.g. `NotFoundException`, `AuthorizationErrorException`, `Throttling`. */
  readonly code: string;
  readonly httpStatusCode: number | undefined;

  constructor(topicArn: string, failure: AwsFailure, options: { cause: unknown }) {
    super(`SNS Publish to ${topicArn} failed: ${failure.code}: ${failure.message}`, options);
    this.topicArn = topicArn;
    this.code = failure.code;
    this.httpStatusCode = failure.httpStatusCode;
  }
}
