import { SNSClient } from '@aws-sdk/client-sns';
import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from '../../../functions/aws/errors.js';
import {
  createSnsNotifier,
  findMessageProblems,
  MESSAGE_MAX_BYTES,
} from '../../../functions/aws/sns-notifier.js';
import type { OutgoingMessage } from '../../../functions/core/notifier-port.js';

const VALID: OutgoingMessage = {
  subject: '[CRITICAL] billing-api: Vault token expires in 12 minutes',
  body: 'The token could not be renewed.\n\n{"version":1}',
  attributes: { severity: 'CRITICAL', target: 'billing-api', event: 'token.renew-failed' },
};

function withSubject(subject: string): OutgoingMessage {
  return { ...VALID, subject };
}

describe('findMessageProblems', () => {
  it('accepts a well-formed message', () => {
    expect(findMessageProblems(VALID)).toEqual([]);
  });

  it('accepts a 99-character subject, the longest SNS takes ("less than 100")', () => {
    expect(findMessageProblems(withSubject('x'.repeat(99)))).toEqual([]);
  });

  it.each([
    ['an empty subject', '', 'subject is empty'],
    ['a 100-character subject', 'x'.repeat(100), 'subject has 100 characters, at most 99'],
    ['a newline', 'token expired\nsee body', 'subject contains a line break'],
    ['a carriage return', 'token expired\r', 'subject contains a line break'],
    ['a tab', 'token\texpired', 'outside printable ASCII at position 5'],
    [
      'a non-ASCII letter',
      'Vault token abgelaufen für app',
      'outside printable ASCII at position 24',
    ],
    ['an emoji', '🔥 token expired', 'outside printable ASCII at position 0'],
    ['a DEL control character', 'token\u007f', 'outside printable ASCII at position 5'],
  ])('rejects %s in the subject', (_case, subject, problem) => {
    const problems = findMessageProblems(withSubject(subject));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('rejects an empty body, which SNS refuses', () => {
    expect(findMessageProblems({ ...VALID, body: '' })).toEqual(['body is empty']);
  });

  it('counts the body and every attribute name, type and value against 256 KiB', () => {
    const attributes = { severity: 'INFO' };
    const attributeBytes = 'severity'.length + 'String'.length + 'INFO'.length;
    const atLimit = { ...VALID, attributes, body: 'x'.repeat(MESSAGE_MAX_BYTES - attributeBytes) };
    const overLimit = { ...atLimit, body: `${atLimit.body}x` };

    expect(findMessageProblems(atLimit)).toEqual([]);
    expect(findMessageProblems(overLimit)).toEqual([
      `body and attributes take ${MESSAGE_MAX_BYTES + 1} bytes, at most ${MESSAGE_MAX_BYTES} allowed`,
    ]);
  });

  it('measures the chat form with the attributes too: it is published with them', () => {
    const attributes = { severity: 'INFO' };
    const attributeBytes = 'severity'.length + 'String'.length + 'INFO'.length;
    const chatOf = (description: string) =>
      ({
        version: '1.0',
        source: 'custom',
        id: 'i',
        content: {
          textType: 'client-markdown',
          title: 't',
          description,
          nextSteps: [],
          keywords: [],
        },
        metadata: {
          threadId: 't',
          summary: 's',
          eventType: 'e',
          relatedResources: [],
          additionalContext: {},
        },
      }) as const;
    const emptyBytes = JSON.stringify(chatOf('')).length;
    const atLimit = chatOf('x'.repeat(MESSAGE_MAX_BYTES - attributeBytes - emptyBytes));
    const overLimit = chatOf('x'.repeat(MESSAGE_MAX_BYTES - attributeBytes - emptyBytes + 1));

    expect(findMessageProblems({ ...VALID, attributes, chat: atLimit })).toEqual([]);
    expect(findMessageProblems({ ...VALID, attributes, chat: overLimit })).toEqual([
      `chat form and attributes take ${MESSAGE_MAX_BYTES + 1} bytes, at most ${MESSAGE_MAX_BYTES} allowed`,
    ]);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const body = 'é'.repeat(MESSAGE_MAX_BYTES / 2); // 2 bytes each: exactly the limit on its own

    expect(findMessageProblems({ ...VALID, attributes: {}, body })).toEqual([]);
    expect(findMessageProblems({ ...VALID, attributes: { a: 'b' }, body })).toHaveLength(1);
  });

  it('allows 10 attributes and rejects 11', () => {
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`attr${i}`, 'v']));
    const eleven = { ...ten, attr10: 'v' };

    expect(findMessageProblems({ ...VALID, attributes: ten })).toEqual([]);
    expect(findMessageProblems({ ...VALID, attributes: eleven })).toEqual([
      '11 message attributes, at most 10 allowed',
    ]);
  });

  it.each([
    ['an empty name', { '': 'x' }, 'a message attribute has an empty name'],
    ['an empty value', { severity: '' }, 'message attribute "severity" has an empty value'],
    ['a space in the name', { 'my attr': 'x' }, 'may only contain A-Z a-z 0-9 _ - .'],
    ['a leading period', { '.severity': 'x' }, 'must not start or end with a period'],
    ['two periods in a row', { 'a..b': 'x' }, 'must not start or end with a period'],
    ['the reserved AWS. prefix', { 'aws.severity': 'x' }, 'prefix reserved for AWS'],
    ['the reserved Amazon. prefix', { 'Amazon.x': 'x' }, 'prefix reserved for AWS'],
    ['a 257-character name', { ['n'.repeat(257)]: 'x' }, 'has 257 characters, at most 256'],
  ])('rejects an attribute with %s', (_case, attributes, problem) => {
    const problems = findMessageProblems({ ...VALID, attributes });

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(problem);
  });

  it('reports every problem at once', () => {
    const problems = findMessageProblems({ subject: '', body: '', attributes: { '': '' } });

    expect(problems).toEqual([
      'subject is empty',
      'body is empty',
      'a message attribute has an empty name',
      'message attribute "" has an empty value',
    ]);
  });

  it('never repeats the body in a problem', () => {
    const planted = 'PLANTED-SECRET-hvs.CAESIJ';
    const body = `${planted}${'x'.repeat(MESSAGE_MAX_BYTES)}`;

    const problems = findMessageProblems({ ...VALID, subject: `\n${planted}`, body });

    expect(problems.join('\n')).not.toContain(planted);
  });
});

describe('createSnsNotifier', () => {
  it('throws InvalidMessageError naming the problems without calling SNS', async () => {
    // Nothing listens on port 9: a call that reached the wire would fail as a PublishError.
    const client = new SNSClient({
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    const notifier = createSnsNotifier({
      client,
      topicArn: 'arn:aws:sns:us-east-1:123456789012:alerts',
    });

    const publishing = notifier.publish({ ...VALID, subject: 'line one\nline two' });

    await expect(publishing).rejects.toBeInstanceOf(InvalidMessageError);
    await expect(publishing).rejects.toMatchObject({
      problems: ['subject contains a line break'],
      message: 'SNS message rejected before sending: subject contains a line break',
    });
    client.destroy();
  });
});
