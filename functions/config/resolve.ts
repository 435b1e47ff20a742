/**
 * Applies the defaults to a validated config file and freezes the result, so
 * consumers of `RenewerConfig` never apply fallbacks of their own. Pure: the
 * CA bundle has already been read by the loader.
 */

import { deepFreeze } from './deep-freeze.js';
import {
  type ConfigFile,
  DEFAULT_APPROLE_MOUNT,
  DEFAULT_CONCURRENCY,
  DEFAULT_INCREMENT_SECONDS,
  DEFAULT_JWT_MOUNT,
  DEFAULT_NOTIFY,
  DEFAULT_RELOGIN_RETRY_HOURS,
  DEFAULT_REMINDER_HOURS,
  DEFAULT_SECRET_ID_WARN_DAYS,
  DEFAULT_TARGETS_OBJECT_KEY,
  DEFAULT_WRITES_PER_SECOND,
  MAX_CONCURRENCY,
} from './schema.js';
import type {
  LeaseConfig,
  RenewerConfig,
  RotationConfig,
  RotationRules,
  SecretAccessConfig,
  TargetConfig,
} from './types.js';

type TargetFile = NonNullable<ConfigFile['targets']>[number];

export function resolveConfig(file: ConfigFile, vaultCaCertPem?: string): RenewerConfig {
  const defaultIncrementSeconds = file.defaults?.incrementSeconds ?? DEFAULT_INCREMENT_SECONDS;
  const defaultMount = file.defaults?.approleMount ?? DEFAULT_APPROLE_MOUNT;
  const defaultNotify = {
    onRelogin: file.defaults?.notify?.onRelogin ?? DEFAULT_NOTIFY.onRelogin,
    onReissue: file.defaults?.notify?.onReissue ?? DEFAULT_NOTIFY.onReissue,
  };

  const defaultRotation = file.defaults?.rotation ?? {};

  const resolveTarget = (target: TargetFile): TargetConfig => {
    // Field by field: a target that only overrides the namespace keeps the default address.
    const address = target.vault?.address ?? file.vault?.address;
    if (address === undefined) {
      // The schema reports a target without any address; reaching this is a bug here.
      throw new Error(`target ${target.name} has no Vault address after validation`);
    }
    // `''` is the root namespace, and overrides a default namespace.
    const namespace = target.vault?.namespace ?? file.vault?.namespace ?? '';
    const leases = (target.leases ?? []).map(
      (lease): LeaseConfig => ({
        name: lease.name,
        secretId: lease.secret,
        reissuePath: lease.reissuePath,
        // A lease's increment defaults to `defaults.incrementSeconds`, not the
        // target's token increment: the two are set for different things.
        incrementSeconds: lease.incrementSeconds ?? defaultIncrementSeconds,
      }),
    );
    // A jwt target keeps no secret to rotate: the defaults' rotation is not its.
    const rotation =
      target.jwt === undefined
        ? resolveRotation(
            target.rotation?.approle ?? defaultRotation.approle,
            target.rotation?.token ?? defaultRotation.token,
          )
        : undefined;
    const owner = target.owner ?? file.defaults?.owner;
    return {
      name: target.name,
      ...(owner === undefined ? {} : { owner }),
      vault: namespace === '' ? { address } : { address, namespace },
      tokenSecretId: target.tokenSecret,
      ...(target.approle === undefined
        ? {}
        : {
            approle: {
              secretId: target.approle.secret,
              mount: target.approle.mount ?? defaultMount,
              ...(target.approle.role === undefined ? {} : { roleName: target.approle.role }),
            },
          }),
      ...(target.jwt === undefined
        ? {}
        : {
            jwt: {
              audience: target.jwt.audience,
              mount: target.jwt.mount ?? DEFAULT_JWT_MOUNT,
              role: target.jwt.role ?? target.name,
            },
          }),
      incrementSeconds: target.incrementSeconds ?? defaultIncrementSeconds,
      leases,
      notify: {
        onRelogin: target.notify?.onRelogin ?? defaultNotify.onRelogin,
        onReissue: target.notify?.onReissue ?? defaultNotify.onReissue,
      },
      ...(rotation === undefined ? {} : { rotation }),
    };
  };

  const concurrency = file.concurrency ?? DEFAULT_CONCURRENCY;
  const ceilings = vaultRequestCeilings(file);
  const config: RenewerConfig = {
    version: file.version,
    scheduleIntervalSeconds: file.schedule.intervalMinutes * 60,
    concurrency,
    pacing: {
      // Never below the starting concurrency: the ceiling only ever adds workers.
      maxConcurrency: Math.max(concurrency, file.pacing?.maxConcurrency ?? MAX_CONCURRENCY),
      writesPerSecond: file.pacing?.secretsManagerWritesPerSecond ?? DEFAULT_WRITES_PER_SECOND,
      reloginRetrySeconds: (file.pacing?.reloginRetryHours ?? DEFAULT_RELOGIN_RETRY_HOURS) * 3600,
    },
    ...(Object.keys(ceilings).length === 0 ? {} : { vaultRequestCeilings: ceilings }),
    secretIdWarnDays: file.secretIdWarnDays ?? DEFAULT_SECRET_ID_WARN_DAYS,
    // A replaced token is revoked once consumers had a schedule interval to
    // read the new one (by default the next run retires it); `false`: never.
    ...(file.retireReplaced === false
      ? {}
      : {
          retireReplacedSeconds:
            (file.retireReplaced?.afterMinutes ?? file.schedule.intervalMinutes) * 60,
        }),
    reminderHours: file.reminderHours ?? DEFAULT_REMINDER_HOURS,
    ...(vaultCaCertPem === undefined ? {} : { vaultCaCertPem }),
    targets: (file.targets ?? []).map(resolveTarget),
    ...(file.rotation === undefined ? {} : { rotator: file.rotation.rotator }),
    ...(file.targetsObject === undefined
      ? {}
      : { targetsObject: { key: file.targetsObject.key ?? DEFAULT_TARGETS_OBJECT_KEY } }),
    ...(file.fanOut === undefined ? {} : { fanOut: { ...file.fanOut } }),
    ...webIdentityAudiences(file),
    ...(file.secretAccess === undefined
      ? {}
      : { secretAccess: resolveSecretAccess(file.secretAccess) }),
  };
  return deepFreeze(config);
}

