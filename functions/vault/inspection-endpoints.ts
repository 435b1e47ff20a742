/**
 * Read-only questions diagnose (and the renewer's health check) ask Vault:
 * capabilities, health, AppRole role settings, mount tuning, secret_id lookup.
 */

import type {
  AppRoleRoleSettings,
  MountTuning,
  VaultInspectionPort,
} from '../core/vault-inspection-port.js';
import type {
  CallOptions,
  SecretIdInfo,
  VaultEndpoint,
  VaultHealth,
  VaultPort,
} from '../core/vault-port.js';
import { roleSegment } from './address.js';
import {
  dataOf,
  foundNothing,
  isHealthBody,
  numberOr,
  optionalString,
  recordOf,
  requiredNumber,
  stringList,
  unexpected,
} from './decode.js';
import { authenticated, type VaultCall } from './transport.js';

export function inspectionEndpoints(
  call: VaultCall,
): Pick<
  VaultPort & VaultInspectionPort,
  | 'capabilitiesSelf'
  | 'health'
  | 'readAppRoleRole'
  | 'readJwtRole'
  | 'readJwtIssuer'
  | 'readAuthMountTuning'
  | 'lookupSecretId'
> {
  /** A GET with the target's token: its `data`, or `undefined` when Vault has nothing there (404). */
  const readOrNothing = async (
    endpoint: VaultEndpoint,
    token: string,
    path: string,
    callOptions: CallOptions | undefined,
  ): Promise<Record<string, unknown> | undefined> => {
    const answer = await call(
      endpoint,
      authenticated('GET', path, token, { acceptAnswer: foundNothing }),
      callOptions,
    );
    return answer.status === 404 ? undefined : dataOf(answer);
  };
  return {
    async capabilitiesSelf(endpoint, token, paths, callOptions) {
      const answer = await call(
        endpoint,
        authenticated('POST', 'sys/capabilities-self', token, {
          body: { paths: [...paths] },
        }),
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      // sys/capabilities-self is on Vault's legacy inject list: keys appear under `data`
      // and at the top level. Prefer `data`; accept either.
      const data = recordOf(body.data) ?? body;
      const result: Record<string, readonly string[]> = {};
      for (const path of paths) {
        const listed =
          data[path] ?? body[path] ?? (paths.length === 1 ? data.capabilities : undefined);
        if (!Array.isArray(listed)) {
          throw unexpected(answer, `the body lists no capabilities for the path "${path}"`);
        }
        result[path] = stringList(listed);
      }
      return result;
    },

    async health(endpoint, callOptions) {
      // Status-code overrides make every state answer 200; a proxy or an old Vault that
      // ignores them still sends the health body with 429/472/473/501/503, so accept it.
      const answer = await call(
        endpoint,
        {
          method: 'GET',
          path: 'sys/health',
          query: 'standbyok=true&perfstandbyok=true&sealedcode=200&uninitcode=200',
          secrets: [],
          acceptAnswer: (_status, body) => isHealthBody(body),
        },
        callOptions,
      );
      const body = recordOf(answer.body);
      if (body === undefined || !isHealthBody(body)) {
        throw unexpected(answer, 'the body is not a sys/health report');
      }
      return {
        initialized: body.initialized === true,
        sealed: body.sealed === true,
        standby: body.standby === true,
        version: optionalString(body.version) ?? '',
        status: answer.status,
        ...(typeof body.server_time_utc === 'number'
          ? { serverTimeUtc: body.server_time_utc }
          : {}),
      } satisfies VaultHealth;
    },

    async readJwtRole(endpoint, token, mount, role, callOptions) {
      const data = await readOrNothing(
        endpoint,
        token,
        `auth/${mount}/role/${roleSegment(role)}`,
        callOptions,
      );
      if (data === undefined) return undefined;
      const claims = recordOf(data.bound_claims) ?? {};
      return {
        roleType: optionalString(data.role_type) ?? '',
        boundAudiences: stringList(data.bound_audiences),
        boundSubject: optionalString(data.bound_subject) ?? '',
        boundClaims: Object.fromEntries(
          Object.entries(claims).map(([claim, value]) => [
            claim,
            Array.isArray(value) ? stringList(value) : typeof value === 'string' ? [value] : [],
          ]),
        ),
      };
    },

    async readJwtIssuer(endpoint, token, mount, callOptions) {
      const data = await readOrNothing(endpoint, token, `auth/${mount}/config`, callOptions);
      return data === undefined ? undefined : (optionalString(data.oidc_discovery_url) ?? '');
    },

    async readAppRoleRole(endpoint, token, mount, role, callOptions) {
      const data = await readOrNothing(
        endpoint,
        token,
        `auth/${mount}/role/${roleSegment(role)}`,
        callOptions,
      );
      if (data === undefined) return undefined;
      return {
        tokenTtlSeconds: numberOr(data.token_ttl, 0),
        tokenMaxTtlSeconds: numberOr(data.token_max_ttl, 0),
        // `period` and `policies` are the pre-1.2 names of these fields.
        tokenPeriodSeconds: numberOr(data.token_period ?? data.period, 0),
        tokenExplicitMaxTtlSeconds: numberOr(data.token_explicit_max_ttl, 0),
        tokenType: optionalString(data.token_type) ?? 'default',
        tokenNumUses: numberOr(data.token_num_uses, 0),
        tokenNoDefaultPolicy: data.token_no_default_policy === true,
        tokenPolicies: stringList(data.token_policies ?? data.policies),
        bindSecretId: data.bind_secret_id !== false,
        secretIdTtlSeconds: numberOr(data.secret_id_ttl, 0),
        secretIdNumUses: numberOr(data.secret_id_num_uses, 0),
      } satisfies AppRoleRoleSettings;
    },

    async readAuthMountTuning(endpoint, token, mount, callOptions) {
      // sys/mounts/auth/<mount>/tune needs `read` only; sys/auth/<mount>/tune needs sudo.
      const answer = await call(
        endpoint,
        authenticated('GET', `sys/mounts/auth/${mount}/tune`, token),
        callOptions,
      );
      const body = recordOf(answer.body) ?? {};
      // On Vault's legacy inject list (`/v1/sys/mounts*`): keys under `data` and at the top level.
      const data = recordOf(body.data) ?? body;
      return {
        defaultLeaseTtlSeconds: numberOr(data.default_lease_ttl, 0),
        maxLeaseTtlSeconds: requiredNumber(answer, data, 'max_lease_ttl', 'data.max_lease_ttl'),
      } satisfies MountTuning;
    },

    async lookupSecretId(endpoint, token, mount, role, secretId, callOptions) {
      const answer = await call(
        endpoint,
        authenticated('POST', `auth/${mount}/role/${roleSegment(role)}/secret-id/lookup`, token, {
          body: { secret_id: secretId },
          secrets: [secretId],
        }),
        callOptions,
      );
      // An unknown secret_id (wrong, used up, expired and tidied) is a 204 without a body.
      if (answer.status === 204 || answer.body === undefined) return undefined;
      const data = dataOf(answer);
      const expiration = optionalString(data.expiration_time);
      return {
        expirationTime:
          expiration === undefined || expiration.startsWith('0001-01-01') ? null : expiration,
        usesLeft: numberOr(data.secret_id_num_uses, 0),
        ttlSeconds: numberOr(data.secret_id_ttl, 0),
      } satisfies SecretIdInfo;
    },
  };
}
