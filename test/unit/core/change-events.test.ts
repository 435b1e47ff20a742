import { describe, expect, it } from 'vitest';
import { expiryForEvent } from '../../../functions/core/change-events-port.js';

describe('expiresAt of a change event', () => {
  it.each([
    [
      'Vault expire_time, nanoseconds',
      '2026-12-01T11:44:27.470544137Z',
      '2026-12-01T11:44:27.470Z',
    ],
    ['an offset', '2026-12-01T13:44:27+02:00', '2026-12-01T11:44:27.000Z'],
    ['already in form', '2026-12-01T11:44:27.470Z', '2026-12-01T11:44:27.470Z'],
    ['unparseable', 'soon', null],
    ['never expires', null, null],
    ['not recorded', undefined, null],
  ])('%s', (_case, time, expected) => {
    expect(expiryForEvent(time)).toBe(expected);
  });
});
