import { describe, expect, it } from 'vitest';
import { InvalidEventError, parseRenewEvent } from '../../../functions/app/renew-event.js';
import { SCHEDULED_EVENT } from '../../fixtures/events.js';

const known = ['billing-api', 'orders-worker'];

describe('an unknown target name in a console event', () => {
  it('is never repeated, even when it has the shape of a name (a UUID secret_id does)', () => {
    const secretId = '6f1e0c3a-8b7d-4c2e-9a1f-3b5d7e9f1a2c';
    expect(() => parseRenewEvent({ targets: [secretId] }, ['billing-api'])).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining(secretId) }),
    );
  });

  it('suggests the configured name a typo is closest to', () => {
    expect(() => parseRenewEvent({ targets: ['biling-api'] }, ['billing-api', 'orders'])).toThrow(
      /did you mean "billing-api"\?/,
    );
  });
});

describe('parseRenewEvent', () => {
  it('accepts the EventBridge scheduled event as a plain run', () => {
    expect(parseRenewEvent(SCHEDULED_EVENT, known)).toEqual({
      trigger: 'schedule',
      dryRun: false,
      forceRelogin: false,
    });
  });

  it.each([
    [{}, { trigger: 'manual', dryRun: false, forceRelogin: false }],
    [{ dryRun: true }, { trigger: 'manual', dryRun: true, forceRelogin: false }],
    [
      { targets: ['billing-api'] },
      { trigger: 'manual', targets: ['billing-api'], dryRun: false, forceRelogin: false },
    ],
    [
      { action: 'relogin', targets: ['orders-worker', 'orders-worker'] },
      { trigger: 'manual', targets: ['orders-worker'], dryRun: false, forceRelogin: true },
    ],
    [
      { action: 'relogin', targets: ['billing-api'], dryRun: true },
      { trigger: 'manual', targets: ['billing-api'], dryRun: true, forceRelogin: true },
    ],
  ])('accepts the console event %j', (event, expected) => {
    expect(parseRenewEvent(event, known)).toEqual(expected);
  });

  it.each([
    [
      { key1: 'value1', key2: 'value2' },
      /Unrecognised event \(event: Unrecognized keys: "key1", "key2"/,
    ],
    [{ action: 'rotate' }, /action: Invalid option: expected one of "renew"\|"relogin"/],
    [{ dryRun: 'yes' }, /dryRun: Invalid input: expected boolean, received string/],
    [{ targets: [] }, /targets/],
    [
      { targets: ['nope'] },
      /Unknown target\(s\): 1 name\(s\) not in the config \(refused values are not repeated\) \(configured: billing-api, orders-worker\)/,
    ],
    [{ action: 'relogin' }, /"action": "relogin" needs "targets"/],
    [null, /Unrecognised event/],
    ['renew', /Unrecognised event/],
  ])('rejects %j naming the problem and listing what is accepted', (event, problem) => {
    const attempt = () => parseRenewEvent(event, known);
    expect(attempt).toThrow(InvalidEventError);
    expect(attempt).toThrow(problem);
    expect(attempt).toThrow(/Accepted events: the EventBridge scheduled event/);
    expect(attempt).toThrow(/\{"action": "relogin", "targets"/);
  });
});
