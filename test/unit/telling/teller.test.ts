import { describe, expect, it } from 'vitest';
import type { IncidentItem, IncidentStore } from '../../../functions/core/incident-port.js';
import type { Notifier, OutgoingMessage } from '../../../functions/core/notifier-port.js';
import type { Problem } from '../../../functions/core/problems.js';
import { IncidentState, planIncidents } from '../../../functions/telling/incident-plan.js';
import { createTeller, type Settlement } from '../../../functions/telling/teller.js';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const HOUR = 3_600_000;

const problem = (severity: Problem['severity'] = 'ERROR'): Problem => ({
  code: 'rotation-failed',
  severity,
  summary: 'The createSecret step failed.',
});

const message = (subject: string): OutgoingMessage => ({
  subject,
  body: subject,
  attributes: { event: 'rotation-failed', severity: 'ERROR' },
});

/** The port held in memory, with the conditional write the DynamoDB adapter makes. */
function memoryStore(): IncidentStore & {
  items: Map<string, IncidentItem>;
  writes: number;
  reads: string[][];
  failWrites: boolean;
  beforeWrite: (() => void) | undefined;
} {
  const items = new Map<string, IncidentItem>();
  const store = {
    items,
    writes: 0,
    reads: [] as string[][],
    failWrites: false,
    beforeWrite: undefined as (() => void) | undefined,
    async readBatch(scopes: readonly string[]) {
      store.reads.push([...scopes]);
      return new Map(
        scopes.flatMap((s) => (items.has(s) ? [[s, items.get(s)]] : [])) as [
          string,
          IncidentItem,
        ][],
      );
    },
    async write(item: IncidentItem, expectedVersion: number | undefined) {
      store.beforeWrite?.();
      if (store.failWrites) throw new Error('ResourceNotFoundException: no table');
      store.writes += 1;
      if (items.get(item.scope)?.version !== expectedVersion) return false;
      items.set(item.scope, item);
      return true;
    },
  };
  return store;
}

function recordingNotifier(
  behaviour?: (m: OutgoingMessage, signal?: AbortSignal) => Promise<void>,
) {
  const sent: OutgoingMessage[] = [];
  const notifier: Notifier = {
    async publish(m, options) {
      if (behaviour !== undefined) await behaviour(m, options?.signal);
      sent.push(m);
    },
  };
  return { notifier, sent };
}

function logger() {
  const lines: { message: string; fields: Record<string, unknown> }[] = [];
  return {
    lines,
    error(text: string, ...fields: Record<string, unknown>[]) {
      lines.push({ message: text, fields: Object.assign({}, ...fields) });
    },
  };
}

function settlement(problems: readonly Problem[], scope = 'rotation#app/token'): Settlement {
  return {
    scope,
    plan: (stored) => planIncidents(scope, stored, problems, NOW, 24 * HOUR),
    message: (t) => message(`${t.state} ${t.key}`),
    fallback: () => problems.map((p) => message(`as it comes ${p.code}`)),
    about: { target: 'app' },
  };
}

