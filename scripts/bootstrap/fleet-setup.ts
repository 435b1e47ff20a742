/**
 * `npm run vault:setup`: the whole fleet (or the named targets) set up from
 * the config in one command. It plans first: per target what it would
 * create or change on both sides (target-setup.ts), and the targets the
 * config no longer names that it would retire (retire.ts). With `apply`, it
 * makes those changes:
 *
 * - paced: every Secrets Manager write (create, put, tag, restore, rotation,
 *   delete) takes a turn in one budget below AWS's 50/s, and every Vault
 *   request a slot in the Vault's request-rate budget;
 * - target by target, a failure in one never stopping the others;
 * - resumable: each run observes what is there, so a run after an
 *   interruption finds the finished targets unchanged and goes on with the
 *   rest. An interrupt stops starting targets and lets the started ones end.
 */

import pLimit from 'p-limit';
import type { SecretProvisioning, SecretTag } from '../../functions/aws/secret-provisioning.js';
import type { RenewerConfig } from '../../functions/config/types.js';
import { createRequestPacer } from '../../functions/core/request-pacer.js';
import { createWriteBudget } from '../../functions/core/write-budget.js';
import { createVaultAdmin, type VaultAdmin } from '../../functions/vault/admin.js';
import { adminEndpoints } from '../../functions/vault/admin-endpoints.js';
import { createVaultClient } from '../../functions/vault/client.js';
import { desiredTarget, type SetupInputs } from './desired.js';
import { BootstrapError, messageOf } from './errors.js';
import {
  applyJwtChanges,
  desiredJwtTarget,
  ensureJwtMount,
  type JwtTrust,
  jwtPlanOf,
  observeJwtTarget,
  planJwtChanges,
} from './jwt-setup.js';
import { nonEmpty, readCaCert } from './operator-input.js';
import {
  type AdminSide,
  findRetired,
  type RetiredTarget,
  retireChanges,
  retireTarget,
} from './retire.js';
import { managedRoles, ROTATOR_POLICY_NAME, rotatorPolicy } from './rotator-policy.js';
import type { SecretsPlan } from './secrets-side.js';
import { planTarget } from './target-plan.js';
import {
  applyChanges,
  type Change,
  observeTarget,
  planChanges,
  type SetupChoices,
} from './target-setup.js';
import { ensureApproleMount } from './vault-side.js';

export const TargetStatus = {
  Create: 'create',
  Update: 'update',
  Unchanged: 'unchanged',
  Retire: 'retire',
  Failed: 'failed',
  /** Interrupted before it started. */
  NotStarted: 'not started',
} as const;
export type TargetStatus = (typeof TargetStatus)[keyof typeof TargetStatus];

export interface TargetOutcome {
  readonly target: string;
  readonly status: TargetStatus;
  readonly changes: readonly Change[];
  /** The changes were made (apply), not only planned. */
  readonly applied: boolean;
  readonly error?: string;
}

export interface FleetSetupOptions extends Omit<SetupInputs, 'config'> {
  readonly config: RenewerConfig;
  /** Enable AppRole at a mount that has no auth method (with `apply`). */
  readonly enableApprole: boolean;
  /** Only these targets (configured or retirable); all when absent. */
  readonly names?: readonly string[];
  readonly apply: boolean;
  /** Retire targets the config no longer names (with `apply`). */
  readonly retire: boolean;
  readonly recoveryDays: number;
  readonly choices: SetupChoices;
  readonly kmsKeyId?: string;
  readonly concurrency: number;
  /** Secrets Manager writes per second, all kinds together. */
  readonly awsWritesPerSecond: number;
  /** Requests per second to each Vault without a ceiling in the config. */
  readonly vaultRequestsPerSecond: number;
  /** What the jwt targets' roles trust; without it a jwt target cannot be set up. */
  readonly jwtTrust?: JwtTrust;
  /** Enable the jwt auth method at a mount that has none (with `apply`). */
  readonly enableJwt?: boolean;
}

