/**
 * What the diagnose function needs from Vault beyond the renewal domain's
 * {@link VaultPort}: reads of the AppRole role, the auth mount's tuning and a
 * secret_id's metadata, which explain *why* a token will die when. The
 * `vault/` adapter implements it; tests may implement it in memory.
 *
 * These reads need rights a workload token usually lacks (an operator's
 * `read` on `auth/<mount>/role/<role>`): a refusal comes back as an error of
 * kind `permission-denied`, and the caller reports the value as not readable
 * and labels what it derives without it as an assumption.
 */

import type { CallOptions, VaultEndpoint } from './vault-port.js';

/** `data` of `GET auth/<mount>/role/<role>` (vault-facts §6.1), the parts diagnose uses. 0 = not set. */
export interface AppRoleRoleSettings {
  readonly tokenTtlSeconds: number;
  readonly tokenMaxTtlSeconds: number;
  readonly tokenPeriodSeconds: number;
  readonly tokenExplicitMaxTtlSeconds: number;
  /** `service`, `batch`, or `default` (the mount's default, normally service). */
  readonly tokenType: string;
  readonly tokenNumUses: number;
  readonly tokenNoDefaultPolicy: boolean;
  readonly tokenPolicies: readonly string[];
  readonly bindSecretId: boolean;
  /** 0: secret_ids never expire. */
  readonly secretIdTtlSeconds: number;
  /** 0: unlimited logins per secret_id. */
  readonly secretIdNumUses: number;
}

/** `GET sys/mounts/auth/<mount>/tune`: the mount's effective lease TTLs (system values when not tuned). */
export interface MountTuning {
  readonly defaultLeaseTtlSeconds: number;
  readonly maxLeaseTtlSeconds: number;
}

/** A jwt role as the renewer's login depends on it. */
export interface JwtRoleSettings {
  readonly roleType: string;
  readonly boundAudiences: readonly string[];
  readonly boundSubject: string;
  /** Claim (JSON pointer or name) → the values it must hold. */
  readonly boundClaims: Readonly<Record<string, readonly string[]>>;
}

export interface VaultInspectionPort {
  /** A jwt role, or undefined when it does not exist (404). */
  readJwtRole(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    role: string,
    options?: CallOptions,
  ): Promise<JwtRoleSettings | undefined>;
  /** The jwt mount's `oidc_discovery_url` (empty when it trusts keys instead), or undefined (404). */
  readJwtIssuer(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    options?: CallOptions,
  ): Promise<string | undefined>;
  /** The role's settings, or undefined when the role does not exist (404). */
  readAppRoleRole(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    role: string,
    options?: CallOptions,
  ): Promise<AppRoleRoleSettings | undefined>;
  readAuthMountTuning(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    options?: CallOptions,
  ): Promise<MountTuning>;
  /**
   * `auth/token/revoke-self`. Only ever called with the token a requested
   * login test just created, so the test leaves no token behind.
   */
  revokeSelf(endpoint: VaultEndpoint, token: string, options?: CallOptions): Promise<void>;
}
