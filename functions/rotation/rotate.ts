/**
 * One step of Secrets Manager's rotation protocol for one secret: find the
 * target and kind, check what AWS's templates check, run the step, tell what
 * a person must hear about (a failed step, a previous secret_id left alive)
 * as incidents of that secret's rotations, announce the new version once
 * finishSecret made it current, and report. A failed step opens (or keeps
 * open) the secret's `rotation-failed` incident, told once however often
 * Secrets Manager retries; the next finished rotation resolves it. Each step
 * is idempotent for its ClientRequestToken: Secrets Manager retries whole
 * rotations.
 */

import type { RenewerConfig } from '../config/types.js';
import type { ChangeEventPublisher } from '../core/change-events-port.js';
import { type IncidentStore, rotationScope } from '../core/incident-port.js';
import { composeMessage, type NotificationContext } from '../core/notification.js';
import { type Notifier, Severity } from '../core/notifier-port.js';
import { type Problem, ProblemCode } from '../core/problems.js';
import { describeAnswer } from '../core/wording.js';
import { createChangeAnnouncer } from '../telling/change-announcer.js';
import { idOf, transitionMessage } from '../telling/incident-messages.js';
import { isIncident, planIncidents } from '../telling/incident-plan.js';
import { createTeller, type Teller, type TellerDeps } from '../telling/teller.js';
import { createAppRoleSecret, finishAppRoleSecret, testAppRoleSecret } from './approle-steps.js';
import {
  findRotationTarget,
  Readiness,
  RotationRefusedError,
  type RotationTarget,
  readiness,
  SecretKind,
} from './rotation-target.js';
import {
  type RotationDeps,
  RotationStep,
  RotationStepError,
  type StepContext,
  StepOutcome,
  type StepResult,
} from './step-context.js';
import { createTokenSecret, finishTokenSecret, testTokenSecret } from './token-steps.js';

export interface RotationRequest {
  readonly secretId: string;
  readonly token: string;
  readonly step: RotationStep;
  readonly runId: string;
  readonly signal: AbortSignal;
  /** No message may be published later than this (epoch ms). */
  readonly publishDeadlineAtMs: number;
}

export interface RotateDeps extends RotationDeps {
  readonly notifier: Notifier;
  /** The deployment (POWERTOOLS_SERVICE_NAME): messages name their incident with it. */
  readonly serviceName: string;
  /** Where a message that could not be published is logged (names, never values). */
  readonly logger: TellerDeps['logger'];
  /** Incident state (the table the renew function uses); without it every problem is told as it comes. */
  readonly incidents?: IncidentStore;
  /** The `Credential Changed` event of a finished rotation. */
  readonly changeEvents: ChangeEventPublisher;
}

