import { describe, expect, it } from 'vitest';
import { InvalidEventError, parseRenewEvent } from '../../../functions/app/renew-event.js';
import { SCHEDULED_EVENT } from '../../fixtures/events.js';

const known = ['billing-api', 'orders-worker'];

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
      /Unknown target\(s\): "nope" \(configured: billing-api, orders-worker\)/,
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
