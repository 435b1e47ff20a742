/**
 * Vault's token verbs the renewer uses: renew-self, lookup-self, AppRole
 * and jwt login, and revoke-self, each mapped to the port's types.
 */

import type { VaultInspectionPort } from '../core/vault-inspection-port.js';
import type { LoginResult, TokenInfo, TokenRenewal, VaultPort } from '../core/vault-port.js';
import {
  authEnvelope,
  dataOf,
  numberOr,
  optionalString,
  requiredNumber,
  stringList,
  stringRecord,
  tokenTypeOf,
  unexpected,
  wholeSeconds,
} from './decode.js';
import { authenticated, type VaultCall } from './transport.js';

export function tokenEndpoints(
  call: VaultCall,
): Pick<
  VaultPort & VaultInspectionPort,
  'renewSelf' | 'lookupSelf' | 'appRoleLogin' | 'jwtLogin' | 'revokeSelf'
> {
  const login = async (
    endpoint: Parameters<VaultPort['appRoleLogin']>[0],
    mount: string,
    body: Readonly<Record<string, string>>,
    secrets: readonly string[],
    callOptions: Parameters<VaultPort['appRoleLogin']>[3],
  ): Promise<LoginResult> => {
    const answer = await call(
      endpoint,
      { method: 'POST', path: `auth/${mount}/login`, body, secrets, spends: true },
      callOptions,
    );
    const { auth, warnings } = authEnvelope(answer);
    const token = optionalString(auth.client_token);
    if (token === undefined || token === '') {
      throw unexpected(answer, 'the "auth" object has no client_token');
    }
    return {
      token,
      accessor: optionalString(auth.accessor) ?? '',
      ttlSeconds: requiredNumber(answer, auth, 'lease_duration', 'auth.lease_duration'),
      renewable: auth.renewable === true,
      policies: stringList(auth.policies),
      tokenType: tokenTypeOf(auth.token_type),
      warnings,
    } satisfies LoginResult;
  };
  return {
    async renewSelf(endpoint, token, incrementSeconds, callOptions) {
      const answer = await call(
        endpoint,
        authenticated('POST', 'auth/token/renew-self', token, {
          body: { increment: wholeSeconds(incrementSeconds, 'incrementSeconds') },
        }),
        callOptions,
      );
      const { auth, warnings } = authEnvelope(answer);
      return {
        ttlSeconds: requiredNumber(answer, auth, 'lease_duration', 'auth.lease_duration'),
        renewable: auth.renewable === true,
        accessor: optionalString(auth.accessor) ?? '',
        policies: stringList(auth.policies),
        tokenType: tokenTypeOf(auth.token_type),
        warnings,
      } satisfies TokenRenewal;
    },

    async lookupSelf(endpoint, token, callOptions) {
      // GET: the default policy grants only `read` on auth/token/lookup-self.
      const answer = await call(
        endpoint,
        authenticated('GET', 'auth/token/lookup-self', token),
        callOptions,
      );
      const data = dataOf(answer);
      const renewable = data.renewable;
      const issueTime = optionalString(data.issue_time);
      const period = data.period;
      return {
        accessor: optionalString(data.accessor) ?? '',
        policies: stringList(data.policies),
        ttlSeconds: requiredNumber(answer, data, 'ttl', 'data.ttl'),
        // Absent for the initial root token, which has no lease entry.
        ...(typeof renewable === 'boolean' ? { renewable } : {}),
        type: tokenTypeOf(data.type),
        expireTime: optionalString(data.expire_time) ?? null,
        ...(issueTime === undefined ? {} : { issueTime }),
        creationTime: numberOr(data.creation_time, 0),
        creationTtlSeconds: numberOr(data.creation_ttl, 0),
        explicitMaxTtlSeconds: numberOr(data.explicit_max_ttl, 0),
        ...(typeof period === 'number' ? { periodSeconds: period } : {}),
        numUses: numberOr(data.num_uses, 0),
        orphan: data.orphan === true,
        path: optionalString(data.path) ?? '',
        meta: stringRecord(data.meta),
      } satisfies TokenInfo;
    },

    appRoleLogin(endpoint, mount, credentials, callOptions) {
      // role_id is an identifier, not a secret (Vault logs it); secret_id is.
      return login(
        endpoint,
        mount,
        { role_id: credentials.roleId, secret_id: credentials.secretId },
        [credentials.secretId],
        callOptions,
      );
    },

    jwtLogin(endpoint, mount, credentials, callOptions) {
      // The jwt is a bearer credential for as long as it lives: never in an error.
      return login(
        endpoint,
        mount,
        { role: credentials.role, jwt: credentials.jwt },
        [credentials.jwt],
        callOptions,
      );
    },

    async revokeSelf(endpoint, token, callOptions) {
      await call(endpoint, authenticated('POST', 'auth/token/revoke-self', token), callOptions);
    },
  };
}