/** What one step did. Never a value: names, version ids, outcomes and counts. */
export interface RotationReport {
  readonly secret: string;
  readonly target: string;
  readonly kind: SecretKind;
  readonly step: RotationStep;
  readonly versionId: string;
  readonly outcome: StepOutcome;
  readonly problems: readonly { readonly code: string; readonly severity: string }[];
  readonly notifications: { readonly published: number; readonly failed: number };
  /** finishSecret: its `Credential Changed` event, put or not. Other steps: 0 and 0. */
  readonly changeEvents: { readonly published: number; readonly failed: number };
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

export async function rotateStep(
  config: RenewerConfig,
  deps: RotateDeps,
  request: RotationRequest,
): Promise<RotationReport> {
  const { signal } = request;
  const description = await deps.staging.describe(request.secretId, { signal });
  const found = findRotationTarget(config, description);
  if (found === undefined) {
    throw new RotationRefusedError(
      `secret ${JSON.stringify(description.name)} is neither the AppRole secret nor the token secret of a configured target`,
    );
  }
  const ready = readiness(description, request.token);
  const context: StepContext = {
    config,
    deps,
    ...found,
    secretId: request.secretId,
    description,
    token: request.token,
    signal,
  };
  const teller = createTeller(deps, { publishDeadlineAtMs: request.publishDeadlineAtMs });
  let result: StepResult;
  try {
    result = await runStep(context, request.step, ready === Readiness.AlreadyCurrent);
  } catch (error) {
    const problem = failedProblem(config, found, description.name, request.step, error);
    await tell(teller, config, deps, found, request.runId, [problem], false);
    throw error;
  }
  // A finished rotation is what resolves the secret's rotation incidents.
  await tell(
    teller,
    config,
    deps,
    found,
    request.runId,
    result.problems,
    request.step === RotationStep.Finish,
  );
  const { published, failed } = teller.summary();
  const notifications = { published, failed };
  // A repeated finishSecret (Secrets Manager retries) announces again:
  // consumers tell repeats by `versionId`, and a first attempt that died
  // after moving the label would otherwise never tell.
  const announcer = createChangeAnnouncer(deps, request.publishDeadlineAtMs);
  if (result.madeCurrent !== undefined) {
    announcer.add([
      {
        target: found.target.name,
        kind: found.kind,
        name: found.kind,
        secretArn: description.arn,
        versionId: request.token,
        reason: 'rotation',
        expiresAt: result.madeCurrent.expiresAt,
      },
    ]);
  }
  const changeEvents = await announcer.settle();
  return {
    secret: description.name,
    target: found.target.name,
    kind: found.kind,
    step: request.step,
    versionId: request.token,
    outcome: result.outcome,
    problems: result.problems.map((p) => ({ code: p.code, severity: p.severity })),
    notifications,
    changeEvents,
    ...(result.details === undefined ? {} : { details: result.details }),
  };
}

async function runStep(
  context: StepContext,
  step: RotationStep,
  alreadyCurrent: boolean,
): Promise<StepResult> {
  const approle = context.kind === SecretKind.AppRole;
  if (alreadyCurrent && step !== RotationStep.Finish) {
    return { outcome: StepOutcome.AlreadyCurrent, problems: [] };
  }
  switch (step) {
    case RotationStep.Create:
      return approle ? createAppRoleSecret(context) : createTokenSecret(context);
    case RotationStep.Set:
      // Vault already holds the new secret_id (it issued it) or token (it logged in).
      return { outcome: StepOutcome.NothingToSet, problems: [] };
    case RotationStep.Test:
      return approle ? testAppRoleSecret(context) : testTokenSecret(context);
    case RotationStep.Finish:
      return approle
        ? finishAppRoleSecret(context, alreadyCurrent)
        : finishTokenSecret(context, alreadyCurrent);
  }
}

function failedProblem(
  config: RenewerConfig,
  found: RotationTarget,
  secretName: string,
  step: RotationStep,
  error: unknown,
): Problem {
  const answer = error instanceof RotationStepError ? error.answer : describeAnswer(error);
  const summary =
    error instanceof RotationStepError
      ? `The ${step} step of rotating the ${found.kind} secret failed: ${error.message}.`
      : `The ${step} step of rotating the ${found.kind} secret failed; AWSCURRENT is unchanged.`;
  return {
    code: ProblemCode.RotationFailed,
    severity: Severity.Error,
    summary,
    ...(answer === undefined ? {} : { answer }),
    facts: {
      step,
      kind: found.kind,
      secret: secretName,
      ...(config.rotator === undefined ? {} : { rotator: config.rotator }),
    },
  };
}

/**
 * Tells a step's problems: INFO as it comes, the rest as incidents of the
 * secret's rotations (opened once, reminded, worsened); `resolves` when the
 * step finished a rotation, so what is no longer among its problems resolves.
 */
async function tell(
  teller: Teller,
  config: RenewerConfig,
  deps: RotateDeps,
  found: RotationTarget,
  runId: string,
  problems: readonly Problem[],
  resolves: boolean,
): Promise<void> {
  const { target, kind } = found;
  const context: NotificationContext = {
    service: deps.serviceName,
    runId,
    occurredAt: new Date(deps.now()).toISOString(),
    intervalSeconds: config.scheduleIntervalSeconds,
    dryRun: false,
  };
  const about = { target: target.name, kind };
  const incidents = problems.filter(isIncident);
  const events = problems.filter((p) => !isIncident(p));
  const told = events.map((p) => teller.send(composeMessage(p, target, context), about));
  if (incidents.length > 0 || resolves) {
    const scope = rotationScope(target.name, kind);
    // One incident per code and secret: the kind is in its id, so a token's and an AppRole's stay apart.
    const idFor = (key: string) => idOf(context, target.name, `${key}/${kind}`);
    told.push(
      teller.settle(
        {
          scope,
          plan: (stored) =>
            planIncidents(
              scope,
              stored,
              incidents,
              deps.now(),
              config.reminderHours * 3_600_000,
              resolves,
            ),
          message: (t) => transitionMessage(t, target, context, idFor),
          fallback: () => incidents.map((p) => composeMessage(p, target, context)),
          about,
        },
        teller.read([scope]),
      ),
    );
  }
  await Promise.all(told);
}
