/**
 * What diagnose learnt about one target, as plain data: the input of the pure
 * checks. `observe-target.ts` fills it through the ports; tests build it by
 * hand. It may hold accessors (to compare owners) but never a token,
 * secret_id or credential, and it is never logged or returned as such.
 */

import type { TokenLiveness } from '../core/lifetime.js';
import type {
  AppRoleRoleSettings,
  JwtRoleSettings,
  MountTuning,
} from '../core/vault-inspection-port.js';
import type {
  LeaseInfo,
  SecretIdInfo,
  TokenInfo,
  VaultFailureKind,
  VaultHealth,
} from '../core/vault-port.js';

/** The result of one Vault call, or why it was not made. */
export type Observed<T> =
  | { readonly status: 'ok'; readonly value: T }
  | {
      readonly status: 'failed';
      readonly kind: VaultFailureKind;
      /** Status, kind and Vault's words (`describeAnswer`); no secrets. */
      readonly answer: string;
    }
  | { readonly status: 'not-run'; readonly reason: string };

/** A secret read from the store and parsed. */
export type StoredDocument<T> =
  | { readonly status: 'ok'; readonly value: T }
  | { readonly status: 'unreadable'; readonly answer: string }
  /** `problem` comes from the document parser, which never quotes the document. */
  | { readonly status: 'malformed'; readonly problem: string };

export interface StoredToken {
  /** False for `{}`: a secret created empty that awaits the renewer's first login. */
  readonly hasToken: boolean;
}

export interface StoredLease {
  /** False for `{}`: a secret created empty that awaits its first issue. */
  readonly hasLease: boolean;
  /** Accessor of the token that issued the lease, when the renewer recorded it. */
  readonly tokenAccessor?: string;
}

/** An AppRole role read: which one, and what Vault said (`null`: the role does not exist). */
export interface RoleObservation {
  readonly mount: string;
  readonly role: string;
  readonly settings: Observed<AppRoleRoleSettings | null>;
}

/** The optional real login (`"login": true`) and what the new token looked like. */
export interface LoginObservation {
  readonly login: Observed<{
    readonly tokenType: string;
    readonly renewable: boolean;
    readonly ttlSeconds: number;
    readonly policies: readonly string[];
    readonly warnings: readonly string[];
  }>;
  /** lookup-self with the new token: the check the renewer makes before storing one. */
  readonly verify: Observed<true>;
  /** revoke-self of the test token, so the test leaves nothing behind. */
  readonly revoke: Observed<true>;
}

export interface LeaseObservations {
  readonly name: string;
  readonly secret: StoredDocument<StoredLease>;
  readonly lookup: Observed<LeaseInfo>;
}

/** What a jwt target's login depends on in Vault, and the issuer Vault trusts. */
export interface JwtObservations {
  readonly role: Observed<JwtRoleSettings | null>;
  /** The mount's `oidc_discovery_url`. */
  readonly issuer: Observed<string | null>;
  /** The issuer its discovery document names (fetched from here; Vault's network may differ). */
  readonly discovery: Observed<string>;
}

export interface TargetObservations {
  readonly health: Observed<VaultHealth>;
  readonly tokenSecret: StoredDocument<StoredToken>;
  readonly lookup: Observed<TokenInfo>;
  readonly liveness: TokenLiveness;
  /** `sys/capabilities-self` for the paths the renewer uses. */
  readonly capabilities: Observed<Readonly<Record<string, readonly string[]>>>;
  /** The role that issued the stored token (its `meta.role_name` at its mount), when it came from an AppRole. */
  readonly tokenRole?: RoleObservation;
  /** The role of the target's AppRole credentials (config `approle.role`, else the token's role). */
  readonly approleRole?: RoleObservation;
  /** The tuning of the auth mount that issued the stored token. */
  readonly tuning?: { readonly mount: string; readonly tuning: Observed<MountTuning> };
  readonly approleSecret: StoredDocument<true>;
  readonly secretId: Observed<SecretIdInfo | null>;
  readonly login: LoginObservation | undefined;
  readonly leases: readonly LeaseObservations[];
  /** A jwt target's role and issuer. */
  readonly jwt?: JwtObservations;
}
