import { describe, expect, it } from 'vitest';
import type {
  ChangeEventPublisher,
  CredentialChange,
} from '../../../functions/core/change-events-port.js';
import { createChangeAnnouncer } from '../../../functions/telling/change-announcer.js';

function change(index: number): CredentialChange {
  return {
    target: `t${index}`,
    kind: 'token',
    name: 'token',
    secretArn: `arn:aws:secretsmanager:us-east-1:123456789012:secret:t${index}-AbC123`,
    versionId: `v${index}`,
    reason: 'max-ttl',
    expiresAt: null,
  };
}

function recordingLogger() {
  const errors: { message: string; fields: Record<string, unknown> }[] = [];
  const ignore = () => undefined;
  return {
    errors,
    logger: {
      debug: ignore,
      info: ignore,
      warn: ignore,
      error: (message: string, ...fields: Record<string, unknown>[]) => {
        errors.push({ message, fields: Object.assign({}, ...fields) });
      },
    },
  };
}

describe('the change events of a renewal run', () => {
  it('puts each full group of 10 as targets finish, and the rest when the run settles', async () => {
    // Prepare
    const groups: string[][] = [];
    const changeEvents: ChangeEventPublisher = {
      publish: async (changes) => {
        groups.push(changes.map((c) => c.target));
        return { published: changes.length, failures: [] };
      },
    };
    const { logger } = recordingLogger();
    const announcer = createChangeAnnouncer(
      { changeEvents, logger, now: Date.now },
      Date.now() + 60_000,
    );

    // Act: 23 changes from targets of 1, 2 and 3 changes each.
    let index = 0;
    for (const size of [3, 2, 1, 3, 2, 1, 3, 2, 1, 3, 2]) {
      announcer.add(Array.from({ length: size }, () => change(index++)));
    }
    await new Promise((resolve) => setImmediate(resolve));
    const putBeforeSettle = groups.length;
    const outcome = await announcer.settle();

    // Assess
    expect(putBeforeSettle).toBe(2);
    expect(groups.map((g) => g.length)).toEqual([10, 10, 3]);
    expect(groups.flat()).toEqual(Array.from({ length: 23 }, (_, i) => `t${i}`));
    expect(outcome).toEqual({ published: 23, failed: 0 });
  });

  it('counts and logs the events that could not be put, by credential, without failing', async () => {
    // Prepare: the second change fails; then a publisher bug throws.
    let call = 0;
    const changeEvents: ChangeEventPublisher = {
      publish: async (changes) => {
        call += 1;
        if (call === 2) throw new Error('a bug in the adapter');
        return {
          published: changes.length - 1,
          failures: [{ change: changes[1] ?? change(0), code: 'InternalFailure', message: 'x' }],
        };
      },
    };
    const { logger, errors } = recordingLogger();
    const announcer = createChangeAnnouncer(
      { changeEvents, logger, now: Date.now },
      Date.now() + 60_000,
    );

    // Act
    announcer.add(Array.from({ length: 10 }, (_, i) => change(i)));
    announcer.add([change(10), change(11)]);
    const outcome = await announcer.settle();

    // Assess
    expect(outcome).toEqual({ published: 9, failed: 3 });
    expect(errors.map((e) => e.message)).toEqual([
      'could not put change events',
      'could not put change events',
    ]);
    expect(errors[0]?.fields).toMatchObject({
      failed: 1,
      events: [
        { target: 't1', kind: 'token', name: 'token', versionId: 'v1', code: 'InternalFailure' },
      ],
    });
    expect(errors[1]?.fields).toMatchObject({ failed: 2, error: 'Error: a bug in the adapter' });
  });
});
