import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseConfig } from '../../../functions/config/load.js';
import type { RenewerConfig } from '../../../functions/config/types.js';
import { AWS_LIMITS } from '../../../infra/limits.js';
import {
  diagnoseSecretStatements,
  PER_SECRET_BUDGET_CHARS,
  prefixResource,
  renewSecretStatements,
  SecretScopeError,
  secretGrants,
  secretResource,
  secretStatementsChars,
} from '../../../infra/secret-grants.js';
import { generatedFleetConfig } from '../../support/generated-fleet.js';

const config = (file: Record<string, unknown>): RenewerConfig => parseConfig(stringify(file));

interface TargetFile {
  tokenSecret: string;
  approle: { secret: string };
  leases: { secret: string }[];
}

/** The `index`-th target of a generated config file, to change one field of it. */
function targetAt(file: Record<string, unknown>, index: number): TargetFile {
  const target = (file.targets as TargetFile[])[index];
  if (target === undefined) throw new Error(`the file has no target ${index}`);
  return target;
}

/** `count` targets laid out as the example config is: every kind of secret in one folder per app. */
function interleaved(count: number): Record<string, unknown> {
  return {
    version: 1,
    schedule: { intervalMinutes: 15 },
    vault: { address: 'http://127.0.0.1:8200' },
    targets: Array.from({ length: count }, (_, i) => ({
      name: `app-${i}`,
      tokenSecret: `vault/app-${i}/token`,
      approle: { secret: `vault/app-${i}/approle` },
      leases: [{ name: 'db', secret: `vault/app-${i}/db`, reissuePath: `database/creds/app-${i}` }],
    })),
  };
}

