import { describe, expect, it } from 'vitest';
import type { SecretState } from '../../../functions/aws/secret-provisioning.js';
import { markPolicy, readOwnership } from '../../../scripts/bootstrap/ownership.js';
import type { RoleSettings } from '../../../scripts/bootstrap/role-settings.js';
import type { TargetPlan } from '../../../scripts/bootstrap/target-plan.js';
import {
  type DesiredTarget,
  type ObservedTarget,
  planChanges,
  policyToWrite,
} from '../../../scripts/bootstrap/target-setup.js';

const settings: RoleSettings = {
  token_type: 'service',
  token_ttl: 3600,
  token_max_ttl: 14_400,
  token_period: 0,
  token_explicit_max_ttl: 0,
  token_num_uses: 0,
  token_no_default_policy: true,
  bind_secret_id: true,
  secret_id_ttl: 0,
  secret_id_num_uses: 0,
  secret_id_bound_cidrs: [],
};

const plan: TargetPlan = {
  name: 'app',
  inConfig: true,
  endpoint: { address: 'https://vault.example' },
  tokenSecretId: 'vault/app/token',
  approleSecretId: 'vault/app/approle',
  mount: 'approle',
  roleName: 'app',
  leases: [{ name: 'db', secretId: 'vault/app/db', reissuePath: 'database/creds/app' }],
};

const desired: DesiredTarget = {
  fleet: 'prod',
  plan,
  policyName: 'vault-renewer-app',
  policy: 'path "auth/token/renew-self" {\n  capabilities = ["update"]\n}\n',
  settings,
  tokenPolicies: ['vault-renewer-app'],
  tags: new Map([
    ['vault/app/token', [{ key: 'vault-renewer-fleet', value: 'prod' }]],
    ['vault/app/approle', [{ key: 'vault-renewer-fleet', value: 'prod' }]],
    ['vault/app/db', [{ key: 'vault-renewer-fleet', value: 'prod' }]],
  ]),
  rotations: new Map(),
};

const tagged: SecretState = {
  exists: true,
  deleted: false,
  tags: { 'vault-renewer-fleet': 'prod' },
  rotationEnabled: false,
};

/** A target set up as the config asks, as Vault and AWS answer it. */
function upToDate(): ObservedTarget {
  const base = {
    policy: undefined,
    // Vault answers an empty list as null.
    role: { ...settings, secret_id_bound_cidrs: null, token_policies: ['vault-renewer-app'] },
    roleId: 'role-id',
    secrets: new Map([
      ['vault/app/token', tagged],
      ['vault/app/approle', tagged],
      ['vault/app/db', tagged],
    ]),
    approle: { secret: { exists: true, text: '{}' }, document: {} },
    token: { secret: { exists: true, text: '{}' }, document: {} },
    secretId: { usable: true, valid: true, accessor: 'a', reason: 'no expiry' },
    tokenHealth: { healthy: true, reason: 'ttl 3000 s, renewable' },
  } satisfies ObservedTarget;
  return { ...base, policy: policyToWrite(desired, base) };
}

const choices = { rotateSecretId: false, relogin: false };

describe('one target planned against what is there', () => {
  it('plans nothing for a target set up as the config asks', () => {
    expect(planChanges(desired, upToDate(), choices)).toEqual([]);
  });

  it('names each role setting that differs, and the policies the role lacks', () => {
    const observed = upToDate();
    const role = { ...observed.role, token_ttl: 600, token_policies: ['other'] };
    expect(planChanges(desired, { ...observed, role }, choices)).toEqual([
      {
        kind: 'role',
        verb: 'update',
        detail: 'auth/approle/role/app (token_ttl 600 -> 3600; token_policies + vault-renewer-app)',
      },
    ]);
  });

  it('restores a secret scheduled for deletion, tags one that lacks a tag, creates a missing lease secret', () => {
    const observed = upToDate();
    const secrets = new Map(observed.secrets);
    secrets.set('vault/app/token', { ...tagged, deleted: true });
    secrets.set('vault/app/approle', { ...tagged, tags: {} });
    secrets.set('vault/app/db', {
      exists: false,
      deleted: false,
      tags: {},
      rotationEnabled: false,
    });
    expect(
      planChanges(desired, { ...observed, secrets }, choices).map((c) => `${c.kind} ${c.verb}`),
    ).toEqual(['restore restore', 'secret create', 'tags tag']);
  });

  it('issues a secret_id and logs in when the stored one is unusable; logs in alone for a sick token', () => {
    const observed = upToDate();
    const noSecretId = { ...observed.secretId, usable: false, reason: 'expires soon' };
    expect(
      planChanges(desired, { ...observed, secretId: noSecretId }, choices).map((c) => c.detail),
    ).toEqual(['expires soon', 'a new secret_id']);
    const sick = { healthy: false, reason: 'is not renewable' };
    expect(planChanges(desired, { ...observed, tokenHealth: sick }, choices)).toEqual([
      { kind: 'token', verb: 'login', detail: 'the stored token is not renewable' },
    ]);
  });

  it('refuses a role whose tokens would carry the root policy', () => {
    const observed = upToDate();
    const role = { ...observed.role, token_policies: ['root'] };
    expect(() => planChanges(desired, { ...observed, role }, choices)).toThrow(/root policy/);
  });
});

describe('what the set-up marks as its own', () => {
  it('reads back the header it writes, and nothing from a policy without it', () => {
    const owner = {
      fleet: 'prod',
      target: 'app',
      mount: 'approle',
      role: 'app',
      roleCreated: true,
    };
    expect(readOwnership(markPolicy('path "x" {}', owner))).toEqual(owner);
    expect(readOwnership('path "x" {}')).toBeUndefined();
    expect(readOwnership(undefined)).toBeUndefined();
  });

  it('keeps saying the role was created by the set-up once the role exists', () => {
    const written = policyToWrite(desired, { ...upToDate(), role: undefined, policy: undefined });
    expect(readOwnership(written)?.roleCreated).toBe(true);
    const later = { ...upToDate(), policy: written };
    expect(policyToWrite(desired, later)).toBe(written);
    // A role that was there before the first set-up stays someone else's.
    const adopted = { ...upToDate(), policy: undefined };
    expect(readOwnership(policyToWrite(desired, adopted))?.roleCreated).toBe(false);
  });
});
