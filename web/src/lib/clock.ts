/**
 * The phase's countdown on the server's clock. A timer ends at a moment on the server's clock
 * (`timer_ends_at`); a phone whose own clock is minutes off would count down to the wrong
 * moment, so the difference between the clocks is measured when the server says `welcome`
 * (which carries `server_time`) and every countdown is corrected by it.
 */

/** The server's clock minus this browser's: add it to `Date.now()` to read the server's time. */
export function clockOffset(serverTime: number, localNow: number): number {
  return serverTime - localNow;
}

/** Milliseconds left until `endsAt` (server time), seen from `localNow` (this browser's clock). */
export function remainingMs(endsAt: number, offset: number, localNow: number): number {
  return Math.max(0, endsAt - (localNow + offset));
}

/**
 * The time left as `m:ss` (`h:mm:ss` from an hour up). Rounded up to whole seconds, so the
 * display reaches 0:00 exactly when the time is up and never shows 0:00 while time is left.
 */
export function formatCountdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const ss = String(seconds).padStart(2, '0');
  if (hours > 0) return `${hours}:${String(minutes).padStart(2, '0')}:${ss}`;
  return `${minutes}:${ss}`;
}

/** The whole minutes and seconds left, for screen-reader text ("4 min 05 s" reads badly). */
export function countdownParts(ms: number): { minutes: number; seconds: number } {
  const total = Math.max(0, Math.ceil(ms / 1000));
  return { minutes: Math.floor(total / 60), seconds: total % 60 };
}
