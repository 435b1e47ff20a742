/**
 * Vault's lease verbs: renew, look up, and issue a new lease from its path.
 */

import type { IssuedLease, LeaseInfo, LeaseRenewal, VaultPort } from '../core/vault-port.js';
import { trimSlashes } from './address.js';
import {
  dataOf,
  optionalString,
  recordOf,
  requiredNumber,
  stringList,
  unexpected,
  wholeSeconds,
} from './decode.js';
import { authenticated, type VaultCall } from './transport.js';

export function leaseEndpoints(
  call: VaultCall,
): Pick<VaultPort, 'renewLease' | 'lookupLease' | 'issueLease'> {
  return {
    async renewLease(endpoint, token, leaseId, incrementSeconds, callOptions) {
      const answer = await call(
        endpoint,
        authenticated('POST', 'sys/leases/renew', token, {
          body: {
            lease_id: leaseId,
            increment: wholeSeconds(incrementSeconds, 'incrementSeconds'),
          },
        }),
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      const echoed = optionalString(body.lease_id);
      return {
        leaseId: echoed === undefined || echoed === '' ? leaseId : echoed,
        ttlSeconds: requiredNumber(answer, body, 'lease_duration'),
        renewable: body.renewable === true,
        warnings: stringList(body.warnings),
      } satisfies LeaseRenewal;
    },

    async lookupLease(endpoint, token, leaseId, callOptions) {
      // POST: the default policy grants `update` on sys/leases/lookup. Unlike
      // capabilities-self, this route is not on the legacy inject list: fields are
      // under `data` only.
      const answer = await call(
        endpoint,
        authenticated('POST', 'sys/leases/lookup', token, {
          body: { lease_id: leaseId },
        }),
        callOptions,
      );
      const data = dataOf(answer);
      return {
        ttlSeconds: requiredNumber(answer, data, 'ttl', 'data.ttl'),
        renewable: data.renewable === true,
        expireTime: optionalString(data.expire_time) ?? null,
      } satisfies LeaseInfo;
    },

    async issueLease(endpoint, token, path, callOptions) {
      const answer = await call(
        endpoint,
        { method: 'GET', path: trimSlashes(path), token, secrets: [token], spends: true },
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      const data = recordOf(body.data);
      if (data === undefined) throw unexpected(answer, 'the body has no "data" object');
      // A path without a lease (KV, static roles) gives lease_id "": passed through, the
      // domain decides what that means for the target.
      return {
        leaseId: optionalString(body.lease_id) ?? '',
        ttlSeconds: requiredNumber(answer, body, 'lease_duration'),
        renewable: body.renewable === true,
        data,
        warnings: stringList(body.warnings),
      } satisfies IssuedLease;
    },
  };
}
