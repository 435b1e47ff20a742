/**
 * How a target logs in again, in the one shape the fix texts and checks
 * need: the auth mount and role, and the AppRole secret when it has one.
 */

import type { TargetConfig } from '../config/types.js';

export interface LoginRoute {
  readonly method: 'approle' | 'jwt';
  readonly mount: string;
  readonly roleName?: string;
  /** The AppRole secret; a jwt target keeps none and names that instead. */
  readonly secretId: string;
}

export const NO_APPROLE_SECRET = '(none: the target logs in with jwt)';

export function loginRouteOf(target: TargetConfig): LoginRoute {
  if (target.approle !== undefined) {
    return {
      method: 'approle',
      mount: target.approle.mount,
      secretId: target.approle.secretId,
      ...(target.approle.roleName === undefined ? {} : { roleName: target.approle.roleName }),
    };
  }
  return {
    method: 'jwt',
    mount: target.jwt?.mount ?? 'jwt',
    secretId: NO_APPROLE_SECRET,
    ...(target.jwt === undefined ? {} : { roleName: target.jwt.role }),
  };
}
