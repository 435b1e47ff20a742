/**
 * One target, one run: read what is stored (the token secret, the AppRole
 * secret for a later re-login), then the token step (token-step.ts) and the
 * lease steps (lease-step.ts), and assemble the report from what each step
 * returned. Every failure becomes a Problem; nothing here throws for a Vault
 * or AWS failure, and a bug in one target is reported, never passed on.
 */

import type { TargetConfig } from '../config/types.js';
import type { CredentialChange } from '../core/change-events-port.js';
import type { Refusal, TargetVisit } from '../core/fleet-ledger.js';
import type { Problem } from '../core/problems.js';
import {
  parseAppRoleDocument,
  parseLeaseDocument,
  parseTokenDocument,
  type TokenDocument,
} from '../core/secret-documents.js';
import type { SecretLookup } from '../core/secret-reads.js';
import { VaultFailureKind } from '../core/vault-port.js';
import { leaseStep, skippedLeases } from './lease-step.js';
import { TokenReason } from './planner.js';
import {
  assembleTargetReport,
  type LeaseReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from './report.js';
import { failureKind, type RunContext } from './run-context.js';
import { secretIdStep } from './secret-id-step.js';
import {
  approleSecretUnusable,
  secretMalformed,
  tokenSecretUnreadable,
  unexpectedErrorProblem,
} from './target-problems.js';
import { tokenStep } from './token-step.js';

interface TargetOutcome {
  readonly token: TargetReport['token'];
  readonly retiredToken?: boolean;
  /** See {@link TargetVisit.retireAtSeconds}. */
  readonly retireAtSeconds?: number | null;
  readonly unknown?: readonly string[];
  readonly secretIdExpiresInSeconds?: number;
  readonly leases: readonly LeaseReport[];
  readonly problems: readonly Problem[];
  readonly writes: number;
  readonly changes?: readonly CredentialChange[];
  readonly refusedLogin?: Refusal | null;
  readonly refusedLeases?: Readonly<Record<string, Refusal | null>>;
}

/** A target's report, the credentials its run changed (for the change events), and what the next run needs of it. */
export interface TargetRun {
  readonly report: TargetReport;
  readonly changes: readonly CredentialChange[];
  readonly visit: TargetVisit;
}

export async function runTarget(
  target: TargetConfig,
  secrets: SecretLookup,
  context: RunContext,
): Promise<TargetRun> {
  const started = context.deps.now();
  let outcome: TargetOutcome;
  try {
    outcome = await renewTarget(target, secrets, context);
  } catch (error) {
    // A bug must not stop the other targets; it is reported like any failure.
    outcome = {
      token: { outcome: TokenOutcome.Untouched },
      leases: [],
      problems: [unexpectedErrorProblem(error)],
      writes: 0,
    };
  }
  const { changes = [], refusedLogin, refusedLeases, retireAtSeconds, ...parts } = outcome;
  const now = context.deps.now();
  const report = assembleTargetReport({ target: target.name, ...parts, durationMs: now - started });
  const visit = visitOf(target, report, now, refusedLogin, refusedLeases);
  return {
    report,
    changes,
    visit: retireAtSeconds === undefined ? visit : { ...visit, retireAtSeconds },
  };
}

/**
 * What the next run needs to know of a target this run reached. A death time
 * is kept only for a credential Vault would not extend by its full increment
 * (capped at its max TTL, or short-lived): a healthy one is renewed every run
 * and leaves the ledger empty, so a steady fleet writes nothing there.
 */
function visitOf(
  target: TargetConfig,
  report: TargetReport,
  nowMs: number,
  refusedLogin: Refusal | null | undefined,
  refusedLeases: Readonly<Record<string, Refusal | null>> | undefined,
): TargetVisit {
  const capped = (ttl: number | undefined, incrementSeconds: number): number[] =>
    ttl !== undefined && ttl < incrementSeconds ? [ttl] : [];
  const ttls = [
    ...capped(report.token.ttlSeconds, target.incrementSeconds),
    ...report.leases.flatMap((l) =>
      capped(
        l.ttlSeconds,
        target.leases.find((lease) => lease.name === l.name)?.incrementSeconds ?? 0,
      ),
    ),
  ];
  return {
    visited: true,
    ...(ttls.length === 0 ? {} : { diesAtSeconds: nowMs / 1000 + Math.min(...ttls) }),
    pending:
      report.status === TargetStatus.Failed || report.token.outcome === TokenOutcome.Deferred,
    ...(refusedLogin === undefined ? {} : { refusedLogin }),
    ...(refusedLeases === undefined ? {} : { refusedLeases }),
  };
}

async function renewTarget(
  target: TargetConfig,
  secrets: SecretLookup,
  context: RunContext,
): Promise<TargetOutcome> {
  const tokenRead = secrets.get(target.tokenSecretId);
  if (!tokenRead?.ok) {
    return {
      token: { outcome: TokenOutcome.Failed, reason: 'secret-unreadable' },
      leases: skippedLeases(target.leases, 'token secret unreadable'),
      problems: [tokenSecretUnreadable(tokenRead)],
      writes: 0,
    };
  }
  let document: TokenDocument;
  try {
    document = parseTokenDocument(tokenRead.secret.value);
  } catch (error) {
    return {
      token: { outcome: TokenOutcome.Failed, reason: 'secret-malformed' },
      leases: skippedLeases(target.leases, 'token secret malformed'),
      problems: [secretMalformed('token secret', error)],
      writes: 0,
    };
  }

  const credentials = storedCredentials(target, secrets);
  // Before the token step: a login now would move AWSPREVIOUS past the token due.
  const retire = await retireReplaced(target, document, secrets, context);
  const token = await tokenStep(target, document, secrets, context);
  const problems = [
    ...(credentials.problem === undefined ? [] : [credentials.problem]),
    ...token.problems,
  ];
  let writes = token.writes;
  const changes = [...(token.changes ?? [])];
  const refusedLogin = token.refusedLogin === undefined ? {} : { refusedLogin: token.refusedLogin };
  const retirement = {
    ...(retire.retiredToken === true ? { retiredToken: true } : {}),
    ...retireAt(token.replaced, retire.settled, context),
  };
  if (token.active === undefined) {
    return {
      ...retirement,
      ...refusedLogin,
      token: token.token,
      leases:
        token.leasesSkipped === undefined ? [] : skippedLeases(target.leases, token.leasesSkipped),
      problems,
      writes,
      changes,
    };
  }
  // Looked up with a token seen alive this run: in a dry run that predicts a
  // login it tells whether that login would work; a dead or unseen token's
  // refusal would read as a policy gap, so it is not asked.
  const unseen =
    token.token.outcome === TokenOutcome.Failed ||
    (token.token.outcome === TokenOutcome.WouldRelogin &&
      (token.token.reason === TokenReason.Invalid ||
        token.token.reason === TokenReason.Absent ||
        token.token.reason === TokenReason.Requested));
  const secretId = unseen
    ? { problems: [] }
    : await secretIdStep(
        target,
        token.loginSecretId ?? credentials.secretId,
        context,
        token.active,
        token.token.outcome === TokenOutcome.WouldRelogin,
      );
  const leases: LeaseReport[] = [];
  const refusedLeases: Record<string, Refusal | null> = {};
  const unknown = [...(token.unknown ?? [])];
  // One lease after the other: they share the target's token, and a Vault
  // that struggles with one is not hit by the rest at once.
  for (const lease of target.leases) {
    const result = await leaseStep(target, lease, secrets, context, {
      active: token.active,
      replaced: token.replaced,
      ...(token.mayRenewLeases === undefined ? {} : { mayRenewLeases: token.mayRenewLeases }),
      loginDeferred: token.token.outcome === TokenOutcome.Deferred,
    });
    leases.push(result.report);
    if (result.refused !== undefined) refusedLeases[lease.name] = result.refused;
    unknown.push(...(result.unknown ?? []));
    problems.push(...result.problems);
    writes += result.writes;
    changes.push(...(result.changes ?? []));
  }
  problems.push(...secretId.problems);
  return {
    ...retirement,
    ...refusedLogin,
    ...(Object.keys(refusedLeases).length === 0 ? {} : { refusedLeases }),
    token: token.token,
    ...(unknown.length === 0 ? {} : { unknown }),
    ...(secretId.expiresInSeconds === undefined
      ? {}
      : { secretIdExpiresInSeconds: secretId.expiresInSeconds }),
    leases,
    problems,
    writes,
    changes,
  };
}

/**
 * The stored AppRole credentials, read once per run: a broken secret is
 * reported even when this run does not log in (the next re-login would
 * fail), and a good one gives the secret_id the secret_id step looks up.
 */
function storedCredentials(
  target: TargetConfig,
  secrets: SecretLookup,
): { readonly problem?: Problem; readonly secretId?: string } {
  // A jwt target keeps no AppRole secret: its login needs nothing stored.
  if (target.approle === undefined) return {};
  const read = secrets.get(target.approle.secretId);
  const unreadable = approleSecretUnusable(read);
  if (!read?.ok) return unreadable === undefined ? {} : { problem: unreadable };
  try {
    return { secretId: parseAppRoleDocument(read.secret.value).secretId };
  } catch (error) {
    const unusable = approleSecretUnusable(read, error);
    return unusable === undefined ? {} : { problem: unusable };
  }
}

/**
 * When the ledger should next retire a replaced token: a login this run
 * starts the grace period; a retirement settled (done, or nothing to do)
 * clears it; otherwise it stays as it was.
 */
function retireAt(
  replacedNow: boolean,
  settled: boolean,
  context: RunContext,
): { readonly retireAtSeconds?: number | null } {
  const grace = context.retireReplacedSeconds;
  if (grace === undefined || context.request.dryRun) return {};
  if (replacedNow) return { retireAtSeconds: context.deps.now() / 1000 + grace };
  return settled ? { retireAtSeconds: null } : {};
}

/**
 * The token a login replaced, revoked once its grace period has passed
 * (`retireReplaced`), so Vault's tokens and leases (and the database users
 * behind them) do not grow with every re-login. The old token is the token
 * secret's AWSPREVIOUS version (nothing secret is kept anywhere else); it is
 * revoked only when every lease secret names the current token, since
 * revoking a token revokes the leases it created. Runs before the token
 * step, whose login would make another version AWSPREVIOUS. `settled`: done,
 * or nothing to do; anything that cannot be settled now (the previous
 * version unreadable, a lease not yet on the current token, Vault out of
 * reach) is tried again next run.
 */
async function retireReplaced(
  target: TargetConfig,
  document: TokenDocument,
  secrets: SecretLookup,
  context: RunContext,
): Promise<{ readonly settled: boolean; readonly retiredToken?: boolean }> {
  const { deps, request, signal, retireReplacedSeconds: grace } = context;
  const due = context.ledger.get(target.name)?.retireAtSeconds;
  if (grace === undefined || request.dryRun || due === undefined || due > deps.now() / 1000) {
    return { settled: false };
  }
  // A run bound by its write budget (a wave of logins) leaves it to a quieter one.
  if (context.writes.busy()) return { settled: false };
  const { readPrevious } = deps.store;
  const { revokeSelf } = deps.vault;
  if (readPrevious === undefined || revokeSelf === undefined) return { settled: true };
  let old: string | undefined;
  try {
    const previous = await readPrevious.call(deps.store, target.tokenSecretId, { signal });
    old = previous === undefined ? undefined : parseTokenDocument(previous.value).token;
  } catch {
    return { settled: false };
  }
  if (old === undefined || old === document.token) return { settled: true };
  const current = document.accessor;
  const leaseStillOnOldToken = target.leases.some((lease) => {
    const read = secrets.get(lease.secretId);
    if (!read?.ok) return true;
    try {
      return parseLeaseDocument(read.secret.value).tokenAccessor !== current;
    } catch {
      return true;
    }
  });
  if (current === undefined || leaseStillOnOldToken) return { settled: false };
  try {
    await revokeSelf.call(deps.vault, target.vault, old, { signal });
    return { settled: true, retiredToken: true };
  } catch (error) {
    const kind = failureKind(error);
    // Already gone, or its policy may not revoke it: it dies at its TTL unrenewed.
    return {
      settled: kind === VaultFailureKind.InvalidToken || kind === VaultFailureKind.PermissionDenied,
    };
  }
}