export interface FleetSetupDeps {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly secrets: SecretProvisioning;
  /** Per-step lines (stderr with --verbose). */
  readonly log: (line: string) => void;
  /** Called after each target, with the outcomes so far. */
  readonly progress?: (done: number, total: number, outcomes: readonly TargetOutcome[]) => void;
  /** Aborted: start no more targets; the started ones finish. */
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

export interface FleetSetupResult {
  readonly outcomes: readonly TargetOutcome[];
  /** What the set-up did or would do beside the targets (jwt mounts trusting the issuer). */
  readonly notes: readonly string[];
  /** Secrets Manager writes made, and how many had to wait for their turn. */
  readonly writes: { readonly granted: number; readonly waited: number };
}

export async function setupFleet(
  options: FleetSetupOptions,
  deps: FleetSetupDeps,
): Promise<FleetSetupResult> {
  const { config } = options;
  const now = deps.now ?? Date.now;
  const adminToken = nonEmpty(deps.env.VAULT_TOKEN);
  if (adminToken === undefined) {
    throw new BootstrapError(
      'VAULT_TOKEN is not set: an administrator token that may write policies and AppRole roles is needed (it is never stored)',
    );
  }
  const names = options.names === undefined ? undefined : new Set(options.names);
  const chosen = config.targets.filter((t) => names === undefined || names.has(t.name));
  const targets = chosen.filter((t) => t.jwt === undefined);
  const jwtTargets = chosen.filter((t) => t.jwt !== undefined);

  const ceilings = new Map(
    config.targets.map((t) => [
      t.vault.address,
      config.vaultRequestCeilings?.[t.vault.address] ?? options.vaultRequestsPerSecond,
    ]),
  );
  const caCertPem = config.vaultCaCertPem ?? readCaCert(deps.env.VAULT_CACERT);
  const clientOptions = {
    ...(caCertPem === undefined ? {} : { caCertPem }),
    pacer: createRequestPacer({ ceilings }),
  };
  const vault = createVaultClient(clientOptions);
  const admins = new Map<string, { side: AdminSide; admin: VaultAdmin }>();
  const sideFor = (endpoint: { address: string; namespace?: string }) => {
    const key = `${endpoint.address}|${endpoint.namespace ?? ''}`;
    let found = admins.get(key);
    if (found === undefined) {
      const admin = createVaultAdmin(endpoint, adminToken, clientOptions);
      found = { admin, side: { endpoint, admin: adminEndpoints(admin) } };
      admins.set(key, found);
    }
    return found.side;
  };
  const budget = createWriteBudget(options.awsWritesPerSecond, now);
  // Pacing never aborts: a started target ends, whatever the interrupt.
  const steady = new AbortController().signal;
  const pace = async () => {
    await budget.take(0, steady);
    await budget.send(steady);
  };

  try {
    const plans = targets.map((t) => planTarget(t.name, config, {}, deps.env));
    for (const plan of plans) sideFor(plan.endpoint);
    const jwtPlans = jwtTargets.map(jwtPlanOf);
    for (const plan of jwtPlans) sideFor(plan.endpoint);
    const notes: string[] = [];
    const jwtMountProblems = new Map<string, string>();
    if (options.jwtTrust !== undefined) {
      for (const plan of new Map(
        jwtPlans.map((p) => [`${p.endpoint.address}|${p.mount}`, p]),
      ).values()) {
        try {
          const note = await ensureJwtMount(
            sideFor(plan.endpoint).admin,
            plan.mount,
            options.jwtTrust,
            {
              enable: options.enableJwt === true,
              apply: options.apply,
            },
          );
          if (note !== undefined) notes.push(note);
        } catch (error) {
          jwtMountProblems.set(`${plan.endpoint.address}|${plan.mount}`, messageOf(error));
        }
      }
    }
    if (options.apply) {
      for (const plan of new Map(
        plans.map((p) => [`${p.endpoint.address}|${p.mount}`, p]),
      ).values()) {
        await ensureApproleMount(
          sideFor(plan.endpoint).admin,
          plan.mount,
          options.enableApprole,
          deps.log,
        );
      }
      await writeRotatorPolicy(
        config,
        [...admins.values()].map((a) => a.side),
      );
    }

    const outcomes: TargetOutcome[] = [];
    const retiring =
      names === undefined || options.names?.some((n) => !chosen.some((t) => t.name === n))
        ? (
            await findRetired(
              options.fleet,
              config,
              [...admins.values()].map((a) => a.side),
              deps.secrets,
            )
          ).filter((r) => names === undefined || names.has(r.target))
        : [];
    const unknown = [...(names ?? [])].filter(
      (n) => !chosen.some((t) => t.name === n) && !retiring.some((r) => r.target === n),
    );
    if (unknown.length > 0) {
      throw new BootstrapError(
        `--targets: ${unknown.join(', ')}: neither in the config nor retirable (set up by this project and since removed)`,
      );
    }
    const total = plans.length + jwtPlans.length + retiring.length;
    const tick = (outcome: TargetOutcome) => {
      outcomes.push(outcome);
      deps.progress?.(outcomes.length, total, outcomes);
    };
    const limit = pLimit(options.concurrency);
    /**
     * One target at a time per slot: nothing starts after an interrupt, and a
     * failure is the target's outcome (with what it had planned), never the run's end.
     */
    const visit = (
      name: string,
      work: (planned: (changes: Change[]) => void) => Promise<Planned>,
    ): Promise<void> =>
      limit(async () => {
        if (deps.signal?.aborted === true) {
          tick({ target: name, status: TargetStatus.NotStarted, changes: [], applied: false });
          return;
        }
        let planned: Change[] = [];
        try {
          const { status, changes } = await work((changes) => {
            planned = changes;
          });
          tick({ target: name, status, changes, applied: options.apply });
        } catch (error) {
          tick({
            target: name,
            status: TargetStatus.Failed,
            changes: planned,
            applied: false,
            error: messageOf(error),
          });
        }
      });
    const secretsSide = (plan: SecretsPlan, tags: ReadonlyMap<string, readonly SecretTag[]>) => ({
      secrets: deps.secrets,
      plan,
      kmsKeyId: options.kmsKeyId,
      log: (line: string) => deps.log(`${plan.name}: ${line}`),
      pace,
      tagsFor: (id: string) => tags.get(id) ?? [],
    });

    await Promise.all([
      ...plans.map((plan) =>
        visit(plan.name, async (planned) => {
          const desired = desiredTarget(plan, options);
          const sides = {
            admin: sideFor(plan.endpoint).admin,
            vault,
            adminToken,
            now,
            secrets: secretsSide(plan, desired.tags),
          };
          const observed = await observeTarget(desired, sides);
          const changes = planChanges(desired, observed, options.choices);
          planned(changes);
          if (options.apply && changes.length > 0) {
            await applyChanges(
              desired,
              observed,
              changes,
              sides,
              options.choices,
              sides.secrets.log,
            );
          }
          return statusOf(changes, observed.policy === undefined && observed.role === undefined);
        }),
      ),
      ...jwtPlans.map((plan) =>
        visit(plan.name, async (planned) => {
          const mountProblem = jwtMountProblems.get(`${plan.endpoint.address}|${plan.mount}`);
          if (mountProblem !== undefined) throw new BootstrapError(mountProblem);
          if (options.jwtTrust === undefined) {
            throw new BootstrapError(
              'logs in with jwt: pass --jwt-issuer (the account issuer URL) and --renew-role-arn (the stack output RenewRoleArn) to set up its jwt role',
            );
          }
          const desired = desiredJwtTarget(plan, {
            fleet: options.fleet,
            settings: options.settings,
            policyFile: options.policyFile,
            trust: options.jwtTrust,
            access: config.secretAccess,
            rotator: config.rotator === plan.name,
          });
          const side = secretsSide(plan, desired.tags);
          const admin = sideFor(plan.endpoint).admin;
          const observed = await observeJwtTarget(desired, admin, side);
          const changes = planJwtChanges(desired, observed);
          planned(changes);
          if (options.apply && changes.length > 0) {
            await applyJwtChanges(desired, observed, changes, admin, side, side.log);
          }
          return statusOf(changes, observed.policy === undefined && observed.role === undefined);
        }),
      ),
    ]);
    await Promise.all(
      retiring.map((retired) =>
        limit(() =>
          retireOne(retired, options, deps, { pace, vaults: [...admins.values()], tick }),
        ),
      ),
    );
    return { outcomes, notes, writes: budget.figures() };
  } finally {
    await vault.close();
    await Promise.all([...admins.values()].map((a) => a.admin.close()));
  }
}

/** What a target's visit planned, and the status it makes. */
interface Planned {
  readonly status: TargetStatus;
  readonly changes: Change[];
}

function statusOf(changes: Change[], created: boolean): Planned {
  const status =
    changes.length === 0
      ? TargetStatus.Unchanged
      : created
        ? TargetStatus.Create
        : TargetStatus.Update;
  return { status, changes };
}

async function retireOne(
  retired: RetiredTarget,
  options: FleetSetupOptions,
  deps: FleetSetupDeps,
  run: {
    readonly pace: () => Promise<void>;
    readonly vaults: readonly { side: AdminSide }[];
    readonly tick: (outcome: TargetOutcome) => void;
  },
): Promise<void> {
  const changes = retireChanges(retired, options.recoveryDays);
  const act = options.apply && options.retire && deps.signal?.aborted !== true;
  try {
    if (act) {
      await retireTarget(
        retired,
        { secrets: deps.secrets, vaults: run.vaults.map((v) => v.side), pace: run.pace },
        options.recoveryDays,
        deps.log,
      );
    }
    run.tick({ target: retired.target, status: TargetStatus.Retire, changes, applied: act });
  } catch (error) {
    run.tick({
      target: retired.target,
      status: TargetStatus.Failed,
      changes,
      applied: false,
      error: messageOf(error),
    });
  }
}

/** The rotator policy names every role whose AppRole secret rotates: kept in step with the config. */
async function writeRotatorPolicy(config: RenewerConfig, sides: readonly AdminSide[]) {
  if (config.rotator === undefined) return;
  const rotator = config.targets.find((t) => t.name === config.rotator);
  const policy = rotatorPolicy(managedRoles(config));
  for (const side of sides) {
    if (rotator !== undefined && rotator.vault.address !== side.endpoint.address) continue;
    if ((await side.admin.readPolicy(ROTATOR_POLICY_NAME)) !== policy) {
      await side.admin.writePolicy(ROTATOR_POLICY_NAME, policy);
    }
  }
}
