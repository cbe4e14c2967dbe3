import { describe, expect, it } from 'vitest';
import { clockOffset, countdownParts, formatCountdown, remainingMs } from './clock';

const SERVER_NOW = Date.UTC(2026, 5, 1, 9, 0, 0);

describe('the countdown on the server clock', () => {
  it('counts down to the end on a browser whose clock agrees with the server', () => {
    const offset = clockOffset(SERVER_NOW, SERVER_NOW);
    expect(offset).toBe(0);
    const endsAt = SERVER_NOW + 5 * 60_000;
    expect(remainingMs(endsAt, offset, SERVER_NOW)).toBe(300_000);
    expect(formatCountdown(remainingMs(endsAt, offset, SERVER_NOW + 61_000))).toBe('3:59');
  });

  it('shows the right time left on a phone whose clock runs ten minutes fast', () => {
    const phoneNow = SERVER_NOW + 10 * 60_000;
    const offset = clockOffset(SERVER_NOW, phoneNow);
    expect(offset).toBe(-600_000);
    const endsAt = SERVER_NOW + 5 * 60_000;
    // Read naively, the timer would already have run out five minutes ago.
    expect(endsAt - phoneNow).toBeLessThan(0);
    expect(remainingMs(endsAt, offset, phoneNow)).toBe(300_000);
    expect(formatCountdown(remainingMs(endsAt, offset, phoneNow + 90_000))).toBe('3:30');
  });

  it('shows the right time left on a phone whose clock runs three minutes slow', () => {
    const phoneNow = SERVER_NOW - 3 * 60_000;
    const offset = clockOffset(SERVER_NOW, phoneNow);
    const endsAt = SERVER_NOW + 60_000;
    // Read naively, a one-minute timer would show four minutes.
    expect(formatCountdown(endsAt - phoneNow)).toBe('4:00');
    expect(formatCountdown(remainingMs(endsAt, offset, phoneNow))).toBe('1:00');
  });

  it('never counts below zero', () => {
    expect(remainingMs(SERVER_NOW, 0, SERVER_NOW + 5_000)).toBe(0);
    expect(formatCountdown(0)).toBe('0:00');
    expect(formatCountdown(-1_000)).toBe('0:00');
  });

  it('rounds up to whole seconds and shows hours when there are any', () => {
    expect(formatCountdown(299_001)).toBe('5:00');
    expect(formatCountdown(1)).toBe('0:01');
    expect(formatCountdown(59_999)).toBe('1:00');
    expect(formatCountdown(3_600_000 + 65_000)).toBe('1:01:05');
    expect(countdownParts(125_500)).toEqual({ minutes: 2, seconds: 6 });
  });
});