/**
 * The request ceiling of each Vault address that names one: the root
 * `vault` block's for its address, a target's for its own. Two different
 * ceilings for one address: the lower holds (it is one cluster's budget).
 */
function vaultRequestCeilings(file: ConfigFile): Record<string, number> {
  const ceilings: Record<string, number> = {};
  const add = (address: string | undefined, ceiling: number | undefined): void => {
    if (address === undefined || ceiling === undefined) return;
    ceilings[address] = Math.min(ceilings[address] ?? ceiling, ceiling);
  };
  add(file.vault?.address, file.vault?.maxRequestsPerSecond);
  for (const target of file.targets ?? []) {
    add(target.vault?.address ?? file.vault?.address, target.vault?.maxRequestsPerSecond);
  }
  return ceilings;
}

function resolveSecretAccess(access: NonNullable<ConfigFile['secretAccess']>): SecretAccessConfig {
  return {
    ...(access.prefixes === undefined ? {} : { prefixes: access.prefixes }),
    ...(access.tag === undefined ? {} : { tag: access.tag }),
    ...(access.byTag === undefined ? {} : { byTag: access.byTag }),
  };
}

type RotationRuleFile = NonNullable<NonNullable<TargetFile['rotation']>['approle']>;

function resolveRotation(
  approle: RotationRuleFile | undefined,
  token: RotationRuleFile | undefined,
): RotationConfig | undefined {
  const rotation = {
    ...(approle === undefined || approle === false ? {} : { approle: rulesOf(approle) }),
    ...(token === undefined || token === false ? {} : { token: rulesOf(token) }),
  };
  return Object.keys(rotation).length === 0 ? undefined : rotation;
}

function rulesOf(rule: Exclude<RotationRuleFile, false>): RotationRules {
  return {
    ...(rule.everyDays === undefined ? {} : { AutomaticallyAfterDays: rule.everyDays }),
    ...(rule.schedule === undefined ? {} : { ScheduleExpression: rule.schedule }),
    ...(rule.window === undefined ? {} : { Duration: rule.window }),
  };
}

/** The audiences the renew role may have STS sign for: the jwt targets' and the declared ones. */
function webIdentityAudiences(file: ConfigFile): { webIdentityAudiences?: string[] } {
  const audiences = new Set(file.webIdentity?.audiences ?? []);
  for (const target of file.targets ?? []) {
    if (target.jwt !== undefined) audiences.add(target.jwt.audience);
  }
  return audiences.size === 0 ? {} : { webIdentityAudiences: [...audiences].sort() };
}
