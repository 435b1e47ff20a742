import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TargetConfig } from '../../../functions/config/types.js';
import {
  type FleetLedger,
  type LedgerEntry,
  mayTryAgain,
  nextLedger,
  orderByUrgency,
  runsUnvisited,
  spreadEarly,
  type TargetVisit,
} from '../../../functions/core/fleet-ledger.js';
import { targetConfig } from '../../support/targets.js';

const INTERVAL = 900;
const NOW = 1_800_000_000_000;
const nowSeconds = NOW / 1000;

const target = (name: string): TargetConfig => targetConfig(name);

const names = (targets: readonly TargetConfig[]) => targets.map((t) => t.name);

describe('the order a run takes its targets in', () => {
  it('keeps config order when the last run left nothing', () => {
    const fleet = ['a', 'b', 'c'].map(target);
    expect(orderByUrgency(fleet, new Map(), NOW, INTERVAL)).toBe(fleet);
  });

  it('takes overdue, then dying before the next run, then pending, then the rest longest unvisited first', () => {
    // Prepare
    const fleet = ['rest', 'pending', 'urgent', 'overdue', 'unknown', 'urgent-sooner'].map(target);
    const ledger: FleetLedger = new Map<string, LedgerEntry>([
      ['overdue', { unvisitedSinceSeconds: nowSeconds - 2 * INTERVAL, pending: true }],
      ['urgent', { diesAtSeconds: nowSeconds + 600 }],
      ['urgent-sooner', { diesAtSeconds: nowSeconds + 300 }],
      ['pending', { pending: true }],
      ['unknown', { diesAtSeconds: nowSeconds + 10 * INTERVAL }],
    ]);

    // Act
    const ordered = orderByUrgency(fleet, ledger, NOW, INTERVAL);

    // Assess: `rest` has no entry (never seen): pending like a failed one
    expect(names(ordered)).toEqual([
      'overdue',
      'urgent-sooner',
      'urgent',
      'rest',
      'pending',
      'unknown',
    ]);
  });

  it('visits every target at least once in three runs when a run reaches only a third of the fleet', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 3, max: 300 }),
        fc.integer({ min: 1, max: 12 }),
        (size, runs) => {
          // Prepare: each run reaches the first ceil(size / 3) targets of its order
          const fleet = Array.from({ length: size }, (_, i) => target(`t${i}`));
          const reach = Math.ceil(size / 3);
          let ledger: FleetLedger = new Map();
          const lastVisit = new Map<string, number>();

          // Act
          for (let run = 0; run < runs + 3; run += 1) {
            const now = NOW + run * INTERVAL * 1000;
            const ordered = orderByUrgency(fleet, ledger, now, INTERVAL);
            const visits = new Map<string, TargetVisit>(
              ordered.map((t, i) => [t.name, { visited: i < reach, pending: i >= reach }]),
            );
            for (const t of ordered.slice(0, reach)) lastVisit.set(t.name, run);
            ledger = nextLedger(ledger, fleet, visits, now, INTERVAL);
            // Assess: no target has gone more than two runs in a row unvisited
            for (const t of fleet) {
              expect(run - (lastVisit.get(t.name) ?? -1)).toBeLessThanOrEqual(3);
            }
          }
        },
      ),
    );
  });
});

