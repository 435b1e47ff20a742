/**
 * The orchestration against a small in-memory Vault: which calls diagnose
 * makes (read-only ones, and the login only when asked), in which cases it
 * stops calling, and that observations never hold a secret.
 */

import { describe, expect, it } from 'vitest';
import type { SecretReadResult } from '../../../functions/core/store-port.js';
import {
  type TokenInfo,
  type VaultFailure,
  VaultFailureKind,
} from '../../../functions/core/vault-port.js';
import { type DiagnoseVault, observeTarget } from '../../../functions/diagnosis/observe-target.js';
import { roleSettings, TARGET, tokenInfo } from './observations-builder.js';

const TOKEN = 'hvs.STORED-TOKEN-never-in-observations';
const SECRET_ID = '9d2f1c7e-secret-id-never-in-observations';
const NEW_TOKEN = 'hvs.NEW-TOKEN-never-in-observations';
const LEASE_ID = 'database/creds/billing-api/LEASE-ID-never-in-observations';

function failure(kind: VaultFailureKind, path: string): VaultFailure {
  return Object.assign(new Error(`Vault failed [${kind}]`), {
    kind,
    vaultErrors: ['permission denied'],
    path,
    status: 403,
  });
}

function secrets(token: string = TOKEN): ReadonlyMap<string, SecretReadResult> {
  const entry = (secretId: string, value: unknown): [string, SecretReadResult] => [
    secretId,
    { ok: true, secret: { secretId, value: JSON.stringify(value), versionId: 'v1' } },
  ];
  return new Map([
    entry(TARGET.tokenSecretId, { token }),
    entry(TARGET.approle?.secretId ?? '', { role_id: 'role-id', secret_id: SECRET_ID }),
    entry('vault/billing-api/db', { lease_id: LEASE_ID, data: { password: 'pw' } }),
  ]);
}

/** A Vault that answers every read as healthy, except what `overrides` replace; records calls. */
function memoryVault(overrides: Partial<DiagnoseVault> = {}) {
  const calls: string[] = [];
  const record =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    (...args: A) => {
      calls.push(name);
      return fn(...args);
    };
  const refuse = (name: string) => async (): Promise<never> => {
    throw new Error(`diagnose must never call ${name}`);
  };
  const base: DiagnoseVault = {
    health: async () => ({
      initialized: true,
      sealed: false,
      standby: false,
      version: '1.17.2',
      status: 200,
    }),
    lookupSelf: async (_e, token): Promise<TokenInfo> =>
      token === NEW_TOKEN ? tokenInfo({ accessor: 'new-accessor' }) : tokenInfo(),
    capabilitiesSelf: async (_e, _t, paths) =>
      Object.fromEntries(paths.map((p) => [p, p.includes('lookup') ? ['read'] : ['update']])),
    readAppRoleRole: async () => roleSettings(),
    readAuthMountTuning: async () => ({
      defaultLeaseTtlSeconds: 2_764_800,
      maxLeaseTtlSeconds: 2_764_800,
    }),
    lookupSecretId: async () => ({ expirationTime: null, usesLeft: 0, ttlSeconds: 0 }),
    lookupLease: async () => ({
      ttlSeconds: 3600,
      renewable: true,
      expireTime: '2026-11-26T13:00:00Z',
    }),
    jwtLogin: refuse('jwtLogin'),
    readJwtRole: refuse('readJwtRole'),
    readJwtIssuer: refuse('readJwtIssuer'),
    appRoleLogin: async () => ({
      token: NEW_TOKEN,
      accessor: 'new-accessor',
      ttlSeconds: 3600,
      renewable: true,
      policies: ['default'],
      tokenType: 'service',
      warnings: [],
    }),
    revokeSelf: async () => undefined,
    renewSelf: refuse('renewSelf'),
    renewLease: refuse('renewLease'),
    issueLease: refuse('issueLease'),
  };
  const merged = { ...base, ...overrides } as DiagnoseVault;
  const vault = Object.fromEntries(
    Object.entries(merged).map(([name, fn]) => [
      name,
      record(name, fn as (...args: unknown[]) => Promise<unknown>),
    ]),
  ) as unknown as DiagnoseVault;
  return { vault, calls };
}

