/**
 * Where a Vault request goes: the address checked (no credentials, no query),
 * the logical path checked and percent-encoded segment by segment, so no
 * configured or answered string can address another path.
 */

import { VaultError } from './errors.js';
import type { VaultRequest } from './transport.js';

/** Percent-encodes each segment of a logical Vault path (already checked by `pathProblem`). */
export function encodeVaultPath(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}

/**
 * Why a logical path is unsafe, or undefined. Empty, `.` and `..` segments are
 * refused so a configured path can never climb out of `/v1/` (a `%2e%2e` stays
 * literal: `%` itself is encoded).
 */
export function pathProblem(path: string): string | undefined {
  if (path === '') return 'is empty';
  const segments = path.split('/');
  if (segments.some((segment) => segment === '.' || segment === '..')) {
    return 'contains a "." or ".." segment';
  }
  if (segments.some((segment) => segment === '')) return 'contains an empty segment ("//")';
  return undefined;
}

/** A role name is one path segment; a `/` in it would address another path. */
export function roleSegment(role: string): string {
  if (role === '' || role.includes('/')) {
    throw new TypeError('an AppRole role name must be one non-empty path segment (no "/")');
  }
  return role;
}

export function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/**
 * A path of plain segments (letters, digits, `_`, `-`, `~`): it has no
 * problem and is its own encoding, so the common case skips both checks.
 */
const PLAIN_PATH = /^[\w~-]+(?:\/[\w~-]+)*$/;

/** Where requests to one Vault address go, or why the address cannot be used. */
export type AddressBase =
  | { readonly ok: true; readonly origin: string; readonly pathPrefix: string }
  | { readonly ok: false; readonly problem: string };

/** The origin and path prefix of a Vault address; pure, so a caller may keep it per address. */
export function addressBase(address: string): AddressBase {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    // The address is not repeated: it could carry credentials.
    return { ok: false, problem: 'the address is not a URL' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { ok: false, problem: 'the address must be http:// or https://' };
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    return {
      ok: false,
      problem: 'the address must not carry credentials, a query or a fragment',
    };
  }
  // A reverse proxy may serve Vault under a prefix: https://host/vault → /vault/v1/...
  return { ok: true, origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}

/**
 * The request's origin and its path under `/v1/`, percent-encoded; throws a
 * VaultError naming the request when the path or the address is unusable.
 */
export function requestTarget(
  base: AddressBase,
  request: VaultRequest,
): { readonly origin: string; readonly path: string } {
  const plain = PLAIN_PATH.test(request.path);
  const problem = plain ? undefined : pathProblem(request.path);
  if (problem !== undefined) throw refused(request, `the path ${problem}`);
  if (!base.ok) throw refused(request, base.problem);
  const query = request.query === undefined ? '' : `?${request.query}`;
  const encoded = plain ? request.path : encodeVaultPath(request.path);
  return { origin: base.origin, path: `${base.pathPrefix}/v1/${encoded}${query}` };
}

function refused(request: VaultRequest, why: string): VaultError {
  return new VaultError(`Vault ${request.method} ${request.path}: ${why}`, {
    kind: 'bad-request',
    method: request.method,
    path: request.path,
  });
}
