/**
 * AppRole secret_id issue and destroy, for rotation: paths and answer fields
 * (vault-facts §6.2). Called with the rotator's token.
 */

import type { SecretIdPort } from '../core/secret-id-port.js';
import { roleSegment } from './address.js';
import { dataOf, numberOr, optionalString, unexpected } from './decode.js';
import { authenticated, type VaultCall } from './transport.js';

export function secretIdEndpoints(call: VaultCall): SecretIdPort {
  const roleBase = (mount: string, role: string) => `auth/${mount}/role/${roleSegment(role)}`;
  return {
    async issueSecretId(endpoint, token, mount, role, metadata, callOptions) {
      const answer = await call(
        endpoint,
        authenticated('POST', `${roleBase(mount, role)}/secret-id`, token, {
          body: { metadata: JSON.stringify(metadata) },
          // Each attempt Vault acts on creates a secret_id: never sent twice.
          spends: true,
        }),
        callOptions,
      );
      const data = dataOf(answer);
      const secretId = optionalString(data.secret_id);
      const accessor = optionalString(data.secret_id_accessor);
      if (secretId === undefined || accessor === undefined) {
        throw unexpected(answer, 'the "data" object lacks secret_id or secret_id_accessor');
      }
      return {
        secretId,
        accessor,
        ttlSeconds: numberOr(data.secret_id_ttl, 0),
        numUses: numberOr(data.secret_id_num_uses, 0),
      };
    },

    async destroySecretIdByAccessor(endpoint, token, mount, role, accessor, callOptions) {
      await call(
        endpoint,
        authenticated('POST', `${roleBase(mount, role)}/secret-id-accessor/destroy`, token, {
          body: { secret_id_accessor: accessor },
        }),
        callOptions,
      );
    },
  };
}