describe('the ledger a run leaves', () => {
  it('is empty after a healthy run reached every target', () => {
    const fleet = ['a', 'b'].map(target);
    const visits = new Map<string, TargetVisit>([
      ['a', { visited: true, pending: false, diesAtSeconds: nowSeconds + 3600 * 24 }],
      ['b', { visited: true, pending: false }],
    ]);
    expect(nextLedger(new Map(), fleet, visits, NOW, INTERVAL).size).toBe(0);
  });

  it('keeps when a replaced token may be retired until a run settles it, through runs that miss the target', () => {
    const fleet = [target('a')];
    const replaced = nextLedger(
      new Map(),
      fleet,
      new Map([['a', { visited: true, pending: false, retireAtSeconds: nowSeconds + 900 }]]),
      NOW,
      INTERVAL,
    );
    const missed = nextLedger(
      replaced,
      fleet,
      new Map([['a', { visited: false, pending: true }]]),
      NOW,
      INTERVAL,
    );
    const quiet = nextLedger(
      missed,
      fleet,
      new Map([['a', { visited: true, pending: false }]]),
      NOW,
      INTERVAL,
    );
    const settled = nextLedger(
      quiet,
      fleet,
      new Map([['a', { visited: true, pending: false, retireAtSeconds: null }]]),
      NOW,
      INTERVAL,
    );

    expect(replaced.get('a')?.retireAtSeconds).toBe(nowSeconds + 900);
    expect(missed.get('a')?.retireAtSeconds).toBe(nowSeconds + 900);
    expect(quiet.get('a')).toEqual({ retireAtSeconds: nowSeconds + 900 });
    expect(settled.get('a')).toBeUndefined();
  });

  it('counts runs unvisited from the first run that left a target behind', () => {
    const fleet = [target('a')];
    const left = new Map<string, TargetVisit>([['a', { visited: false, pending: true }]]);
    const first = nextLedger(new Map(), fleet, left, NOW, INTERVAL);
    const second = nextLedger(first, fleet, left, NOW + INTERVAL * 1000, INTERVAL);
    expect(runsUnvisited(second.get('a'), NOW + 2 * INTERVAL * 1000, INTERVAL)).toBe(2);
    const reached = nextLedger(
      second,
      fleet,
      new Map([['a', { visited: true, pending: false }]]),
      NOW,
      INTERVAL,
    );
    expect(reached.get('a')).toBeUndefined();
  });

  it('remembers a refused login until a login succeeds, and drops targets no longer configured', () => {
    // Prepare
    const refusal = { version: 'v-1', atSeconds: nowSeconds };
    const refused = nextLedger(
      new Map([['gone', { pending: true }]]),
      [target('a')],
      new Map([['a', { visited: true, pending: true, refusedLogin: refusal }]]),
      NOW,
      INTERVAL,
    );

    // Act: a later run that tried no login, then one whose login succeeded
    const quiet = nextLedger(
      refused,
      [target('a')],
      new Map([['a', { visited: true, pending: true }]]),
      NOW,
      INTERVAL,
    );
    const healed = nextLedger(
      quiet,
      [target('a')],
      new Map([['a', { visited: true, pending: false, refusedLogin: null }]]),
      NOW,
      INTERVAL,
    );

    // Assess
    expect(refused.has('gone')).toBe(false);
    expect(quiet.get('a')?.refusedLogin).toEqual(refusal);
    expect(healed.get('a')).toBeUndefined();
  });

  it('keeps the entries of targets a console run did not name', () => {
    const before = new Map([['b', { pending: true }]]);
    const after = nextLedger(before, ['a', 'b'].map(target), new Map(), NOW, INTERVAL);
    expect(after.get('b')).toEqual({ pending: true });
  });
});

describe('trying a refused AppRole secret again', () => {
  const refusal = { version: 'v-1', atSeconds: nowSeconds };

  it('never with the refused version before the back-off has passed', () => {
    expect(mayTryAgain(refusal, 'v-1', NOW + 3_599_000, 3600)).toBe(false);
    expect(mayTryAgain(refusal, 'v-1', NOW + 3_600_000, 3600)).toBe(true);
  });

  it('at once with a new version, or when nothing was refused', () => {
    expect(mayTryAgain(refusal, 'v-2', NOW, 3600)).toBe(true);
    expect(mayTryAgain(undefined, 'v-1', NOW, 3600)).toBe(true);
  });
});

describe('spreading a wave of max TTLs over runs', () => {
  const fleetOf = (size: number) => Array.from({ length: size }, (_, i) => target(`w${i}`));
  /** `count` targets whose tokens reach their max TTL `runsAhead` runs from now. */
  const wave = (targets: readonly TargetConfig[], runsAhead: number): FleetLedger =>
    new Map(
      targets.map((t, i) => [
        t.name,
        { diesAtSeconds: nowSeconds + runsAhead * INTERVAL + 120 + i },
      ]),
    );

  it('logs in nothing early when each run can write what falls due in it', () => {
    const targets = fleetOf(100);
    expect(spreadEarly(targets, wave(targets, 3), NOW, INTERVAL, 100).size).toBe(0);
  });

  it('takes now what the later runs cannot hold, earliest death first', () => {
    // Prepare: 250 tokens due in run 3; each run writes 100
    const targets = fleetOf(250);

    // Act
    const early = spreadEarly(targets, wave(targets, 3), NOW, INTERVAL, 100);

    // Assess: run 3 holds 100, run 2 another 100, the 50 left are taken now
    expect(early.size).toBe(50);
    expect([...early]).toEqual(targets.slice(0, 50).map((t) => t.name));
  });

  it('leaves to the planner what falls due in this run and the next', () => {
    const targets = fleetOf(500);
    expect(spreadEarly(targets, wave(targets, 1), NOW, INTERVAL, 10).size).toBe(0);
  });

  it('counts a target with leases as one write for the token and one per lease', () => {
    const targets = fleetOf(100).map((t) => ({
      ...t,
      leases: [
        { name: 'db', secretId: `${t.name}/db`, reissuePath: 'db/creds/x', incrementSeconds: 3600 },
      ],
    }));
    // 200 writes due in run 2, 150 a run: 50 writes, 25 targets, now
    expect(spreadEarly(targets, wave(targets, 2), NOW, INTERVAL, 150).size).toBe(25);
  });
});
