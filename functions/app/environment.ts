/**
 * The renew function's environment, read once at cold start into a frozen
 * object. Every problem is reported at once, by variable name; nothing falls
 * back silently. Powertools reads its own POWERTOOLS_* variables.
 */

import * as z from 'zod/mini';
import { RESOLVED_CONFIG_FILE } from '../config/resolved.js';
import '../config/zod-locale.js';

/** The service name when the environment names none (local runs, tests). */
export const DEFAULT_SERVICE_NAME = 'vault-renewer';

/** The account's own bus, which every account has. */
export const DEFAULT_EVENT_BUS_NAME = 'default';
/**
 * A bus name (EventBridge allows [/.\-_A-Za-z0-9], 1-256), not an ARN: the IAM
 * grant (infra/iam.yml) is this bus in the function's own account and region.
 * `npm run package` checks the stage param against it too.
 */
export const EVENT_BUS_NAME_PATTERN = /^[A-Za-z0-9._/-]{1,256}$/;

const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

const schema = z.object({
  ALERT_TOPIC_ARN: z
    .string({ error: 'is required' })
    .check(z.trim(), z.regex(TOPIC_ARN, 'must be an SNS topic ARN')),
  // Empty (the deploy's default) means no chat topic.
  CHAT_TOPIC_ARN: z.optional(
    z.string().check(z.trim(), z.regex(TOPIC_ARN, 'must be an SNS topic ARN or empty')),
  ),
  POWERTOOLS_SERVICE_NAME: z._default(
    z.string().check(z.trim(), z.regex(/^[A-Za-z0-9._-]{1,128}$/, 'must be a plain name')),
    DEFAULT_SERVICE_NAME,
  ),
  EVENT_BUS_NAME: z._default(
    z
      .string()
      .check(
        z.trim(),
        z.regex(
          EVENT_BUS_NAME_PATTERN,
          'must be an event bus name in this account (letters, digits, . _ - /), not an ARN',
        ),
      ),
    DEFAULT_EVENT_BUS_NAME,
  ),
  INCIDENT_TABLE_NAME: z.optional(
    z
      .string()
      .check(
        z.trim(),
        z.regex(
          /^[A-Za-z0-9_.-]{3,255}$/,
          'must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)',
        ),
      ),
  ),
  // The stack's targets bucket (config targetsObject); empty when the config has no object.
  TARGETS_BUCKET: z.optional(
    z
      .string()
      .check(z.trim(), z.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name')),
  ),
  RENEWER_CONFIG_FILE: z._default(
    z.string().check(z.trim(), z.minLength(1, 'must not be blank')),
    RESOLVED_CONFIG_FILE,
  ),
});

export interface RenewEnvironment {
  readonly alertTopicArn: string;
  /** The chat topic (Amazon Q Developer in chat applications), when the stage has one. */
  readonly chatTopicArn?: string;
  /** `service` of logs and metrics (POWERTOOLS_SERVICE_NAME). */
  readonly serviceName: string;
  readonly configFile: string;
  /** The incident table (DynamoDB); absent: every problem is published each run. */
  readonly incidentTableName?: string;
  /** The EventBridge bus `Credential Changed` events go to (EVENT_BUS_NAME). */
  readonly eventBusName: string;
  /** The stack's targets bucket (TARGETS_BUCKET), when the config has a targets object. */
  readonly targetsBucket?: string;
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
    CHAT_TOPIC_ARN: env.CHAT_TOPIC_ARN?.trim() === '' ? undefined : env.CHAT_TOPIC_ARN,
    RENEWER_CONFIG_FILE: env.RENEWER_CONFIG_FILE,
    TARGETS_BUCKET: env.TARGETS_BUCKET?.trim() === '' ? undefined : env.TARGETS_BUCKET,
    POWERTOOLS_SERVICE_NAME: env.POWERTOOLS_SERVICE_NAME,
    EVENT_BUS_NAME: env.EVENT_BUS_NAME,
    // Empty or `none`: no incident state (osls invoke local, which cannot resolve the table's Ref).
    INCIDENT_TABLE_NAME:
      env.INCIDENT_TABLE_NAME === undefined ||
      env.INCIDENT_TABLE_NAME === '' ||
      env.INCIDENT_TABLE_NAME === 'none'
        ? undefined
        : env.INCIDENT_TABLE_NAME,
  });
  if (!parsed.success) {
    throw new EnvironmentError(parsed.error.issues.map((i) => `${i.path.join('.')} ${i.message}`));
  }
  return Object.freeze({
    alertTopicArn: parsed.data.ALERT_TOPIC_ARN,
    ...(parsed.data.CHAT_TOPIC_ARN === undefined
      ? {}
      : { chatTopicArn: parsed.data.CHAT_TOPIC_ARN }),
    configFile: parsed.data.RENEWER_CONFIG_FILE,
    serviceName: parsed.data.POWERTOOLS_SERVICE_NAME,
    ...(parsed.data.INCIDENT_TABLE_NAME === undefined
      ? {}
      : { incidentTableName: parsed.data.INCIDENT_TABLE_NAME }),
    eventBusName: parsed.data.EVENT_BUS_NAME,
    ...(parsed.data.TARGETS_BUCKET === undefined
      ? {}
      : { targetsBucket: parsed.data.TARGETS_BUCKET }),
  });
}
