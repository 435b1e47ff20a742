/**
 * The event Secrets Manager sends the rotation function, once per step
 * (aws-facts §1.1): `{Step, SecretId, ClientRequestToken, RotationToken?}`.
 * Anything else is refused with an error naming the problem.
 */

import { RotationStep } from '../rotation/step-context.js';

export class InvalidRotationEventError extends Error {
  public constructor(problem: string) {
    super(
      `${problem}. The rotate function takes Secrets Manager's rotation event: {"Step": "createSecret" | "setSecret" | "testSecret" | "finishSecret", "SecretId": "<secret ARN>", "ClientRequestToken": "<version id>"}; to rotate a secret now, use the console's "Rotate secret immediately" or npm run rotate.`,
    );
    this.name = 'InvalidRotationEventError';
  }
}

export interface RotateEvent {
  readonly step: RotationStep;
  readonly secretId: string;
  readonly token: string;
}

const STEPS: readonly string[] = Object.values(RotationStep);

export function parseRotateEvent(event: unknown): RotateEvent {
  if (event === null || typeof event !== 'object' || Array.isArray(event)) {
    throw new InvalidRotationEventError('the event is not a JSON object');
  }
  const { Step, SecretId, ClientRequestToken } = event as Record<string, unknown>;
  if (typeof Step !== 'string' || !STEPS.includes(Step)) {
    throw new InvalidRotationEventError(
      `"Step" must be one of ${STEPS.join(', ')}, ${refusedStep(Step)}`,
    );
  }
  if (typeof SecretId !== 'string' || SecretId.trim() === '') {
    throw new InvalidRotationEventError('"SecretId" must be the secret\'s ARN or name');
  }
  if (typeof ClientRequestToken !== 'string' || !/^[\x21-\x7e]{32,64}$/.test(ClientRequestToken)) {
    throw new InvalidRotationEventError(
      '"ClientRequestToken" must be the new version\'s id (32-64 characters)',
    );
  }
  return { step: Step as RotationStep, secretId: SecretId, token: ClientRequestToken };
}

const letters = (value: string): string => value.toLowerCase().replace(/[^a-z]/g, '');

/**
 * What to say of a refused Step without repeating it (a refused value is
 * not known not to be a secret): nothing sent, or the step it spells
 * another way.
 */
function refusedStep(value: unknown): string {
  if (value === undefined) return 'got nothing';
  const meant =
    typeof value === 'string' ? STEPS.find((step) => letters(step) === letters(value)) : undefined;
  return meant === undefined
    ? 'got another value (not repeated)'
    : `got another spelling of ${JSON.stringify(meant)}`;
}
