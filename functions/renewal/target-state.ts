/**
 * What one target's run has found and done so far, shared by its token and
 * lease steps, and the report made of it.
 */

import type { LeaseConfig } from '../config/types.js';
import { Severity } from '../core/notifier-port.js';
import type { Problem } from '../core/problems.js';
import type { SecretsStore } from '../core/store-port.js';
import { isVaultFailure, type VaultFailureKind, type VaultPort } from '../core/vault-port.js';
import {
  LeaseOutcome,
  type LeaseReport,
  type TargetReport,
  TargetStatus,
  TokenOutcome,
} from './report.js';

export interface RunContext {
  readonly vault: VaultPort;
  readonly store: SecretsStore;
  readonly now: () => number;
  readonly scheduleIntervalSeconds: number;
  readonly dryRun: boolean;
  readonly forceRelogin: boolean;
  readonly signal: AbortSignal;
  /**
   * Builds the idempotency key of a write from the secret and the exact value
   * written (one-way: SHA-256): a retried write of the same value cannot make a
   * second version, and a different value never collides with an earlier key
   * (which AWS would refuse). Keys built from an accessor or a lease id were
   * empty for batch tokens and lease-less paths, and so collided on every run.
   */
  readonly requestToken: (...parts: string[]) => string;
}

/** The token the target's leases are renewed and issued with. */
export interface ActiveToken {
  readonly token: string;
  readonly accessor: string | undefined;
}

export function failureKind(error: unknown): VaultFailureKind | undefined {
  return isVaultFailure(error) ? error.kind : undefined;
}

export function isoAfter(nowMs: number, seconds: number): string {
  return new Date(nowMs + seconds * 1000).toISOString();
}

export class TargetState {
  public readonly problems: Problem[] = [];
  public readonly leaseReports: LeaseReport[] = [];
  public tokenOutcome: TargetReport['token'] = { outcome: TokenOutcome.Untouched };
  public writes = 0;

  /** Reports `lease` as failed for `reason`, with the problem that says why. */
  public failLease(lease: LeaseConfig, reason: string, problem: Problem): void {
    this.problems.push(problem);
    this.leaseReports.push({ name: lease.name, outcome: LeaseOutcome.Failed, reason });
  }

  public skipLeases(leases: readonly LeaseConfig[], reason: string): void {
    for (const lease of leases) {
      this.leaseReports.push({ name: lease.name, outcome: LeaseOutcome.Skipped, reason });
    }
  }

  public report(target: string, durationMs: number): TargetReport {
    const failed = this.problems.some(
      (p) => p.severity === Severity.Error || p.severity === Severity.Critical,
    );
    const status = failed
      ? TargetStatus.Failed
      : this.writes > 0
        ? TargetStatus.Changed
        : TargetStatus.Ok;
    return {
      target,
      status,
      token: this.tokenOutcome,
      leases: this.leaseReports,
      problems: this.problems,
      writes: this.writes,
      durationMs,
    };
  }
}