describe('secretGrants: how the roles name the secrets', () => {
  it('lists each secret by its own ARN pattern while that fits the budget', () => {
    const grants = secretGrants(config(interleaved(3)));
    expect(grants.scope).toBe('per-secret');
    expect(grants.readOnly).toEqual(
      ['vault/app-0/approle', 'vault/app-1/approle', 'vault/app-2/approle'].map(secretResource),
    );
    expect(grants.readWrite).toHaveLength(6);
    expect(secretStatementsChars(grants)).toBeLessThanOrEqual(PER_SECRET_BUDGET_CHARS);
  });

  it('uses the declared prefixes, and nothing broader, however small the fleet', () => {
    const grants = secretGrants(
      config(
        generatedFleetConfig({
          targets: 3,
          teams: 1,
          secretAccess: {
            prefixes: {
              readWrite: ['teams/team-00/tokens/', 'teams/team-00/leases/'],
              readOnly: ['teams/team-00/approle/'],
            },
          },
        }),
      ),
    );
    expect(grants.scope).toBe('declared-prefixes');
    expect(grants.readWrite).toEqual([
      prefixResource('teams/team-00/leases/'),
      prefixResource('teams/team-00/tokens/'),
    ]);
    expect(grants.readOnly).toEqual([prefixResource('teams/team-00/approle/')]);
  });

  it('derives the most specific folder prefixes that fit when the list of ARNs does not', {
    timeout: 30_000,
  }, () => {
    const grants = secretGrants(config(generatedFleetConfig({ targets: 2_000, teams: 4 })));
    expect(grants.scope).toBe('derived-prefixes');
    expect(grants.prefixes).toEqual({
      readWrite: [0, 1, 2, 3].flatMap((t) => [
        `teams/team-0${t}/leases/`,
        `teams/team-0${t}/tokens/`,
      ]),
      readOnly: [0, 1, 2, 3].map((t) => `teams/team-0${t}/approle/`),
    });
    // No writable prefix covers an AppRole secret.
    for (const prefix of grants.prefixes?.readWrite ?? []) expect(prefix).not.toContain('approle');
  });

  it('keeps listing each secret up to the IAM limit when AppRole secrets share folders with writable ones', () => {
    const grants = secretGrants(config(interleaved(30)));
    expect(grants.scope).toBe('per-secret');
    expect(secretStatementsChars(grants)).toBeGreaterThan(PER_SECRET_BUDGET_CHARS);
    expect(secretStatementsChars(grants)).toBeLessThanOrEqual(
      AWS_LIMITS.iamInlinePolicyCharsPerRole,
    );
  });

  it('fails naming the fix past the IAM limit when AppRole secrets share folders with writable ones', () => {
    const act = () => secretGrants(config(interleaved(200)));
    expect(act).toThrow(SecretScopeError);
    expect(act).toThrow(
      /no name prefixes can be derived: AppRole secret "vault\/app-\d+\/approle" shares its folder/,
    );
    expect(act).toThrow(/Declare secretAccess\.prefixes/);
  });

  it('keeps ids written as ARNs as their own grant next to the prefixes', () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shared/approle-AbCdEf';
    const file = generatedFleetConfig({
      targets: 2,
      teams: 1,
      secretAccess: {
        prefixes: {
          readWrite: ['teams/team-00/tokens/', 'teams/team-00/leases/'],
          readOnly: ['teams/team-00/approle/'],
        },
      },
    });
    targetAt(file, 1).approle.secret = arn;
    const grants = secretGrants(config(file));
    expect(grants.readOnly).toEqual([prefixResource('teams/team-00/approle/'), arn]);
  });

  it('adds the tag condition to every statement that names secrets, never to the batch read', () => {
    const grants = secretGrants(
      config({
        ...interleaved(2),
        secretAccess: { tag: { key: 'vault-renewer:managed', value: 'true' } },
      }),
    );
    const condition = {
      StringEquals: { 'secretsmanager:ResourceTag/vault-renewer:managed': 'true' },
    };
    for (const statements of [renewSecretStatements(grants), diagnoseSecretStatements(grants)]) {
      for (const statement of statements) {
        if (statement.Resource === '*') expect(statement.Condition).toBeUndefined();
        else expect(statement.Condition).toEqual(condition);
      }
    }
  });

  it('grants by the access tag value for any layout: 10,000 per-application targets in one small grant', {
    timeout: 30_000,
  }, () => {
    // The per-application layout no prefix can scope (prod/<app>/token, prod/<app>/approle, ...)
    const file = interleaved(10_000);
    const grants = secretGrants(
      config({ ...file, secretAccess: { byTag: { key: 'vault-renewer:access' } } }),
    );
    const key = 'secretsmanager:ResourceTag/vault-renewer:access';

    const [readAppRole, readWrite] = renewSecretStatements(grants);

    expect(grants.scope).toBe('by-tag');
    // renew writes only what is tagged read-write: an AppRole secret (read-only) never
    expect(readWrite?.Action).toContain('secretsmanager:PutSecretValue');
    expect(readWrite?.Condition).toEqual({ StringEquals: { [key]: 'read-write' } });
    expect(readAppRole?.Action).toBe('secretsmanager:GetSecretValue');
    expect(readAppRole?.Condition).toEqual({ StringEquals: { [key]: 'read-only' } });
    expect(diagnoseSecretStatements(grants)[0]?.Condition).toEqual({
      StringEquals: { [key]: ['read-only', 'read-write'] },
    });
    expect(secretStatementsChars(grants)).toBeLessThan(1_000);
  });

  it('refuses byTag together with prefixes or a tag, naming the field', () => {
    expect(() =>
      config({
        ...interleaved(1),
        secretAccess: {
          byTag: { key: 'vault-renewer:access' },
          tag: { key: 'vault-renewer:managed', value: 'true' },
        },
      }),
    ).toThrow(/secretAccess\.byTag: grants access by a tag value on its own/);
  });

  it('never lets renew write an AppRole secret, nor diagnose write anything', {
    timeout: 30_000,
  }, () => {
    const grants = secretGrants(config(generatedFleetConfig({ targets: 10_000 })));
    const [readAppRole, readWrite] = renewSecretStatements(grants);
    expect(readAppRole?.Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(readWrite?.Resource)).not.toContain('approle');
    expect(diagnoseSecretStatements(grants).flatMap((s) => s.Action)).not.toContain(
      'secretsmanager:PutSecretValue',
    );
    expect(secretStatementsChars(grants)).toBeLessThan(AWS_LIMITS.iamInlinePolicyCharsPerRole / 2);
  });
});

