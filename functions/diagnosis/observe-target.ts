/**
 * Observes one target through the ports, read-only: lookup-self,
 * capabilities-self, the AppRole role, the mount's tuning, the secret_id's
 * metadata, lease lookups. Nothing is renewed, issued or written. The one
 * exception is asked for explicitly: `"login": true` logs in with the stored
 * AppRole credentials (spending a secret_id use), looks the new token up and
 * revokes it again.
 *
 * Every call's outcome is kept as data (`Observed`); nothing here throws for a
 * Vault failure, and nothing here decides what the answers mean.
 */

import type { TargetConfig } from '../config/types.js';
import { isRootToken, livenessAfterDenial, type TokenLiveness } from '../core/lifetime.js';
import {
  type AppRoleDocument,
  parseAppRoleDocument,
  parseLeaseDocument,
  parseTokenDocument,
} from '../core/secret-documents.js';
import type { SecretReadResult } from '../core/store-port.js';
import type { VaultInspectionPort } from '../core/vault-inspection-port.js';
import {
  isVaultFailure,
  type TokenInfo,
  type VaultEndpoint,
  VaultFailureKind,
  type VaultHealth,
  type VaultPort,
} from '../core/vault-port.js';
import { describeAnswer } from '../core/wording.js';
import { CAPABILITY_PATHS } from './capability-checks.js';
import { authMountOf } from './check-context.js';
import type {
  JwtObservations,
  LeaseObservations,
  LoginObservation,
  Observed,
  RoleObservation,
  StoredDocument,
  TargetObservations,
} from './observations.js';

/** The Vault adapter diagnose needs: the renewal port plus the inspection reads. */
export type DiagnoseVault = VaultPort & VaultInspectionPort;

export interface ObserveContext {
  readonly vault: DiagnoseVault;
  readonly signal: AbortSignal;
  /** The event asked for a real AppRole login. */
  readonly login: boolean;
  /** `sys/health` of an endpoint, shared by the targets of one run. */
  readonly health: (endpoint: VaultEndpoint) => Promise<Observed<VaultHealth>>;
  /** The issuer an OIDC discovery URL names (`<url>/.well-known/openid-configuration`). */
  readonly discover?: (url: string, signal: AbortSignal) => Promise<string>;
}

/** Runs one Vault call and keeps its outcome as data. */
export async function observe<T>(call: () => Promise<T>): Promise<Observed<T>> {
  try {
    return { status: 'ok', value: await call() };
  } catch (error) {
    return {
      status: 'failed',
      kind: isVaultFailure(error) ? error.kind : VaultFailureKind.BadRequest,
      answer: describeAnswer(error),
    };
  }
}

function notRun<T>(reason: string): Observed<T> {
  return { status: 'not-run', reason };
}

function readDocument<T, V>(
  read: SecretReadResult | undefined,
  parse: (text: string) => T,
  keep: (parsed: T) => V,
): { document: StoredDocument<V>; parsed?: T } {
  if (read === undefined) return { document: { status: 'unreadable', answer: 'not read' } };
  if (!read.ok) {
    return {
      document: { status: 'unreadable', answer: `${read.failure.code}: ${read.failure.message}` },
    };
  }
  try {
    const parsed = parse(read.secret.value);
    return { document: { status: 'ok', value: keep(parsed) }, parsed };
  } catch (error) {
    // The parsers never quote the document (secret-documents.ts).
    return { document: { status: 'malformed', problem: (error as Error).message } };
  }
}

