/**
 * Which secrets the functions' roles may touch, and the Secrets Manager
 * statements that grant it: renew reads and writes token and lease secrets
 * and only reads AppRole secrets; diagnose reads all of them; rotate
 * describes, reads, writes and relabels AppRole and token secrets.
 *
 * IAM allows 10,240 characters of inline policy per role, so listing every
 * secret ARN stops fitting at a few dozen targets. Three scopes, chosen in
 * this order:
 *  1. `declared-prefixes`: the config's `secretAccess.prefixes`;
 *  2. `per-secret`: every secret's own ARN pattern, while the larger role's
 *     secret statements render to at most `PER_SECRET_BUDGET_CHARS`
 *     (about 45 secrets, 15 targets of the example layout): the tightest grant;
 *  3. `derived-prefixes`: the most specific folder prefixes of the names
 *     (`team/tokens/` from `team/tokens/app`) that keep every AppRole
 *     secret out of the writable ones and fit the budget.
 * When no prefixes can be derived, each secret stays listed until IAM's limit
 * itself is reached (about 30 targets laid out as the example config); past
 * it the package fails and says how to declare prefixes.
 * Ids written as ARNs are always granted one by one.
 *
 * An optional resource tag (`secretAccess.tag`) narrows every grant further:
 * access only to secrets that carry it (attribute-based access control).
 *
 * `secretAccess.byTag` replaces all of that with one grant whatever the
 * layout (scope `by-tag`): every secret of the account, on the condition of
 * its tag's value: `read-write` (token and lease secrets) or `read-only`
 * (AppRole secrets, which renew can then never write). vault:bootstrap
 * tags each secret so; docs/deploy.md says how to keep others from
 * changing the tag.
 */

import { secretNameOf } from '../functions/config/secret-name.js';
import type { RenewerConfig, SecretAccessConfig } from '../functions/config/types.js';
import { AWS_LIMITS, iamPolicyChars } from './limits.js';

/** A CloudFormation value: a literal, or an intrinsic function. */
export type CfnValue = string | number | boolean | { readonly [fn: string]: unknown };

export interface IamStatement {
  readonly Sid: string;
  readonly Effect: 'Allow';
  readonly Action: string | readonly string[];
  readonly Resource: CfnValue | readonly CfnValue[];
  readonly Condition?: Readonly<
    Record<string, Readonly<Record<string, string | readonly string[]>>>
  >;
}

/**
 * Rendered size, without whitespace, of the larger role's secret statements
 * up to which each secret is listed by its own ARN. Half of IAM's 10,240
 * per role leaves room for the roles' other statements (logs, SNS, KMS) and
 * those later features add.
 */
export const PER_SECRET_BUDGET_CHARS = 5_120;

export type GrantScope = 'declared-prefixes' | 'per-secret' | 'derived-prefixes' | 'by-tag';

/** The values of the access tag (`secretAccess.byTag.key`) vault:bootstrap sets. */
export const ACCESS_TAG_VALUE = { ReadWrite: 'read-write', ReadOnly: 'read-only' } as const;

export interface SecretGrants {
  readonly scope: GrantScope;
  /** IAM resources renew may only read (AppRole secrets). */
  readonly readOnly: readonly CfnValue[];
  /** IAM resources renew reads and writes (token and lease secrets). */
  readonly readWrite: readonly CfnValue[];
  /** The prefixes granted, when the scope is by prefix. */
  readonly prefixes?: {
    readonly readWrite: readonly string[];
    readonly readOnly: readonly string[];
  };
  readonly tag?: SecretAccessConfig['tag'];
  /** Scope `by-tag`: the tag key whose value grants access. */
  readonly byTag?: string;
}

export class SecretScopeError extends Error {
  override name = 'SecretScopeError';
}

const SECRET_ARN_PREFIX = `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:`;

