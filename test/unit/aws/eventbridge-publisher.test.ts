import { EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { describe, expect, it } from 'vitest';
import {
  createEventBridgePublisher,
  ENTRY_ATTEMPTS,
  entrySizeBytes,
  PUT_EVENTS_MAX_BYTES,
  packBatches,
  toEntry,
} from '../../../functions/aws/eventbridge-publisher.js';
import type { CredentialChange } from '../../../functions/core/change-events-port.js';

/*
 * The publisher runs against a real EventBridgeClient whose wire is replaced
 * by a first-step middleware answering from a function: partial failures
 * (FailedEntryCount) are hard to produce on moto.
 * test/integration/change-events.test.ts covers the real server.
 */

type Answer = { FailedEntryCount?: number; Entries?: Record<string, string>[] } | Error;

function clientAnswering(answer: (entries: PutEventsRequestEntry[], call: number) => Answer): {
  client: EventBridgeClient;
  calls: PutEventsRequestEntry[][];
} {
  const client = new EventBridgeClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  const calls: PutEventsRequestEntry[][] = [];
  client.middlewareStack.add(
    (_next) => async (args) => {
      const entries = structuredClone((args.input as { Entries: PutEventsRequestEntry[] }).Entries);
      calls.push(entries);
      const output = answer(entries, calls.length);
      if (output instanceof Error) throw output;
      return { output: { $metadata: {}, ...output }, response: {} } as never;
    },
    { step: 'initialize', name: 'answerFromFunction', priority: 'high' },
  );
  return { client, calls };
}

const allPut = (entries: PutEventsRequestEntry[]): Answer => ({
  FailedEntryCount: 0,
  Entries: entries.map((_, i) => ({ EventId: `e${i}` })),
});

function change(index: number, extra: Partial<CredentialChange> = {}): CredentialChange {
  return {
    target: `t${index}`,
    kind: 'lease',
    name: 'db',
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:t${index}/db-AbC123`,
    versionId: `0000000${index}-0000-8000-8000-000000000000`,
    reason: 'gone',
    expiresAt: '2026-12-01T12:00:00.000Z',
    ...extra,
  };
}

describe('EventBridge change-event publisher', () => {
  it('puts each change as a Credential Changed event from vault-renewer on the configured bus', async () => {
    // Prepare
    const { client, calls } = clientAnswering(allPut);
    const publisher = createEventBridgePublisher({ client, eventBusName: 'credential-changes' });

    // Act
    const outcome = await publisher.publish([change(1)]);

    // Assess
    expect(outcome).toEqual({ published: 1, failures: [] });
    expect(calls).toEqual([
      [
        {
          EventBusName: 'credential-changes',
          Source: 'vault-renewer',
          DetailType: 'Credential Changed',
          Detail: JSON.stringify({
            target: 't1',
            kind: 'lease',
            name: 'db',
            secretArn: change(1).secretArn,
            versionId: change(1).versionId,
            reason: 'gone',
            expiresAt: '2026-12-01T12:00:00.000Z',
          }),
          Resources: [change(1).secretArn],
        },
      ],
    ]);
  });

  it('puts only the named fields in detail, and a secret name (no ARN) not in resources', () => {
    const planted = { ...change(1), secretArn: 'team/t1/db', value: 'hunter2' } as CredentialChange;

    const entry = toEntry(planted, 'default');

    expect(entry.Detail).not.toContain('hunter2');
    expect(entry.Resources).toBeUndefined();
    expect(JSON.parse(entry.Detail ?? '{}')).toMatchObject({ secretArn: 'team/t1/db' });
  });

  it('sends 23 changes in calls of 10, 10 and 3, in order', async () => {
    const { client, calls } = clientAnswering(allPut);
    const changes = Array.from({ length: 23 }, (_, i) => change(i));

    const outcome = await createEventBridgePublisher({ client, eventBusName: 'default' }).publish(
      changes,
    );

    expect(outcome.published).toBe(23);
    expect(calls.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(calls.flat().map((e) => JSON.parse(e.Detail ?? '{}').target)).toEqual(
      changes.map((c) => c.target),
    );
  });

  it('starts a new call before the entries pass 256 KB, and refuses an entry larger than that alone', () => {
    // Prepare: entries of about 100 KB (a long reason), and one of 300 KB.
    const big = (i: number) => change(i, { reason: 'x'.repeat(100 * 1024) });
    const huge = change(9, { reason: 'x'.repeat(300 * 1024) });

    // Act
    const batches = packBatches([big(1), big(2), big(3), huge, big(4)], 'default');

    // Assess
    expect(batches.map((b) => ('tooLarge' in b ? 'too-large' : b.changes.length))).toEqual([
      2,
      'too-large',
      2,
    ]);
    expect(entrySizeBytes(toEntry(big(1), 'default')) * 2).toBeLessThan(PUT_EVENTS_MAX_BYTES);
  });

  it('puts failed entries again when EventBridge says to retry them, and reports those that stay failed', async () => {
    // Prepare: call 1 fails entry 0 (throttled) and entry 2 (malformed, final);
    // call 2 fails the throttled one again; call 3 puts it.
    const { client, calls } = clientAnswering((entries, call) => {
      if (call === 1) {
        return {
          FailedEntryCount: 2,
          Entries: [
            { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' },
            { EventId: 'e1' },
            { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' },
          ],
        };
      }
      if (call === 2) {
        return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] };
      }
      return allPut(entries);
    });

    // Act
    const outcome = await createEventBridgePublisher({ client, eventBusName: 'default' }).publish([
      change(0),
      change(1),
      change(2),
    ]);

    // Assess
    expect(calls.map((c) => c.map((e) => JSON.parse(e.Detail ?? '{}').target))).toEqual([
      ['t0', 't1', 't2'],
      ['t0'],
      ['t0'],
    ]);
    expect(outcome.published).toBe(2);
    expect(outcome.failures).toEqual([
      { change: change(2), code: 'MalformedDetail', message: 'Detail is malformed.' },
    ]);
  });

  it(`gives up on an entry after ${ENTRY_ATTEMPTS} tries`, async () => {
    const { client, calls } = clientAnswering(() => ({
      FailedEntryCount: 1,
      Entries: [{ ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }],
    }));

    const outcome = await createEventBridgePublisher({ client, eventBusName: 'default' }).publish([
      change(0),
    ]);

    expect(calls).toHaveLength(ENTRY_ATTEMPTS);
    expect(outcome).toEqual({
      published: 0,
      failures: [{ change: change(0), code: 'ThrottlingException', message: 'Rate exceeded' }],
    });
  });

  it('reports every entry of a call that failed whole, and goes on with the next call', async () => {
    // Prepare: the first call is denied, the second goes through.
    const denied = Object.assign(new Error('User is not authorized to perform: events:PutEvents'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    const { client } = clientAnswering((entries, call) => (call === 1 ? denied : allPut(entries)));
    const changes = Array.from({ length: 12 }, (_, i) => change(i));

    // Act
    const outcome = await createEventBridgePublisher({ client, eventBusName: 'default' }).publish(
      changes,
    );

    // Assess
    expect(outcome.published).toBe(2);
    expect(outcome.failures.map((f) => f.change.target)).toEqual(
      changes.slice(0, 10).map((c) => c.target),
    );
    expect(outcome.failures[0]).toMatchObject({
      code: 'AccessDeniedException',
      message: expect.stringContaining('events:PutEvents'),
    });
  });

  it('stops retrying when the deadline passes, and says so', async () => {
    const controller = new AbortController();
    const { client } = clientAnswering(() => {
      controller.abort();
      return { FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] };
    });

    const outcome = await createEventBridgePublisher({ client, eventBusName: 'default' }).publish(
      [change(0)],
      { signal: controller.signal },
    );

    expect(outcome.failures).toEqual([
      { change: change(0), code: 'AbortError', message: expect.stringContaining('deadline') },
    ]);
  });
});
