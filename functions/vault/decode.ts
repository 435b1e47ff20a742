/**
 * Reading Vault's answers: JSON bodies, the `auth`/`data` envelopes, typed
 * fields with the answer named in the error, and Vault's own error strings
 * scrubbed of whatever the request sent.
 */

import { VaultUnexpectedResponseError } from './errors.js';
import type { VaultResponse } from './transport.js';

/** A body as JSON; an empty or blank body is `undefined` (a 204, an empty 200). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    // Blank is tested only here: trimming every body would copy every body.
    return BLANK.test(text) ? { ok: true, value: undefined } : { ok: false };
  }
}

/** What `String.prototype.trim` removes, and nothing else (`\s` is the same set). */
const BLANK = /^\s*$/;

export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/**
 * A read that finds nothing: 404 with `{"errors":[]}` (vault-facts §1.1). A
 * 404 with words (`no handler for route`) is a wrong path and stays an error.
 */
export function foundNothing(status: number, body: unknown): boolean {
  return status === 404 && errorsOf(body).length === 0;
}

export function errorsOf(body: unknown): string[] {
  const errors = recordOf(body)?.errors;
  return Array.isArray(errors) ? errors.filter((item) => typeof item === 'string') : [];
}

export function requestIdOf(body: unknown): string {
  return optionalString(recordOf(body)?.request_id) ?? '';
}

const MIN_SCRUBBED_LENGTH = 8;

/**
 * Vault does not echo tokens or secret_ids in `errors[]`, but whatever answers at
 * the address might (a proxy, a double, a future bug); what this request sent
 * never reaches an error.
 */
export function scrub(errors: readonly string[], secrets: readonly string[]): string[] {
  // Vault tokens and secret_ids are 24+ characters; scrubbing shorter values would
  // mangle Vault's own words (a secret_id "s" would eat every "s").
  const planted = secrets.filter((secret) => secret.length >= MIN_SCRUBBED_LENGTH);
  return errors.map((text) =>
    planted.reduce((clean, secret) => clean.split(secret).join('[redacted]'), text),
  );
}

export function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** `policies`, `warnings`: a string list, or null/absent (Vault sends `warnings: null`). */
export function stringList(value: unknown): readonly string[] {
  return Array.isArray(value) ? value.filter((item) => typeof item === 'string') : [];
}

export function stringRecord(value: unknown): Readonly<Record<string, string>> | null {
  const record = recordOf(value);
  if (record === undefined) return null;
  return Object.fromEntries(
    Object.entries(record).filter(
      (entry): entry is [string, string] => typeof entry[1] === 'string',
    ),
  );
}

/** Vault before 1.0 had no batch tokens and no `token_type`/`type` field: all were service tokens. */
export function tokenTypeOf(value: unknown): string {
  return optionalString(value) ?? 'service';
}

export function wholeSeconds(value: number, name: string): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new TypeError(`${name} must be a whole number of seconds >= 0`);
  }
  return value;
}

export function unexpected(answer: VaultResponse, problem: string): VaultUnexpectedResponseError {
  return new VaultUnexpectedResponseError(
    {
      method: answer.request.method,
      path: answer.request.path,
      status: answer.status,
      requestId: requestIdOf(answer.body),
    },
    problem,
  );
}

export function authEnvelope(answer: VaultResponse): {
  readonly auth: Record<string, unknown>;
  readonly warnings: readonly string[];
} {
  const body = recordOf(answer.body);
  const auth = recordOf(body?.auth);
  if (auth === undefined) {
    throw unexpected(
      answer,
      'the body has no "auth" object (a wrapped response, or not Vault at this address?)',
    );
  }
  return { auth, warnings: stringList(body?.warnings) };
}

export function dataOf(answer: VaultResponse): Record<string, unknown> {
  const data = recordOf(recordOf(answer.body)?.data);
  if (data === undefined) throw unexpected(answer, 'the body has no "data" object');
  return data;
}

/** `record[key]` as a number; `label` names it in the error (e.g. `auth.lease_duration`). */
export function requiredNumber(
  answer: VaultResponse,
  record: Record<string, unknown>,
  key: string,
  label = key,
): number {
  const value = record[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw unexpected(answer, `"${label}" is not a number`);
  }
  return value;
}

export function isHealthBody(body: unknown): body is Record<string, unknown> {
  const record = recordOf(body);
  return typeof record?.initialized === 'boolean' && typeof record.sealed === 'boolean';
}