/**
 * The IAM resource of one configured secret. A name gets the `-??????` suffix
 * Secrets Manager appends to every secret ARN (six random characters), so the
 * pattern matches that secret and no other: `vault/app/token-??????` cannot
 * match `vault/app/token-extra-abcdef`, whose suffix position holds more
 * characters. An id written as an ARN is used as it is: write the full ARN
 * (with its suffix) in the config, a partial ARN matches no secret in IAM.
 */
export function secretResource(secretId: string): CfnValue {
  if (secretId.startsWith('arn:')) return secretId;
  return { 'Fn::Sub': `${SECRET_ARN_PREFIX}${secretId}-??????` };
}

/** Every secret whose name starts with `prefix` (IAM's `*` also matches `/`). */
export function prefixResource(prefix: string): CfnValue {
  return { 'Fn::Sub': `${SECRET_ARN_PREFIX}${prefix}*` };
}

interface SecretIds {
  readonly readOnly: readonly string[];
  readonly readWrite: readonly string[];
}

/** The secrets of every target, sorted and deduplicated (several targets may share an AppRole secret). */
export function secretIds(config: RenewerConfig): SecretIds {
  const readWrite = new Set<string>();
  const readOnly = new Set<string>();
  for (const target of config.targets) {
    readWrite.add(target.tokenSecretId);
    for (const lease of target.leases) readWrite.add(lease.secretId);
    // A jwt target keeps no AppRole secret: nothing to read for it.
    if (target.approle !== undefined) readOnly.add(target.approle.secretId);
  }
  // The config schema refuses a secret both read and written; never grant less than needed anyway.
  for (const id of readWrite) readOnly.delete(id);
  return { readOnly: [...readOnly].sort(), readWrite: [...readWrite].sort() };
}

const isArn = (id: string) => id.startsWith('arn:');

export function secretGrants(config: RenewerConfig): SecretGrants {
  const ids = secretIds(config);
  const byTag = config.secretAccess?.byTag;
  if (byTag !== undefined) {
    const everySecret = { 'Fn::Sub': `${SECRET_ARN_PREFIX}*` };
    return { scope: 'by-tag', readOnly: [everySecret], readWrite: [everySecret], byTag: byTag.key };
  }
  const tag = config.secretAccess?.tag;
  const withTag = <T extends object>(grants: T) =>
    tag === undefined ? grants : { ...grants, tag };
  const declared = config.secretAccess?.prefixes;
  if (declared !== undefined) {
    return withTag(byPrefixes('declared-prefixes', ids, declared));
  }

  const perSecret = withTag({
    scope: 'per-secret' as const,
    readOnly: ids.readOnly.map(secretResource),
    readWrite: ids.readWrite.map(secretResource),
  });
  const perSecretChars = secretStatementsChars(perSecret);
  if (perSecretChars <= PER_SECRET_BUDGET_CHARS) return perSecret;

  const derived = derivePrefixes(ids, (candidate) =>
    secretStatementsChars(withTag(byPrefixes('derived-prefixes', ids, candidate))),
  );
  if ('prefixes' in derived) return withTag(byPrefixes('derived-prefixes', ids, derived.prefixes));
  // No prefixes to switch to: keep listing while the statements can still fit
  // IAM's limit (infra/limits-plugin.cjs checks the role's exact total).
  if (perSecretChars <= AWS_LIMITS.iamInlinePolicyCharsPerRole) return perSecret;
  const count = ids.readOnly.length + ids.readWrite.length;
  throw new SecretScopeError(
    `IAM: listing each of the fleet's ${count} secrets renders ${perSecretChars.toLocaleString('en-US')} characters of Secrets Manager statements for one role, over IAM's ${AWS_LIMITS.iamInlinePolicyCharsPerRole.toLocaleString('en-US')} per role, and no name prefixes can be derived: ${derived.reason}. Declare secretAccess.prefixes in the config, with token and lease secrets under readWrite prefixes and AppRole secrets under readOnly prefixes of their own, e.g. fleet/tokens/, fleet/leases/ and fleet/approle/ (docs/deploy.md, "Fleet scale")`,
  );
}

