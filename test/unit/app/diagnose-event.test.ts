import { describe, expect, it } from 'vitest';
import {
  ACCEPTED_DIAGNOSE_EVENTS,
  InvalidDiagnoseEventError,
  parseDiagnoseEvent,
} from '../../../functions/app/diagnose-event.js';
import { SCHEDULED_EVENT } from '../../support/renewer-harness.js';

const known = ['billing-api', 'orders-worker'];

describe('parseDiagnoseEvent', () => {
  it.each([
    [{}, { login: false, notify: false }],
    [{ targets: ['billing-api'] }, { targets: ['billing-api'], login: false, notify: false }],
    [{ login: true }, { login: true, notify: false }],
    [{ notify: true }, { login: false, notify: true }],
    [
      { targets: ['orders-worker', 'orders-worker'], login: true, notify: true },
      { targets: ['orders-worker'], login: true, notify: true },
    ],
    [
      { login: false, notify: false },
      { login: false, notify: false },
    ],
  ])('accepts %j', (event, expected) => {
    expect(parseDiagnoseEvent(event, known)).toEqual(expected);
  });

  it.each<[string, unknown, string]>([
    ['an unknown key', { dryRun: true }, 'event: unknown key(s) "dryRun"'],
    ['the scheduled event (diagnose runs on demand)', SCHEDULED_EVENT, 'unknown key(s)'],
    ['a string for login', { login: 'yes' }, 'login: expected boolean'],
    ['an empty target list', { targets: [] }, 'targets: must not be empty'],
    ['a target name that is not a string', { targets: [42] }, 'targets.0: expected string'],
    ['no object at all', 'diagnose', 'event: expected a JSON object'],
    ['null', null, 'event: expected a JSON object'],
    [
      'an unknown target',
      { targets: ['billing-api', 'biling-api'] },
      'Not a configured target: targets[1] (configured: billing-api, orders-worker)',
    ],
  ])('refuses %s, listing what is accepted', (_case, event, problem) => {
    let thrown: unknown;
    try {
      parseDiagnoseEvent(event, known);
    } catch (error) {
      thrown = error;
    }

    expect(thrown).toBeInstanceOf(InvalidDiagnoseEventError);
    const message = (thrown as Error).message;
    expect(message).toContain(problem);
    for (const accepted of ACCEPTED_DIAGNOSE_EVENTS) expect(message).toContain(accepted);
  });

  it('never repeats a value it refuses, only key names that look like names', () => {
    const secretId = '0f8fad5b-d9cb-469f-a165-70867728950e';
    const token = 'hvs.CAESIJ-planted-token-value';
    const attempts = [
      { targets: [secretId] },
      { [token]: true },
      { login: secretId },
      { notify: token, targets: token },
    ];

    for (const event of attempts) {
      expect(() => parseDiagnoseEvent(event, known)).toThrow(InvalidDiagnoseEventError);
      try {
        parseDiagnoseEvent(event, known);
      } catch (error) {
        expect((error as Error).message).not.toContain(secretId);
        expect((error as Error).message).not.toContain('planted');
      }
    }
  });
});