describe('secretAccess in the config', () => {
  const declared = {
    prefixes: {
      readWrite: ['teams/team-00/tokens/', 'teams/team-00/leases/'],
      readOnly: ['teams/team-00/approle/'],
    },
  };
  const problems = (file: Record<string, unknown>): string[] => {
    try {
      parseConfig(stringify(file));
    } catch (error) {
      if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
      throw error;
    }
    return [];
  };

  it('refuses a target whose secrets fall outside the declared prefixes, naming the target', () => {
    const file = generatedFleetConfig({ targets: 3, teams: 1, secretAccess: declared });
    targetAt(file, 1).tokenSecret = 'elsewhere/app-00001/token';
    const lease = targetAt(file, 2).leases[0];
    if (lease !== undefined) lease.secret = 'teams/team-00/approle/app-00002-db';
    expect(problems(file)).toEqual([
      'targets[1].tokenSecret: target "app-00001": "elsewhere/app-00001/token" is outside secretAccess.prefixes.readWrite ("teams/team-00/tokens/", "teams/team-00/leases/"): IAM would deny it. Move the secret under one of them or add its prefix',
      'targets[2].leases[0].secret: target "app-00002": "teams/team-00/approle/app-00002-db" is outside secretAccess.prefixes.readWrite ("teams/team-00/tokens/", "teams/team-00/leases/"): IAM would deny it. Move the secret under one of them or add its prefix',
    ]);
  });

  it('tells a layout the prefixes do not fit as one problem per prefix list, not one per secret', () => {
    // 50 targets of the per-application layout (prod/<app>/...) against prefixes that fit none
    const file = generatedFleetConfig({ targets: 50, teams: 1, secretAccess: declared });
    for (const [i, target] of (file.targets as TargetFile[]).entries()) {
      target.tokenSecret = `prod/app-${i}/token`;
      target.approle.secret = `prod/app-${i}/approle`;
      target.leases.forEach((lease, l) => {
        lease.secret = `prod/app-${i}/lease-${l}`;
      });
    }

    const found = problems(file);

    const writable = (file.targets as TargetFile[]).reduce((n, t) => n + 1 + t.leases.length, 0);
    expect(found).toHaveLength(2);
    expect(found[0]).toContain(`readWrite: ${writable} secrets are outside`);
    expect(found[0]).toMatch(
      /^secretAccess\.prefixes\.readWrite: \d+ secrets are outside secretAccess\.prefixes\.readWrite .*e\.g\. "prod\/app-0\/token" \(target "[^"]+": targets\[0\]\.tokenSecret\)/,
    );
    expect(found[1]).toMatch(/^secretAccess\.prefixes\.readOnly: 50 secrets are outside/);
  });

  it('refuses AppRole secrets that a writable prefix would cover', () => {
    const file = generatedFleetConfig({
      targets: 1,
      teams: 1,
      secretAccess: { prefixes: { readWrite: ['teams/'], readOnly: ['teams/team-00/approle/'] } },
    });
    expect(problems(file)).toEqual([
      'secretAccess.prefixes.readOnly[0]: is inside the writable prefix "teams/": AppRole secrets under it could be overwritten by the renew function',
      'targets[0].approle.secret: target "app-00000": "teams/team-00/approle/app-00000" is under a secretAccess.prefixes.readWrite prefix: the renew function could overwrite it. Give AppRole secrets a prefix of their own',
    ]);
  });

  it('refuses an AppRole secret written as an ARN whose name a writable prefix covers', () => {
    const file = generatedFleetConfig({ targets: 1, teams: 1, secretAccess: declared });
    targetAt(file, 0).approle.secret =
      'arn:aws:secretsmanager:us-east-1:123456789012:secret:teams/team-00/tokens/app-creds-AbCdEf';
    expect(problems(file)).toEqual([
      expect.stringMatching(
        /^targets\[0\]\.approle\.secret: target "app-00000": ".*" is under a secretAccess\.prefixes\.readWrite prefix/,
      ),
    ]);
  });

  it('refuses a writable prefix inside a read-only one, where later AppRole secrets would land', () => {
    const file = generatedFleetConfig({
      targets: 1,
      teams: 1,
      secretAccess: {
        prefixes: {
          readWrite: ['teams/team-00/tokens/', 'teams/team-00/leases/', 'teams/team-00/approle/x'],
          readOnly: ['teams/team-00/approle/'],
        },
      },
    });
    expect(problems(file)).toEqual([
      'secretAccess.prefixes.readWrite[2]: is inside the read-only prefix "teams/team-00/approle/": AppRole secrets created under it later would be writable by the renew function',
    ]);
  });

  it('refuses empty prefix lists, ARNs as prefixes and reserved tag keys', () => {
    const file = generatedFleetConfig({
      targets: 1,
      teams: 1,
      secretAccess: {
        prefixes: { readWrite: [], readOnly: ['arn:aws:secretsmanager:x'] },
        tag: { key: 'aws:managed', value: 'yes' },
      },
    });
    expect(problems(file)).toEqual(
      expect.arrayContaining([
        'secretAccess.prefixes.readWrite: must list at least one prefix',
        expect.stringMatching(
          /^secretAccess\.prefixes\.readOnly\[0\]: must be the start of a secret name/,
        ),
        expect.stringMatching(/^secretAccess\.tag\.key: must not start with "aws:"/),
      ]),
    );
  });

  it('is carried into the resolved config, so the package derives IAM from what the function ships', () => {
    const resolved = config(
      generatedFleetConfig({
        targets: 1,
        teams: 1,
        secretAccess: { ...declared, tag: { key: 'vault-renewer:managed', value: 'true' } },
      }),
    );
    expect(resolved.secretAccess).toEqual({
      ...declared,
      tag: { key: 'vault-renewer:managed', value: 'true' },
    });
  });
});