function byPrefixes(
  scope: 'declared-prefixes' | 'derived-prefixes',
  ids: SecretIds,
  prefixes: { readonly readWrite: readonly string[]; readonly readOnly: readonly string[] },
): SecretGrants {
  const sorted = (values: readonly string[]) => [...new Set(values)].sort();
  const readWrite = sorted(prefixes.readWrite);
  const readOnly = sorted(prefixes.readOnly);
  return {
    scope,
    // Ids written as ARNs may name another account's secret: they keep their own grant.
    readOnly: [...readOnly.map(prefixResource), ...ids.readOnly.filter(isArn).map(secretResource)],
    readWrite: [
      ...readWrite.map(prefixResource),
      ...ids.readWrite.filter(isArn).map(secretResource),
    ],
    prefixes: { readWrite, readOnly },
  };
}

/** `a/b/c` → the folders `a/`, `a/b/`; a name without `/` has none. */
function folders(name: string): string[] {
  const parts = name.split('/').slice(0, -1);
  return parts.map((_, i) => `${parts.slice(0, i + 1).join('/')}/`);
}

/** The folder prefix of `name` at `depth`, or its deepest folder when it has fewer. */
function folderAt(name: string, depth: number): string | undefined {
  const all = folders(name);
  return all[Math.min(depth, all.length) - 1];
}

type Derivation =
  | { readonly prefixes: { readonly readWrite: string[]; readonly readOnly: string[] } }
  | { readonly reason: string };

/**
 * The deepest (most specific) folder depth whose prefixes keep every AppRole
 * secret out of the writable prefixes and render within the budget.
 */
export function derivePrefixes(
  ids: SecretIds,
  renderedChars: (prefixes: { readWrite: string[]; readOnly: string[] }) => number,
): Derivation {
  const readWriteNames = ids.readWrite.filter((id) => !isArn(id));
  const readOnlyNames = ids.readOnly.filter((id) => !isArn(id));
  // AppRole ids written as ARNs keep their own grant, but a derived writable
  // prefix must not cover their names either (same account and region).
  const readOnlyAll = ids.readOnly.map(secretNameOf);
  const topLevel = [...readWriteNames, ...readOnlyNames].find((name) => !name.includes('/'));
  if (topLevel !== undefined) {
    return { reason: `secret ${JSON.stringify(topLevel)} is not inside any folder (no "/")` };
  }
  const maxDepth = Math.max(
    0,
    ...[...readWriteNames, ...readOnlyNames].map((n) => folders(n).length),
  );
  let reason = 'no depth of folder prefixes separates them';
  for (let depth = maxDepth; depth >= 1; depth--) {
    const readWrite = [...new Set(readWriteNames.map((n) => folderAt(n, depth) ?? ''))];
    const readOnly = [...new Set(readOnlyNames.map((n) => folderAt(n, depth) ?? ''))];
    // Derived prefixes are folders, so "under a writable prefix" is "one of its folders is one".
    const writable = new Set(readWrite);
    const exposed = readOnlyAll.find((name) => folders(name).some((f) => writable.has(f)));
    if (exposed !== undefined) {
      reason = `AppRole secret ${JSON.stringify(exposed)} shares its folder with token or lease secrets, so a writable prefix would cover it`;
      // Shallower folders only cover more: no shallower depth can separate them.
      break;
    }
    const prefixes = { readWrite: readWrite.sort(), readOnly: readOnly.sort() };
    if (renderedChars(prefixes) <= PER_SECRET_BUDGET_CHARS) return { prefixes };
    reason = `even at depth ${depth} the ${readWrite.length + readOnly.length} folder prefixes do not fit`;
  }
  return { reason };
}

const BATCH_READ: IamStatement = {
  // BatchGetSecretValue has no resource-level permissions: IAM only accepts
  // "*" for it. It grants nothing by itself: Secrets Manager checks
  // secretsmanager:GetSecretValue on every secret in the batch and returns
  // an error for any other.
  Sid: 'BatchReadNeedsStar',
  Effect: 'Allow',
  Action: 'secretsmanager:BatchGetSecretValue',
  Resource: '*',
};

