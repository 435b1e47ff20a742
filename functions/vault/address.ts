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

export function parseAddress(
  address: string,
  request: VaultRequest,
): { readonly origin: string; readonly pathPrefix: string } {
  const details = { kind: 'bad-request' as const, method: request.method, path: request.path };
  const problem = pathProblem(request.path);
  if (problem !== undefined) {
    throw new VaultError(`Vault ${request.method} ${request.path}: the path ${problem}`, details);
  }
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    // The address is not repeated: it could carry credentials.
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address is not a URL`,
      details,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address must be http:// or https://`,
      details,
    );
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new VaultError(
      `Vault ${request.method} ${request.path}: the address must not carry credentials, a query or a fragment`,
      details,
    );
  }
  // A reverse proxy may serve Vault under a prefix: https://host/vault → /vault/v1/...
  return { origin: url.origin, pathPrefix: url.pathname.replace(/\/+$/, '') };
}
