import { describe, expect, it } from 'vitest';
import { normaliseStatus, parseEvent } from '../../src/correlator/event.ts';

/** The one place statuses are read (src/correlator/event.ts): what send, HTTP and NATS producers may write. */
describe('status words', () => {
  const status = (value: unknown) => {
    const parsed = parseEvent({ host: 'h', check: 'c', status: value }, { time: 0 });
    return parsed.ok ? parsed.event.status : parsed.reason;
  };

  it('takes the four words, Nagios service codes 0-3 as numbers or text, and Nagios/Icinga host states, in any case', () => {
    expect(['ok', 'WARNING', ' Critical ', 'unknown'].map(status)).toEqual(['ok', 'warning', 'critical', 'unknown']);
    expect([0, 1, 2, 3, '0', '1', '2', ' 3 '].map(status)).toEqual(['ok', 'warning', 'critical', 'unknown', 'ok', 'warning', 'critical', 'unknown']);
    expect(['UP', 'up', 'DOWN', 'Down', 'UNREACHABLE'].map(status)).toEqual(['ok', 'ok', 'critical', 'critical', 'unknown']);
  });

  it('refuses anything else, quoting what was sent', () => {
    expect(status('On Fire')).toBe('status: expected ok, warning, critical, unknown or 0-3, got "On Fire"');
    expect(status(4)).toBe('status: expected ok, warning, critical, unknown or 0-3, got 4');
    expect(status(1.5)).toBe('status: expected ok, warning, critical, unknown or 0-3, got 1.5');
    expect(status('toString')).toBe('status: expected ok, warning, critical, unknown or 0-3, got "toString"');
    expect(status(undefined)).toBe('status: required');
    expect(normaliseStatus(null)).toBeUndefined();
    expect(normaliseStatus(true)).toBeUndefined();
  });
});
