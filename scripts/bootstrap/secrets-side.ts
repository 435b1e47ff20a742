/**
 * The bootstrap's steps in Secrets Manager, through the provisioning adapter
 * (functions/aws/secret-provisioning.ts): the target's documents as the
 * renewer reads them, written under deterministic request tokens so that a
 * retried run adds no secret version, and tagged when IAM grants by tag.
 */

import { deterministicRequestToken } from '../../functions/aws/client-request-token.js';
import type {
  ProvisionedSecret,
  SecretProvisioning,
  SecretTag,
} from '../../functions/aws/secret-provisioning.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { renderTokenDocument } from '../../functions/core/secret-documents.js';
import type { TokenInfo } from '../../functions/core/vault-port.js';
import { ACCESS_TAG_VALUE } from '../../infra/secret-grants.js';
import { FLEET_TAG_KEY } from './ownership.js';
import type { TargetPlan } from './target-plan.js';

/** The target's secrets every login route has: its token and lease secrets. */
export type SecretsPlan = Pick<TargetPlan, 'name' | 'tokenSecretId' | 'leases'>;

/** Where the target's secrets go; `kmsKeyId` applies to secrets this creates. */
export interface SecretsSide {
  readonly secrets: SecretProvisioning;
  readonly plan: SecretsPlan;
  readonly kmsKeyId: string | undefined;
  readonly log: (line: string) => void;
  /** Waits for the turn of the next write (create, put, tag): they share AWS's 50/s. */
  readonly pace: () => Promise<void>;
  /** Tags a secret this creates gets with it (the access tags), by secret id. */
  readonly tagsFor: (secretId: string) => readonly SecretTag[];
}

export interface StoredDocument {
  readonly secret: ProvisionedSecret;
  /** The SecretString as a JSON object; undefined when absent or not one (it is then replaced). */
  readonly document: Record<string, unknown> | undefined;
}

export async function readDocument(side: SecretsSide, secretId: string): Promise<StoredDocument> {
  const secret = await side.secrets.read(secretId);
  return { secret, document: parseJsonObject(secret.text) };
}

/** The AppRole credentials: role_id and secret_id, keys we do not own kept. */
export async function storeCredentials(
  side: SecretsSide,
  plan: TargetPlan,
  stored: StoredDocument,
  credentials: {
    readonly roleBase: string;
    readonly roleId: string;
    readonly secretId: string;
    readonly secretIdAccessor: string;
  },
): Promise<void> {
  const document = JSON.stringify({
    ...(stored.document ?? {}),
    role_id: credentials.roleId,
    secret_id: credentials.secretId,
    secret_id_accessor: credentials.secretIdAccessor,
    mount: plan.mount,
    role: plan.roleName,
    managed_by: 'vault-renewer',
  });
  const outcome = await write(side, plan.approleSecretId, stored.secret, document, {
    description: `vault-renewer: AppRole credentials of ${plan.name} (${credentials.roleBase})`,
    version: credentials.secretIdAccessor,
  });
  side.log(`secret ${plan.approleSecretId}: ${outcome} (role_id, secret_id)`);
}

/** The login's token, in the document the renewer reads and rewrites. */
export async function storeToken(
  side: SecretsSide,
  stored: StoredDocument,
  token: string,
  info: TokenInfo,
  nowMs: number,
): Promise<void> {
  const { plan } = side;
  const document = renderTokenDocument(stored.document ?? {}, {
    token,
    accessor: info.accessor,
    renewable: info.renewable === true,
    policies: info.policies,
    tokenType: info.type,
    issuedAt: info.issueTime ?? new Date(nowMs).toISOString(),
    expiresAt: info.expireTime,
    ttlSeconds: info.ttlSeconds,
  });
  const outcome = await write(side, plan.tokenSecretId, stored.secret, document, {
    description: `vault-renewer: Vault token of ${plan.name}, kept alive by the renewer`,
    version: info.accessor,
  });
  side.log(`secret ${plan.tokenSecretId}: ${outcome} (the AppRole login's token)`);
}

/** Lease secrets: created empty, the renewer issues the leases on its next run. */
export async function createLeaseSecrets(side: SecretsSide): Promise<void> {
  const { plan, log } = side;
  for (const lease of plan.leases) {
    const existing = await side.secrets.describe(lease.secretId);
    if (existing.exists) {
      log(`secret ${lease.secretId}: exists, left alone (lease ${lease.name})`);
      continue;
    }
    await write(side, lease.secretId, existing, '{}', {
      description: `vault-renewer: lease ${lease.name} of ${plan.name} (${lease.reissuePath})`,
      version: 'empty',
    });
    log(
      `secret ${lease.secretId}: created as {} (the renewer issues lease ${lease.name} on its next run)`,
    );
  }
}

/** A target's secrets as the tags see them: a jwt target has no AppRole secret. */
export interface TargetSecrets {
  readonly approleSecretId?: string;
  readonly tokenSecretId: string;
  readonly leases: readonly { readonly secretId: string }[];
}

/**
 * The tags each of a target's secrets must carry: the fleet's (ownership.ts),
 * then those IAM grants by: `secretAccess.tag` on every secret; with
 * `secretAccess.byTag`, the AppRole secret `read-only` (renew may never
 * write it), the token and lease secrets `read-write`.
 */
export function secretTags(
  secrets: TargetSecrets,
  fleet: string,
  access: RenewerConfig['secretAccess'],
): Map<string, SecretTag[]> {
  const approle = secrets.approleSecretId;
  const written = [secrets.tokenSecretId, ...secrets.leases.map((l) => l.secretId)].filter(
    (id) => id !== approle,
  );
  const tags = new Map<string, SecretTag[]>();
  const add = (id: string, ...more: SecretTag[]) =>
    tags.set(id, [...(tags.get(id) ?? []), ...more]);
  for (const id of new Set([...(approle === undefined ? [] : [approle]), ...written])) {
    add(
      id,
      { key: FLEET_TAG_KEY, value: fleet },
      ...(access?.tag === undefined ? [] : [access.tag]),
    );
  }
  const key = access?.byTag?.key;
  if (key !== undefined) {
    if (approle !== undefined) add(approle, { key, value: ACCESS_TAG_VALUE.ReadOnly });
    for (const id of new Set(written)) add(id, { key, value: ACCESS_TAG_VALUE.ReadWrite });
  }
  return tags;
}

/** `version` names what is written (an accessor, "empty"): same version, same request token. */
async function write(
  side: SecretsSide,
  secretId: string,
  existing: ProvisionedSecret,
  value: string,
  about: { readonly description: string; readonly version: string },
): Promise<'created' | 'updated'> {
  await side.pace();
  const tags = existing.exists ? [] : side.tagsFor(secretId);
  const outcome = await side.secrets.write({
    secretId,
    value,
    exists: existing.exists,
    clientRequestToken: deterministicRequestToken('vault-bootstrap', secretId, about.version),
    target: side.plan.name,
    description: about.description,
    ...(side.kmsKeyId === undefined ? {} : { kmsKeyId: side.kmsKeyId }),
    ...(tags.length === 0 ? {} : { tags }),
  });
  for (const tag of tags)
    side.log(`secret ${secretId}: tagged ${tag.key}=${tag.value} (created with it)`);
  return outcome;
}

/** The text as a JSON object; `undefined` when absent or not one. */
export function parseJsonObject(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