describe('the teller (one room for publishing and incident state)', () => {
  it('claims an incident before telling it, and tells an open one nothing more', async () => {
    // Prepare
    const store = memoryStore();
    const { notifier, sent } = recordingNotifier();
    const teller = createTeller(
      { notifier, logger: logger(), now: () => NOW, incidents: store },
      { publishDeadlineAtMs: NOW + 60_000 },
    );

    // Act: the same failure settled twice
    await teller.settle(settlement([problem()]), teller.read(['rotation#app/token']));
    await teller.settle(settlement([problem()]), teller.read(['rotation#app/token']));

    // Assess
    expect(sent.map((m) => m.subject)).toEqual([`${IncidentState.Opened} rotation-failed`]);
    expect(store.items.get('rotation#app/token')?.incidents['rotation-failed']?.severity).toBe(
      'ERROR',
    );
    expect(teller.summary()).toEqual({
      published: 1,
      failed: 0,
      incidents: { state: 'on', opened: 1, worsened: 0, reminded: 0, resolved: 0 },
    });
  });

  it('resolves an open incident once when the scope has no problem left', async () => {
    const store = memoryStore();
    const { notifier, sent } = recordingNotifier();
    const deps = { notifier, logger: logger(), now: () => NOW, incidents: store };
    const teller = createTeller(deps, { publishDeadlineAtMs: NOW + 60_000 });
    await teller.settle(settlement([problem()]), teller.read(['rotation#app/token']));

    await teller.settle(settlement([]), teller.read(['rotation#app/token']));
    await teller.settle(settlement([]), teller.read(['rotation#app/token']));

    expect(sent.map((m) => m.subject)).toEqual([
      `${IncidentState.Opened} rotation-failed`,
      `${IncidentState.Resolved} rotation-failed`,
    ]);
    expect(teller.summary().incidents.resolved).toBe(1);
  });

  it('plans again from what the winner of a race wrote, so the incident is told once', async () => {
    // Prepare: another run claims the same incident between our read and our write
    const store = memoryStore();
    const { notifier, sent } = recordingNotifier();
    const teller = createTeller(
      { notifier, logger: logger(), now: () => NOW, incidents: store },
      { publishDeadlineAtMs: NOW + 60_000 },
    );
    const read = teller.read(['rotation#app/token']);
    await read;
    store.beforeWrite = () => {
      store.beforeWrite = undefined;
      const winner = planIncidents('rotation#app/token', undefined, [problem()], NOW, HOUR).next;
      if (winner !== undefined) store.items.set(winner.scope, winner);
    };

    // Act
    await teller.settle(settlement([problem()]), read);

    // Assess: our claim lost, the re-plan found it told: nothing published here
    expect(sent).toEqual([]);
    expect(store.reads).toHaveLength(2);
  });

  it('publishes every problem as it comes when the state cannot be written, and says so once', async () => {
    const store = memoryStore();
    store.failWrites = true;
    const log = logger();
    const { notifier, sent } = recordingNotifier();
    const teller = createTeller(
      { notifier, logger: log, now: () => NOW, incidents: store },
      { publishDeadlineAtMs: NOW + 60_000 },
    );

    await teller.settle(settlement([problem()]), teller.read(['a']));
    await teller.settle(settlement([problem()], 'b'), teller.read(['b']));

    expect(sent.map((m) => m.subject)).toEqual([
      'as it comes rotation-failed',
      'as it comes rotation-failed',
    ]);
    expect(teller.summary().incidents.state).toBe('unavailable');
    expect(
      log.lines.filter((l) => l.message.startsWith('incident state unavailable')),
    ).toHaveLength(1);
  });

  it('tells as it comes without touching the state when stateless (a dry run)', async () => {
    const store = memoryStore();
    const { notifier, sent } = recordingNotifier();
    const teller = createTeller(
      { notifier, logger: logger(), now: () => NOW, incidents: store },
      { publishDeadlineAtMs: NOW + 60_000, stateless: true },
    );

    await teller.settle(settlement([problem()]), teller.read(['rotation#app/token']));

    expect(sent).toHaveLength(1);
    expect(store.reads).toEqual([]);
    expect(store.writes).toBe(0);
    expect(teller.summary().incidents.state).toBe('off');
  });

  it('reads scopes in batches of 100', async () => {
    const store = memoryStore();
    const teller = createTeller(
      {
        notifier: recordingNotifier().notifier,
        logger: logger(),
        now: () => NOW,
        incidents: store,
      },
      { publishDeadlineAtMs: NOW + 60_000 },
    );

    await teller.read(Array.from({ length: 250 }, (_, i) => `target#t${i}`));

    expect(store.reads.map((r) => r.length)).toEqual([100, 100, 50]);
  });

  it('ends a publish that hangs at the deadline, counts it failed and names no value', async () => {
    // Prepare: SNS never answers; the deadline is 50 ms away
    const log = logger();
    const { notifier } = recordingNotifier(
      (_m, signal) =>
        new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
    );
    const failed: OutgoingMessage[] = [];
    const teller = createTeller(
      { notifier, logger: log, now: Date.now },
      { publishDeadlineAtMs: Date.now() + 50, publishFailed: (m) => failed.push(m) },
    );

    // Act
    const started = Date.now();
    await teller.send(message('stuck'), { target: 'app' });

    // Assess
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(teller.summary()).toMatchObject({ published: 0, failed: 1 });
    expect(failed).toHaveLength(1);
    expect(log.lines[0]?.message).toBe('could not publish notification');
    expect(log.lines[0]?.fields).toMatchObject({ target: 'app', event: 'rotation-failed' });
  });
});
