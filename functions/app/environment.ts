/**
 * The renew function's environment, read once at cold start into a frozen
 * object. Every problem is reported at once, by variable name; nothing falls
 * back silently. Powertools reads its own POWERTOOLS_* variables.
 */

import { z } from '../config/zod-mini.js';
import { RESOLVED_CONFIG_FILE } from '../config/resolved.js';

const schema = z.object({
  ALERT_TOPIC_ARN: z
    .string({ error: 'is required' })
    .check(
      z.trim(),
      z.regex(
        /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/,
        'must be an SNS topic ARN',
      ),
    ),
  RENEWER_CONFIG_FILE: z._default(
    z.string().check(z.trim(), z.minLength(1, 'must not be blank')),
    RESOLVED_CONFIG_FILE,
  ),
});

export interface RenewEnvironment {
  readonly alertTopicArn: string;
  readonly configFile: string;
}

export class EnvironmentError extends Error {
  public constructor(problems: readonly string[]) {
    super(`Invalid environment: ${problems.join('; ')}`);
    this.name = 'EnvironmentError';
  }
}

export function loadEnvironment(
  env: Readonly<Record<string, string | undefined>>,
): RenewEnvironment {
  const parsed = z.safeParse(schema, {
    ALERT_TOPIC_ARN: env.ALERT_TOPIC_ARN,
    RENEWER_CONFIG_FILE: env.RENEWER_CONFIG_FILE,
  });
  if (!parsed.success) {
    throw new EnvironmentError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  return Object.freeze({
    alertTopicArn: parsed.data.ALERT_TOPIC_ARN,
    configFile: parsed.data.RENEWER_CONFIG_FILE,
  });
}