export async function observeTarget(
  target: TargetConfig,
  secrets: ReadonlyMap<string, SecretReadResult>,
  context: ObserveContext,
): Promise<TargetObservations> {
  const { vault, signal } = context;
  const endpoint = target.vault;
  const options = { signal };

  const tokenRead = readDocument(secrets.get(target.tokenSecretId), parseTokenDocument, (doc) => ({
    hasToken: doc.token !== undefined,
  }));
  const approleRead = readDocument(
    target.approle === undefined ? undefined : secrets.get(target.approle.secretId),
    parseAppRoleDocument,
    () => true as const,
  );
  const leaseReads = target.leases.map((lease) => ({
    lease,
    ...readDocument(secrets.get(lease.secretId), parseLeaseDocument, (doc) => ({
      hasLease: doc.leaseId !== undefined,
      ...(doc.tokenAccessor === undefined ? {} : { tokenAccessor: doc.tokenAccessor }),
    })),
  }));

  const health = await context.health(endpoint);
  const vaultUsable = health.status === 'ok' && health.value.initialized && !health.value.sealed;
  const token = tokenRead.parsed?.token;
  const credentials = approleRead.parsed;

  const base = {
    health,
    tokenSecret: tokenRead.document,
    approleSecret: approleRead.document,
  };
  const login = context.login
    ? await observeLogin(context, target, credentials, vaultUsable)
    : undefined;
  /** The observations of a target whose checks stop here, `why` given for every call not made. */
  const stoppedAt = (
    why: string,
    seen: Pick<TargetObservations, 'lookup' | 'liveness' | 'capabilities'>,
    info: TokenInfo | undefined,
  ): TargetObservations => ({
    ...base,
    ...seen,
    ...roleTargets(target, info, why),
    secretId: notRun(why),
    login,
    ...(target.jwt === undefined
      ? {}
      : { jwt: { role: notRun(why), issuer: notRun(why), discovery: notRun(why) } }),
    leases: leaseReads.map(({ lease, document }) => ({
      name: lease.name,
      secret: document,
      lookup: notRun(why),
    })),
  });

  if (!vaultUsable || token === undefined) {
    const why = vaultUsable ? 'no usable token' : 'Vault is not usable';
    return stoppedAt(
      why,
      { lookup: notRun(why), liveness: 'unknown', capabilities: notRun(why) },
      undefined,
    );
  }

  // lookup-self first: it tells num_uses before any other call spends one.
  const lookup = await observe(() => vault.lookupSelf(endpoint, token, options));
  const info = lookup.status === 'ok' ? lookup.value : undefined;
  let capabilities: Observed<Readonly<Record<string, readonly string[]>>> =
    notRun('the token is not valid');
  let liveness: TokenLiveness;
  if (lookup.status === 'ok') {
    liveness = 'alive';
  } else if (lookup.status === 'failed' && lookup.kind === VaultFailureKind.PermissionDenied) {
    // A plain 403: a dead token, or a policy without lookup-self. capabilities-self
    // (default policy) answering means the token is alive (vault-facts §2).
    capabilities = await observe(() =>
      vault.capabilitiesSelf(endpoint, token, CAPABILITY_PATHS, options),
    );
    liveness =
      capabilities.status === 'ok'
        ? 'alive'
        : capabilities.status === 'failed'
          ? livenessAfterDenial(capabilities.kind)
          : 'unknown';
  } else {
    liveness =
      lookup.status === 'failed' && lookup.kind === VaultFailureKind.InvalidToken
        ? 'dead'
        : 'unknown';
  }

  const limitedUses = info !== undefined && info.numUses > 0;
  const stop =
    liveness !== 'alive'
      ? 'the token is not valid'
      : limitedUses
        ? `the token has ${info?.numUses} uses left and every call would spend one`
        : info !== undefined && isRootToken(info)
          ? 'root token'
          : undefined;
  if (stop !== undefined) {
    return stoppedAt(
      stop,
      {
        lookup,
        liveness,
        capabilities: capabilities.status === 'not-run' ? notRun(stop) : capabilities,
      },
      info,
    );
  }

  const roles = info === undefined ? undefined : roleRefs(target, info);
  const approleRoleRef =
    roles?.approle ??
    (target.approle?.roleName === undefined
      ? undefined
      : { mount: target.approle.mount, role: target.approle.roleName });
  const readRole = (ref: { mount: string; role: string }) =>
    observe(() => vault.readAppRoleRole(endpoint, token, ref.mount, ref.role, options)).then(
      (settings): RoleObservation => ({ ...ref, settings: nullWhenAbsent(settings) }),
    );
  const sameRole =
    roles?.token !== undefined &&
    approleRoleRef !== undefined &&
    roles.token.mount === approleRoleRef.mount &&
    roles.token.role === approleRoleRef.role;
  const tuningMount =
    info === undefined ? undefined : (authMountOf(info.path) ?? loginMountOf(target));

  const [capabilitiesNow, tokenRole, approleRole, tuning, secretId, leases] = await Promise.all([
    capabilities.status === 'not-run'
      ? observe(() => vault.capabilitiesSelf(endpoint, token, CAPABILITY_PATHS, options))
      : Promise.resolve(capabilities),
    roles?.token === undefined ? Promise.resolve(undefined) : readRole(roles.token),
    approleRoleRef === undefined || sameRole
      ? Promise.resolve(undefined)
      : readRole(approleRoleRef),
    tuningMount === undefined
      ? Promise.resolve(undefined)
      : observe(() => vault.readAuthMountTuning(endpoint, token, tuningMount, options)).then(
          (observed) => ({ mount: tuningMount, tuning: observed }),
        ),
    credentials === undefined || approleRoleRef === undefined
      ? Promise.resolve(
          notRun<null>(
            credentials === undefined ? 'no usable AppRole secret' : 'the role name is unknown',
          ),
        )
      : observe(() =>
          vault.lookupSecretId(
            endpoint,
            token,
            approleRoleRef.mount,
            approleRoleRef.role,
            credentials.secretId,
            options,
          ),
        ).then((observed) => nullWhenAbsent(observed)),
    Promise.all(
      leaseReads.map(
        async ({ lease, document, parsed }): Promise<LeaseObservations> => ({
          name: lease.name,
          secret: document,
          lookup:
            parsed?.leaseId === undefined
              ? notRun('no lease id stored')
              : await observe(() =>
                  vault.lookupLease(endpoint, token, parsed.leaseId ?? '', options),
                ),
        }),
      ),
    ),
  ]);
  return {
    ...base,
    lookup,
    liveness,
    capabilities: capabilitiesNow,
    ...(tokenRole === undefined ? {} : { tokenRole }),
    ...(sameRole && tokenRole !== undefined
      ? { approleRole: tokenRole }
      : approleRole === undefined
        ? {}
        : { approleRole }),
    ...(tuning === undefined ? {} : { tuning }),
    secretId,
    login,
    leases,
    ...(target.jwt === undefined
      ? {}
      : { jwt: await observeJwt(context, endpoint, target.jwt, token) }),
  };
}

