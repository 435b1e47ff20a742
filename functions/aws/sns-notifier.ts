import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { Notifier, OutgoingMessage } from '../core/notifier-port.js';
import { describeAwsFailure, InvalidMessageError, PublishError } from './errors.js';

/**
 * Subject: AWS documents "less than 100 characters, no line breaks or control
 * characters"; older docs and email clients want ASCII. Printable ASCII keeps
 * it intact everywhere (aws-facts §2.1).
 */
export const SUBJECT_MAX_CHARS = 99;
/** Default topic limit; the body and every attribute's name, type and value count (aws-facts §2.1). */
export const MESSAGE_MAX_BYTES = 262_144;
/** More are discarded by SQS subscriptions with raw delivery (aws-facts §2.1). */
export const MESSAGE_MAX_ATTRIBUTES = 10;
export const ATTRIBUTE_NAME_MAX_CHARS = 256;

const ATTRIBUTE_DATA_TYPE = 'String';
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const ATTRIBUTE_NAME_CHARS = /^[A-Za-z0-9_.-]+$/;
/** Reserved for AWS, in any casing (SNS "message attributes" docs). */
const RESERVED_ATTRIBUTE_PREFIX = /^(aws|amazon)\./i;

export interface SnsNotifierOptions {
  readonly client: SNSClient;
  /** A standard topic: FIFO topics cannot deliver to email (aws-facts §2.1). */
  readonly topicArn: string;
  /**
   * The chat topic, mapped to a channel in Amazon Q Developer in chat
   * applications: it gets the chat form of each message that has one. Absent:
   * no chat form is sent.
   */
  readonly chatTopicArn?: string;
}

/**
 * Publishes each message to the alert topic and, when it has a chat form and a
 * chat topic is configured, that form to the chat topic. Two topics rather
 * than one `MessageStructure=json` publish with a body per protocol: SNS sends
 * message attributes only for String structure (SNS docs, "Amazon SNS message
 * attributes"), and Amazon Q subscribes over HTTPS, so its `https` body would
 * also reach every pager webhook on the topic. Both publishes are plain
 * String structure with the same attributes, so filter policies work on both.
 */
export function createSnsNotifier(options: SnsNotifierOptions): Notifier {
  const { client, topicArn, chatTopicArn } = options;
  return {
    async publish(message, publishOptions) {
      const problems = findMessageProblems(message);
      if (problems.length > 0) throw new InvalidMessageError(problems);

      const messageAttributes: Record<string, MessageAttributeValue> = {};
      for (const [name, value] of Object.entries(message.attributes)) {
        messageAttributes[name] = { DataType: ATTRIBUTE_DATA_TYPE, StringValue: value };
      }
      const signal = publishOptions?.signal;
      const send = async (arn: string, body: string): Promise<void> => {
        try {
          await client.send(
            new PublishCommand({
              TopicArn: arn,
              Subject: message.subject,
              Message: body,
              MessageAttributes: messageAttributes,
            }),
            signal === undefined ? {} : { abortSignal: signal },
          );
        } catch (error) {
          throw new PublishError(arn, describeAwsFailure(error, [body]), { cause: error });
        }
      };
      // The alert topic first: e-mail and the machine subscribers are the
      // record; chat is a view of it.
      await send(topicArn, message.body);
      if (chatTopicArn !== undefined && message.chat !== undefined) {
        await send(chatTopicArn, JSON.stringify(message.chat));
      }
    },
  };
}

/**
 * Every SNS Publish constraint the message breaks, so one error names them all
 * instead of SNS rejecting them one at a time. Problems name the field and
 * the limit, never the body.
 */
export function findMessageProblems(message: OutgoingMessage): string[] {
  const problems: string[] = [];
  const { subject, body, attributes } = message;

  if (subject.length === 0) {
    problems.push('subject is empty');
  } else if (subject.length > SUBJECT_MAX_CHARS) {
    problems.push(`subject has ${subject.length} characters, at most ${SUBJECT_MAX_CHARS} allowed`);
  }
  if (/[\r\n]/.test(subject)) {
    problems.push('subject contains a line break');
  } else if (!PRINTABLE_ASCII.test(subject)) {
    const index = [...subject].findIndex((char) => !PRINTABLE_ASCII.test(char));
    problems.push(
      `subject contains a character outside printable ASCII at position ${index} (only 0x20-0x7E allowed)`,
    );
  }

  if (body.length === 0) problems.push('body is empty');

  const names = Object.keys(attributes);
  if (names.length > MESSAGE_MAX_ATTRIBUTES) {
    problems.push(`${names.length} message attributes, at most ${MESSAGE_MAX_ATTRIBUTES} allowed`);
  }
  let attributeBytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    problems.push(...findAttributeNameProblems(name));
    if (value.length === 0) {
      problems.push(`message attribute ${JSON.stringify(name)} has an empty value`);
    }
    attributeBytes +=
      Buffer.byteLength(name, 'utf8') +
      Buffer.byteLength(ATTRIBUTE_DATA_TYPE, 'utf8') +
      Buffer.byteLength(value, 'utf8');
  }
  // Each publish carries the attributes, so each body is measured with them.
  const sizeBytes = Buffer.byteLength(body, 'utf8') + attributeBytes;
  if (sizeBytes > MESSAGE_MAX_BYTES) {
    problems.push(
      `body and attributes take ${sizeBytes} bytes, at most ${MESSAGE_MAX_BYTES} allowed`,
    );
  }
  if (message.chat !== undefined) {
    const chatBytes = Buffer.byteLength(JSON.stringify(message.chat), 'utf8') + attributeBytes;
    if (chatBytes > MESSAGE_MAX_BYTES) {
      problems.push(
        `chat form and attributes take ${chatBytes} bytes, at most ${MESSAGE_MAX_BYTES} allowed`,
      );
    }
  }
  return problems;
}

/** SNS attribute names: `[A-Za-z0-9_.-]`, no leading, trailing or doubled period, no `AWS.`/`Amazon.` prefix, at most 256 characters. */
function findAttributeNameProblems(name: string): string[] {
  if (name.length === 0) return ['a message attribute has an empty name'];
  const quoted = JSON.stringify(name);
  const problems: string[] = [];
  if (name.length > ATTRIBUTE_NAME_MAX_CHARS) {
    problems.push(
      `message attribute name ${quoted.slice(0, 40)}... has ${name.length} characters, at most ${ATTRIBUTE_NAME_MAX_CHARS} allowed`,
    );
    return problems;
  }
  if (!ATTRIBUTE_NAME_CHARS.test(name)) {
    problems.push(`message attribute name ${quoted} may only contain A-Z a-z 0-9 _ - .`);
  }
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    problems.push(
      `message attribute name ${quoted} must not start or end with a period or contain two in a row`,
    );
  }
  if (RESERVED_ATTRIBUTE_PREFIX.test(name)) {
    problems.push(`message attribute name ${quoted} uses a prefix reserved for AWS`);
  }
  return problems;
}
