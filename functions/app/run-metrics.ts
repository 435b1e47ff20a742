/**
 * CloudWatch metrics of one run, written as EMF by Powertools Metrics (no
 * PutMetricData calls, no IAM needed).
 */

import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { isFailureSeverity } from '../core/notifier-port.js';
import type { RunReport } from '../renewal/report.js';

export const METRIC = {
  TokensRenewed: 'TokensRenewed',
  Relogins: 'Relogins',
  LeasesRenewed: 'LeasesRenewed',
  LeasesReissued: 'LeasesReissued',
  TargetsFailed: 'TargetsFailed',
  TargetsSkipped: 'TargetsSkipped',
  Problems: 'Problems',
  SoonestExpirySeconds: 'SoonestExpirySeconds',
  /** Soonest AppRole secret_id expiry: an alarm on it warns before logins start failing. */
  SoonestSecretIdExpirySeconds: 'SoonestSecretIdExpirySeconds',
  RunDuration: 'RunDuration',
  /** 1 per completed scheduled run: the heartbeat alarm watches it. */
  RunsCompleted: 'RunsCompleted',
  /** Failures (severity ERROR or CRITICAL): the failure alarm watches it. */
  Failures: 'Failures',
  /** 1 per dry run: the only metric a dry run records. */
  DryRuns: 'DryRuns',
  /** `Credential Changed` events put on EventBridge. */
  ChangeEventsPublished: 'ChangeEventsPublished',
  /** Change events that could not be put (each is logged): consumers did not hear of a change. */
  ChangeEventsFailed: 'ChangeEventsFailed',
  /** Incidents the run opened and resolved (with incident state): the dashboard's incident lines. */
  IncidentsOpened: 'IncidentsOpened',
  IncidentsResolved: 'IncidentsResolved',
} as const;

/** The metrics sink the run needs (Powertools Metrics satisfies it). */
export type RunMetricsSink = Pick<Metrics, 'addMetric'> & {
  singleMetric(): Pick<Metrics, 'addMetric' | 'addDimension'>;
};

/**
 * What the run's metrics may feed. Alarms read `Failures`,
 * `SoonestSecretIdExpirySeconds` and `ChangeEventsFailed`, and the heartbeat
 * `RunsCompleted`: a dry run changes nothing and must trip none of them,
 * and only the schedule's runs prove the schedule is alive.
 */
export interface RunKind {
  readonly dryRun: boolean;
  readonly scheduled: boolean;
}

export function recordRunMetrics(metrics: RunMetricsSink, report: RunReport, kind: RunKind): void {
  if (kind.dryRun) {
    // What a dry run found is in its report and messages; its numbers would read as a real run's.
    metrics.addMetric(METRIC.DryRuns, MetricUnit.Count, 1);
    return;
  }
  const tokens = report.targets.map((t) => t.token.outcome);
  const leases = report.targets.flatMap((t) => t.leases.map((l) => l.outcome));
  const problems = report.targets.flatMap((t) => t.problems);
  metrics.addMetric(
    METRIC.TokensRenewed,
    MetricUnit.Count,
    tokens.filter((o) => o === 'renewed').length,
  );
  metrics.addMetric(
    METRIC.Relogins,
    MetricUnit.Count,
    tokens.filter((o) => o === 'relogged-in').length,
  );
  metrics.addMetric(
    METRIC.LeasesRenewed,
    MetricUnit.Count,
    leases.filter((o) => o === 'renewed').length,
  );
  metrics.addMetric(
    METRIC.LeasesReissued,
    MetricUnit.Count,
    leases.filter((o) => o === 'reissued').length,
  );
  metrics.addMetric(METRIC.TargetsFailed, MetricUnit.Count, report.summary.failed);
  metrics.addMetric(METRIC.TargetsSkipped, MetricUnit.Count, report.summary.skipped);
  metrics.addMetric(
    METRIC.Failures,
    MetricUnit.Count,
    // What the run repaired was told once; the failure alarm is for what it left broken.
    problems.filter((p) => isFailureSeverity(p.severity) && !p.repaired).length,
  );
  metrics.addMetric(METRIC.ChangeEventsPublished, MetricUnit.Count, report.changeEvents.published);
  metrics.addMetric(METRIC.ChangeEventsFailed, MetricUnit.Count, report.changeEvents.failed);
  metrics.addMetric(METRIC.RunDuration, MetricUnit.Milliseconds, report.durationMs);
  if (report.incidents !== undefined && report.incidents.state !== 'off') {
    metrics.addMetric(METRIC.IncidentsOpened, MetricUnit.Count, report.incidents.opened);
    metrics.addMetric(METRIC.IncidentsResolved, MetricUnit.Count, report.incidents.resolved);
  }
  if (report.summary.soonestExpirySeconds !== undefined) {
    metrics.addMetric(
      METRIC.SoonestExpirySeconds,
      MetricUnit.Seconds,
      report.summary.soonestExpirySeconds,
    );
  }
  if (report.summary.soonestSecretIdExpirySeconds !== undefined) {
    metrics.addMetric(
      METRIC.SoonestSecretIdExpirySeconds,
      MetricUnit.Seconds,
      report.summary.soonestSecretIdExpirySeconds,
    );
  }
  if (kind.scheduled) metrics.addMetric(METRIC.RunsCompleted, MetricUnit.Count, 1);
  // Failures by class: one EMF blob per problem code, dimensioned by event.
  const byCode = new Map<string, number>();
  for (const problem of problems) {
    byCode.set(problem.code, (byCode.get(problem.code) ?? 0) + 1);
  }
  for (const [code, count] of byCode) {
    const single = metrics.singleMetric();
    single.addDimension('event', code);
    single.addMetric(METRIC.Problems, MetricUnit.Count, count);
  }
}