/** A jwt target's role and issuer, read with its token (its policy grants both). */
async function observeJwt(
  context: ObserveContext,
  endpoint: VaultEndpoint,
  jwt: NonNullable<TargetConfig['jwt']>,
  token: string,
): Promise<JwtObservations> {
  const { vault, signal } = context;
  const options = { signal };
  const [role, issuer] = await Promise.all([
    observe(() => vault.readJwtRole(endpoint, token, jwt.mount, jwt.role, options)),
    observe(() => vault.readJwtIssuer(endpoint, token, jwt.mount, options)),
  ]);
  const url = issuer.status === 'ok' ? issuer.value : undefined;
  const discover = context.discover;
  const discovery: Observed<string> =
    url === undefined || url === ''
      ? notRun('the mount names no discovery URL')
      : discover === undefined
        ? notRun('no HTTP client')
        : await observe(() => discover(url, signal));
  return { role: nullWhenAbsent(role), issuer: nullWhenAbsent(issuer), discovery };
}

/** `undefined` from a port read (404, 204) becomes `null`: "Vault does not know it". */
function nullWhenAbsent<T>(observed: Observed<T | undefined>): Observed<T | null> {
  return observed.status === 'ok' ? { status: 'ok', value: observed.value ?? null } : observed;
}

interface RoleRef {
  readonly mount: string;
  readonly role: string;
}

/** The role that issued the token (from its path and metadata) and the role of the target's credentials. */
function roleRefs(
  target: TargetConfig,
  info: TokenInfo,
): { readonly token?: RoleRef; readonly approle?: RoleRef } {
  const mount = authMountOf(info.path);
  const role = info.meta?.role_name;
  const token =
    mount !== undefined && mount !== 'token' && role !== undefined ? { mount, role } : undefined;
  const approle = target.approle;
  const approleRole =
    approle === undefined
      ? undefined
      : (approle.roleName ?? (token?.mount === approle.mount ? token.role : undefined));
  return {
    ...(token === undefined ? {} : { token }),
    ...(approle === undefined || approleRole === undefined
      ? {}
      : { approle: { mount: approle.mount, role: approleRole } }),
  };
}

/** Role observations that were not made, so the max TTL is labelled an assumption. */
function roleTargets(
  target: TargetConfig,
  info: TokenInfo | undefined,
  reason: string,
): Pick<TargetObservations, 'tokenRole' | 'approleRole'> {
  const refs =
    info !== undefined
      ? roleRefs(target, info)
      : target.approle?.roleName === undefined
        ? {}
        : { approle: { mount: target.approle.mount, role: target.approle.roleName } };
  return {
    ...(refs.token === undefined ? {} : { tokenRole: { ...refs.token, settings: notRun(reason) } }),
    ...(refs.approle === undefined
      ? {}
      : { approleRole: { ...refs.approle, settings: notRun(reason) } }),
  };
}

async function observeLogin(
  context: ObserveContext,
  target: TargetConfig,
  credentials: AppRoleDocument | undefined,
  vaultUsable: boolean,
): Promise<LoginObservation | undefined> {
  if (credentials === undefined || target.approle === undefined) return undefined;
  const { mount } = target.approle;
  const notTried = (reason: string): LoginObservation => ({
    login: notRun(reason),
    verify: notRun(reason),
    revoke: notRun(reason),
  });
  if (!vaultUsable) return notTried('Vault is not usable');
  const { vault, signal } = context;
  const endpoint = target.vault;
  const login = await observe(() => vault.appRoleLogin(endpoint, mount, credentials, { signal }));
  if (login.status !== 'ok') {
    return { login, verify: notRun('the login failed'), revoke: notRun('the login failed') };
  }
  const fresh = login.value;
  const verify = await observe(async () => {
    await vault.lookupSelf(endpoint, fresh.token, { signal });
    return true as const;
  });
  // The test token is diagnose's own: revoke it so repeated runs leave no tokens behind.
  // Batch tokens cannot be revoked (vault-facts §1.9); they expire on their own.
  const revoke: Observed<true> =
    fresh.tokenType === 'batch'
      ? notRun('batch tokens cannot be revoked')
      : await observe(async () => {
          await vault.revokeSelf(endpoint, fresh.token, { signal });
          return true as const;
        });
  return {
    // Only what the checks need: never the token or its accessor.
    login: {
      status: 'ok',
      value: {
        tokenType: fresh.tokenType,
        renewable: fresh.renewable,
        ttlSeconds: fresh.ttlSeconds,
        policies: fresh.policies,
        warnings: fresh.warnings,
      },
    },
    verify,
    revoke,
  };
}

/** The auth mount the target logs in at: its AppRole mount, or its jwt mount. */
function loginMountOf(target: TargetConfig): string {
  return target.approle?.mount ?? target.jwt?.mount ?? 'approle';
}
