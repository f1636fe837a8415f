// Windows are UTC wall-clock minutes and days, numbered from the epoch, so a
// counter's window is one integer and "is this counter current?" is one compare.
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;

export function minuteOf(now: number): number {
  return Math.floor(now / MINUTE_MS);
}

export function dayOf(now: number): number {
  return Math.floor(now / DAY_MS);
}

export function minuteStart(minute: number): number {
  return minute * MINUTE_MS;
}

export function dayStart(day: number): number {
  return day * DAY_MS;
}

export function nextMinuteStart(now: number): number {
  return minuteStart(minuteOf(now) + 1);
}

export function nextDayStart(now: number): number {
  return dayStart(dayOf(now) + 1);
}

/** A wait in whole seconds, rounded up and never less than 1, as Retry-After wants it. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