function observeWith(vault: DiagnoseVault, options: { login?: boolean; token?: string } = {}) {
  return observeTarget(TARGET, secrets(options.token), {
    vault,
    signal: AbortSignal.timeout(5_000),
    login: options.login ?? false,
    health: (endpoint) =>
      vault.health(endpoint).then((value) => ({ status: 'ok' as const, value })),
  });
}

describe('observeTarget', () => {
  it('makes only read calls, reading the shared role once', async () => {
    const { vault, calls } = memoryVault();

    const observations = await observeWith(vault);

    expect([...calls].sort()).toEqual([
      'capabilitiesSelf',
      'health',
      'lookupLease',
      'lookupSecretId',
      'lookupSelf',
      'readAppRoleRole',
      'readAuthMountTuning',
    ]);
    expect(observations.liveness).toBe('alive');
    expect(observations.approleRole).toBe(observations.tokenRole);
  });

  it('never holds the token, secret_id, lease id or a credential', async () => {
    const { vault } = memoryVault();

    const observations = await observeWith(vault, { login: true });

    const text = JSON.stringify(observations);
    for (const secret of [TOKEN, SECRET_ID, NEW_TOKEN, LEASE_ID, '"pw"', 'new-accessor']) {
      expect(text).not.toContain(secret);
    }
  });

  it('stops after lookup-self when the token has a use limit (each call would spend a use)', async () => {
    const { vault, calls } = memoryVault({ lookupSelf: async () => tokenInfo({ numUses: 2 }) });

    const observations = await observeWith(vault);

    expect(calls).toEqual(['health', 'lookupSelf']);
    expect(observations.capabilities).toEqual({
      status: 'not-run',
      reason: 'the token has 2 uses left and every call would spend one',
    });
  });

  it('takes a plain 403 on lookup-self and on capabilities-self for a dead token', async () => {
    const { vault, calls } = memoryVault({
      lookupSelf: async () => {
        throw failure(VaultFailureKind.PermissionDenied, 'auth/token/lookup-self');
      },
      capabilitiesSelf: async () => {
        throw failure(VaultFailureKind.PermissionDenied, 'sys/capabilities-self');
      },
    });

    const observations = await observeWith(vault);

    expect(observations.liveness).toBe('dead');
    expect(calls).toEqual(['health', 'lookupSelf', 'capabilitiesSelf']);
  });

  it('takes a 403 on lookup-self with capabilities-self answering for a live token', async () => {
    const { vault, calls } = memoryVault({
      lookupSelf: async () => {
        throw failure(VaultFailureKind.PermissionDenied, 'auth/token/lookup-self');
      },
    });

    const observations = await observeWith(vault);

    expect(observations.liveness).toBe('alive');
    expect(calls.filter((c) => c === 'capabilitiesSelf')).toHaveLength(1);
    expect(calls).toContain('lookupLease');
  });

  it('logs in only when asked, checks the new token and revokes it', async () => {
    const revoked: string[] = [];
    const { vault, calls } = memoryVault({
      revokeSelf: async (_e, token) => {
        revoked.push(token);
      },
    });

    const observations = await observeWith(vault, { login: true });

    expect(calls.filter((c) => c === 'appRoleLogin')).toHaveLength(1);
    expect(revoked).toEqual([NEW_TOKEN]);
    expect(observations.login?.verify.status).toBe('ok');
    expect(observations.login?.revoke).toEqual({ status: 'ok', value: true });
  });

  it('makes no Vault call but sys/health while Vault is sealed', async () => {
    const { vault, calls } = memoryVault({
      health: async () => ({
        initialized: true,
        sealed: true,
        standby: false,
        version: '',
        status: 200,
      }),
    });

    const observations = await observeWith(vault, { login: true });

    expect(calls).toEqual(['health']);
    expect(observations.lookup).toEqual({ status: 'not-run', reason: 'Vault is not usable' });
    // The role is still named (from the config), so its check says why it was skipped.
    expect(observations.approleRole).toEqual({
      mount: 'approle',
      role: 'billing-api',
      settings: { status: 'not-run', reason: 'Vault is not usable' },
    });
    expect(observations.login?.login.status).toBe('not-run');
  });
});