type Access = 'read-only' | 'read-write' | 'any';

/** The condition of a statement: the access tag's value (by-tag), or the one tag every secret carries. */
function tagCondition(grants: SecretGrants, access: Access) {
  if (grants.byTag !== undefined) {
    const values =
      access === 'any'
        ? [ACCESS_TAG_VALUE.ReadOnly, ACCESS_TAG_VALUE.ReadWrite]
        : access === 'read-only'
          ? ACCESS_TAG_VALUE.ReadOnly
          : ACCESS_TAG_VALUE.ReadWrite;
    return {
      Condition: { StringEquals: { [`secretsmanager:ResourceTag/${grants.byTag}`]: values } },
    };
  }
  const { tag } = grants;
  return tag === undefined
    ? {}
    : { Condition: { StringEquals: { [`secretsmanager:ResourceTag/${tag.key}`]: tag.value } } };
}

/** renew: reads AppRole secrets, reads and writes token and lease secrets. */
export function renewSecretStatements(grants: SecretGrants): IamStatement[] {
  return [
    {
      Sid: 'ReadAppRoleCredentials',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: grants.readOnly,
      ...tagCondition(grants, 'read-only'),
    },
    {
      Sid: 'ReadAndWriteTokensAndLeases',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      Resource: grants.readWrite,
      ...tagCondition(grants, 'read-write'),
    },
    BATCH_READ,
  ];
}

/** diagnose: reads (and describes) every secret the renewer touches, writes none. */
export function diagnoseSecretStatements(grants: SecretGrants): IamStatement[] {
  const unique = uniqueResources(grants);
  return [
    {
      Sid: 'ReadEveryTargetSecret',
      Effect: 'Allow',
      // DescribeSecret: the rotation status (never a value).
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: unique,
      ...tagCondition(grants, 'any'),
    },
    BATCH_READ,
  ];
}

/**
 * rotate: the rotation protocol's four actions on the fleet's AppRole and
 * token secrets (aws-facts §1.1, "Permissions"); it reads the rotator's
 * token and a target's AppRole credentials with the same grant. Scoped like
 * the other roles: each secret, or the fleet's prefixes.
 */
export function rotateSecretStatements(grants: SecretGrants): IamStatement[] {
  return [
    {
      Sid: 'RotateFleetSecrets',
      Effect: 'Allow',
      Action: [
        'secretsmanager:DescribeSecret',
        'secretsmanager:GetSecretValue',
        'secretsmanager:PutSecretValue',
        'secretsmanager:UpdateSecretVersionStage',
      ],
      Resource: uniqueResources(grants),
      ...tagCondition(grants, 'any'),
    },
  ];
}

function uniqueResources(grants: SecretGrants): CfnValue[] {
  const all = [...grants.readOnly, ...grants.readWrite];
  const byName = new Map(all.map((resource) => [resourceName(resource), resource]));
  return [...byName.keys()].sort().map((name) => byName.get(name) as CfnValue);
}

/** What a resource names: the ARN as written, or the name (pattern) after `:secret:`. */
function resourceName(resource: CfnValue): string {
  if (typeof resource === 'string') return resource;
  const sub = (resource as { 'Fn::Sub'?: unknown })['Fn::Sub'];
  return typeof sub === 'string'
    ? sub.slice(sub.indexOf(':secret:') + ':secret:'.length)
    : JSON.stringify(resource);
}

/** The rendered size of the larger role's Secrets Manager statements. */
export function secretStatementsChars(grants: SecretGrants): number {
  const policy = (statements: IamStatement[]) => ({ Version: '2012-10-17', Statement: statements });
  return Math.max(
    iamPolicyChars(policy(renewSecretStatements(grants))),
    iamPolicyChars(policy(diagnoseSecretStatements(grants))),
    iamPolicyChars(policy(rotateSecretStatements(grants))),
  );
}
