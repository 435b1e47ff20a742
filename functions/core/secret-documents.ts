/**
 * The JSON documents the renewer keeps in Secrets Manager, parsed and
 * rewritten. Keys the renewer does not own are carried over untouched, so
 * workloads may keep their own fields beside ours.
 */

type JsonObject = Record<string, unknown>;

/** Why a stored document cannot be used. Never quotes the document. */
export class SecretDocumentError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'SecretDocumentError';
  }
}

function parseObject(text: string, what: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new SecretDocumentError(`${what} is not valid JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new SecretDocumentError(`${what} is not a JSON object`);
  }
  return parsed as JsonObject;
}

function optionalString(doc: JsonObject, key: string, what: string): string | undefined {
  const value = doc[key];
  if (value === undefined || value === null || value === '') {
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new SecretDocumentError(`${what}: "${key}" must be a string`);
  }
  return value;
}

/** `{ "token": "...", ...learnt fields, ...foreign keys }`. */
export interface TokenDocument {
  /** Absent when the secret was created empty (`{}`) and awaits its first login. */
  readonly token?: string;
  /** Accessor of the stored token, as the renewer last wrote it. */
  readonly accessor?: string;
  readonly raw: Readonly<JsonObject>;
}

export function parseTokenDocument(text: string): TokenDocument {
  const what = 'token secret';
  const raw = parseObject(text, what);
  const token = optionalString(raw, 'token', what);
  const accessor = optionalString(raw, 'accessor', what);
  return {
    raw,
    ...(token === undefined ? {} : { token }),
    ...(accessor === undefined ? {} : { accessor }),
  };
}

export interface NewTokenFacts {
  readonly token: string;
  readonly accessor: string;
  readonly renewable: boolean;
  readonly policies: readonly string[];
  readonly tokenType: string;
  readonly issuedAt: string;
  readonly expiresAt: string | null;
  readonly ttlSeconds: number;
}

/** The token document after a login: our fields replaced, foreign keys kept. */
export function renderTokenDocument(previous: Readonly<JsonObject>, facts: NewTokenFacts): string {
  return JSON.stringify({
    ...previous,
    token: facts.token,
    accessor: facts.accessor,
    renewable: facts.renewable,
    policies: facts.policies,
    token_type: facts.tokenType,
    issued_at: facts.issuedAt,
    expires_at: facts.expiresAt,
    ttl_seconds_at_issue: facts.ttlSeconds,
    managed_by: 'vault-renewer',
  });
}

/** `{ "role_id", "secret_id" }`. */
export interface AppRoleDocument {
  readonly roleId: string;
  readonly secretId: string;
}

export function parseAppRoleDocument(text: string): AppRoleDocument {
  const what = 'AppRole secret';
  const raw = parseObject(text, what);
  const roleId = optionalString(raw, 'role_id', what);
  const secretId = optionalString(raw, 'secret_id', what);
  const missing = [roleId === undefined ? 'role_id' : '', secretId === undefined ? 'secret_id' : '']
    .filter(Boolean)
    .join(' and ');
  if (roleId === undefined || secretId === undefined) {
    throw new SecretDocumentError(`${what} lacks ${missing}`);
  }
  return { roleId, secretId };
}

/** `{ "lease_id", "lease_duration", "renewable", "data", "path", "token_accessor", ... }`. */
export interface LeaseDocument {
  /** Absent when the secret was created empty and awaits its first issue. */
  readonly leaseId?: string;
  /** Accessor of the token that issued the lease, when the renewer issued it. */
  readonly tokenAccessor?: string;
  readonly raw: Readonly<JsonObject>;
}

export function parseLeaseDocument(text: string): LeaseDocument {
  const what = 'lease secret';
  const raw = parseObject(text, what);
  const leaseId = optionalString(raw, 'lease_id', what);
  const tokenAccessor = optionalString(raw, 'token_accessor', what);
  return {
    raw,
    ...(leaseId === undefined ? {} : { leaseId }),
    ...(tokenAccessor === undefined ? {} : { tokenAccessor }),
  };
}

export interface NewLeaseFacts {
  readonly leaseId: string;
  readonly ttlSeconds: number;
  readonly renewable: boolean;
  readonly data: Readonly<Record<string, unknown>>;
  readonly path: string;
  readonly tokenAccessor: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
}

export function renderLeaseDocument(previous: Readonly<JsonObject>, facts: NewLeaseFacts): string {
  return JSON.stringify({
    ...previous,
    lease_id: facts.leaseId,
    lease_duration: facts.ttlSeconds,
    renewable: facts.renewable,
    data: facts.data,
    path: facts.path,
    token_accessor: facts.tokenAccessor,
    issued_at: facts.issuedAt,
    expires_at: facts.expiresAt,
    managed_by: 'vault-renewer',
  });
}
