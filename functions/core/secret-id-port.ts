/**
 * What AppRole rotation needs from Vault beyond the renewal verbs: issuing a
 * secret_id for a role and destroying one by its accessor, both with the
 * rotator's token (infra/vault/rotator-policy.hcl grants exactly these).
 */

import type { CallOptions, VaultEndpoint } from './vault-port.js';

/** A new secret_id. `secretId` is a secret: never log it. */
export interface IssuedSecretId {
  readonly secretId: string;
  readonly accessor: string;
  /** 0 when it never expires. */
  readonly ttlSeconds: number;
  /** 0 when unlimited. */
  readonly numUses: number;
}

export interface SecretIdPort {
  /** `auth/<mount>/role/<role>/secret-id`; never sent twice (each attempt Vault acts on creates one). */
  issueSecretId(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    role: string,
    metadata: Readonly<Record<string, string>>,
    options?: CallOptions,
  ): Promise<IssuedSecretId>;
  /** `auth/<mount>/role/<role>/secret-id-accessor/destroy`. */
  destroySecretIdByAccessor(
    endpoint: VaultEndpoint,
    token: string,
    mount: string,
    role: string,
    accessor: string,
    options?: CallOptions,
  ): Promise<void>;
}
