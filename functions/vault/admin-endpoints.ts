/**
 * Vault's administrative endpoints, typed: what an administrator's token
 * reads and writes to set a target up (auth mounts, ACL policies, AppRole
 * roles, role ids, secret ids). Paths and answer fields live here; the set-up
 * steps (scripts/bootstrap/) decide what to do with them. Built on
 * admin.ts, so every call has the renewer's deadline, retries and redaction.
 */

import { roleSegment } from './address.js';
import type { AdminCallOptions, AdminMethod, VaultAdmin } from './admin.js';
import { dataOf, optionalString, recordOf, stringList } from './decode.js';
import { VaultHttpError } from './errors.js';

/** A secret_id's state as `secret-id/lookup` answers it; `undefined` when Vault does not know it. */
export interface AdminSecretIdInfo {
  readonly accessor: string;
  /** ISO time; `null` when it never expires (Vault answers its zero time). */
  readonly expirationTime: string | null;
  /** 0 when unlimited. */
  readonly usesLeft: number;
}

export interface VaultAdminEndpoints {
  /** The administrator's own token's policies. */
  ownPolicies(): Promise<readonly string[]>;
  /** Auth methods by path (`approle/`) and type. */
  authMounts(): Promise<Readonly<Record<string, string>>>;
  enableAuth(mount: string, type: string): Promise<void>;
  /** The policy's HCL, or `undefined` when there is none by that name. */
  readPolicy(name: string): Promise<string | undefined>;
  writePolicy(name: string, hcl: string): Promise<void>;
  /**
   * A role's settings as Vault answers them (`auth/<mount>/role/<role>`, an
   * AppRole or a jwt role alike), or `undefined` when the role does not exist.
   */
  readAppRole(mount: string, role: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  /** An auth method's configuration (`auth/<mount>/config`), or `undefined` when it has none. */
  readAuthConfig(mount: string): Promise<Readonly<Record<string, unknown>> | undefined>;
  writeAuthConfig(mount: string, settings: Readonly<Record<string, unknown>>): Promise<void>;
  /** Names of the ACL policies. */
  listPolicies(): Promise<readonly string[]>;
  deletePolicy(name: string): Promise<void>;
  /** Deletes the role, and with it every secret_id it has. */
  deleteAppRole(mount: string, role: string): Promise<void>;
  /** Accessors of the role's secret_ids (none when the role has none or does not exist). */
  secretIdAccessors(mount: string, role: string): Promise<readonly string[]>;
  /** The metadata a secret_id was issued with; `undefined` when Vault does not know the accessor. */
  secretIdMetadata(
    mount: string,
    role: string,
    accessor: string,
  ): Promise<Readonly<Record<string, string>> | undefined>;
  /** Revokes a token (and its leases and children) by accessor; `false` when Vault does not know it. */
  revokeTokenByAccessor(accessor: string): Promise<boolean>;
  /** Revokes a lease; `false` when Vault does not know it. */
  revokeLease(leaseId: string): Promise<boolean>;
  writeAppRole(
    mount: string,
    role: string,
    settings: Readonly<Record<string, unknown>>,
  ): Promise<void>;
  roleId(mount: string, role: string): Promise<string>;
  /** A new secret_id; `metadata` is stored with it (never secret). Never sent twice. */
  issueSecretId(
    mount: string,
    role: string,
    metadata: Readonly<Record<string, string>>,
  ): Promise<{ readonly secretId: string; readonly accessor: string }>;
  lookupSecretId(
    mount: string,
    role: string,
    secretId: string,
  ): Promise<AdminSecretIdInfo | undefined>;
  destroySecretIdByAccessor(mount: string, role: string, accessor: string): Promise<void>;
}

/** An error answer that says Vault does not know the thing (`invalid accessor`, `invalid lease`). */
function isUnknown(error: unknown, phrase: string): boolean {
  return (
    error instanceof VaultHttpError &&
    (error.status === 400 || error.status === 403 || error.status === 404) &&
    error.vaultErrors.some((e) => e.toLowerCase().includes(phrase))
  );
}

/** Vault's way of saying "never" in secret_id lookups. */
const NO_EXPIRY = '0001-01-01T00:00:00Z';

export function adminEndpoints(admin: VaultAdmin): VaultAdminEndpoints {
  const roleBase = (mount: string, role: string) => `auth/${mount}/role/${roleSegment(role)}`;
  /**
   * The `data` object of the answer, by decode.ts's one rule (an answer
   * without one is an unexpected answer naming the call, never an empty
   * read); `undefined` when Vault answered with no body (204, or 404 with
   * `missingOk`).
   */
  const dataFrom = async (
    method: AdminMethod,
    path: string,
    body?: Readonly<Record<string, unknown>>,
    options?: AdminCallOptions,
  ): Promise<Record<string, unknown> | undefined> => {
    const answer = await admin.call(method, path, body, options);
    return answer === undefined
      ? undefined
      : dataOf({
          status: 200,
          body: answer,
          // LIST is sent as GET ?list=true (transport.ts).
          request: { method: method === 'LIST' ? 'GET' : method, path, secrets: [] },
        });
  };
  return {
    async ownPolicies() {
      return stringList((await dataFrom('GET', 'auth/token/lookup-self'))?.policies);
    },

    async authMounts() {
      const mounts = (await dataFrom('GET', 'sys/auth')) ?? {};
      return Object.fromEntries(
        Object.entries(mounts).map(([path, entry]) => [
          path,
          optionalString(recordOf(entry)?.type) ?? '',
        ]),
      );
    },

    async enableAuth(mount, type) {
      await admin.call('POST', `sys/auth/${mount}`, { type });
    },

    async readPolicy(name) {
      const data = await dataFrom('GET', `sys/policies/acl/${name}`, undefined, {
        missingOk: true,
      });
      return data === undefined ? undefined : optionalString(data.policy);
    },

    async writePolicy(name, hcl) {
      await admin.call('PUT', `sys/policies/acl/${name}`, { policy: hcl });
    },

    async readAppRole(mount, role) {
      return dataFrom('GET', roleBase(mount, role), undefined, { missingOk: true });
    },

    async readAuthConfig(mount) {
      return dataFrom('GET', `auth/${mount}/config`, undefined, { missingOk: true });
    },

    async writeAuthConfig(mount, settings) {
      await admin.call('POST', `auth/${mount}/config`, settings);
    },

    async listPolicies() {
      return stringList(
        (await dataFrom('LIST', 'sys/policies/acl', undefined, { missingOk: true }))?.keys,
      );
    },

    async deletePolicy(name) {
      await admin.call('DELETE', `sys/policies/acl/${name}`);
    },

    async deleteAppRole(mount, role) {
      await admin.call('DELETE', roleBase(mount, role));
    },

    async secretIdAccessors(mount, role) {
      const data = await dataFrom('LIST', `${roleBase(mount, role)}/secret-id`, undefined, {
        missingOk: true,
      });
      return stringList(data?.keys);
    },

    async secretIdMetadata(mount, role, accessor) {
      let data: Record<string, unknown> | undefined;
      try {
        data = await dataFrom('POST', `${roleBase(mount, role)}/secret-id-accessor/lookup`, {
          secret_id_accessor: accessor,
        });
      } catch (error) {
        // Vault and OpenBao answer an unknown accessor with an error, not a 404.
        if (isUnknown(error, 'invalid secret id accessor')) return undefined;
        throw error;
      }
      if (data === undefined) return undefined;
      const metadata = recordOf(data.metadata) ?? {};
      return Object.fromEntries(
        Object.entries(metadata).filter((entry): entry is [string, string] => {
          return typeof entry[1] === 'string';
        }),
      );
    },

    async revokeTokenByAccessor(accessor) {
      try {
        await admin.call(
          'POST',
          'auth/token/revoke-accessor',
          { accessor },
          { secrets: [accessor] },
        );
        return true;
      } catch (error) {
        if (isUnknown(error, 'invalid accessor')) return false;
        throw error;
      }
    },

    async revokeLease(leaseId) {
      try {
        await admin.call('PUT', 'sys/leases/revoke', { lease_id: leaseId }, { secrets: [leaseId] });
        return true;
      } catch (error) {
        if (isUnknown(error, 'invalid lease')) return false;
        throw error;
      }
    },

    async writeAppRole(mount, role, settings) {
      await admin.call('POST', roleBase(mount, role), settings);
    },

    async roleId(mount, role) {
      return (
        optionalString((await dataFrom('GET', `${roleBase(mount, role)}/role-id`))?.role_id) ?? ''
      );
    },

    async issueSecretId(mount, role, metadata) {
      const issued = await dataFrom(
        'POST',
        `${roleBase(mount, role)}/secret-id`,
        { metadata: JSON.stringify(metadata) },
        // Each attempt Vault acts on creates a secret_id: never sent twice.
        { spends: true },
      );
      return {
        secretId: optionalString(issued?.secret_id) ?? '',
        accessor: optionalString(issued?.secret_id_accessor) ?? '',
      };
    },

    async lookupSecretId(mount, role, secretId) {
      // 204 (no body) when Vault does not know it: expired, used up or destroyed.
      const data = await dataFrom(
        'POST',
        `${roleBase(mount, role)}/secret-id/lookup`,
        { secret_id: secretId },
        { secrets: [secretId] },
      );
      if (data === undefined) return undefined;
      const expiration = optionalString(data.expiration_time) ?? NO_EXPIRY;
      const uses = data.secret_id_num_uses;
      return {
        accessor: optionalString(data.secret_id_accessor) ?? '',
        expirationTime: expiration.startsWith('0001-01-01') ? null : expiration,
        usesLeft: typeof uses === 'number' ? uses : 0,
      };
    },

    async destroySecretIdByAccessor(mount, role, accessor) {
      await admin.call('POST', `${roleBase(mount, role)}/secret-id-accessor/destroy`, {
        secret_id_accessor: accessor,
      });
    },
  };
}
