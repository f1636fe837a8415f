import { type KeyState, MAX_STREAK } from "./key-record.ts";
import type { PoolSettings } from "./limits.ts";

/** What a caller saw when it used a key: the provider's answer, classified. */
export type Outcome = "ok" | "rate_limited" | "invalid" | "error";
export const OUTCOMES: readonly Outcome[] = ["ok", "rate_limited", "invalid", "error"];

/**
 * Applies one outcome report to a copy of a key's state, which the pool then
 * stores back and places in its heaps again.
 *
 * - ok: the key works; streaks and backoff are forgotten.
 * - rate_limited: the key rests until the provider's Retry-After, else for the
 *   cooldown doubled per rest in a row (up to maxBackoff). A report for a key
 *   already resting (another call that was in flight) only extends the rest.
 * - invalid: Disabled until an admin reactivates it.
 * - error: counted; `errorThreshold` in a row, or one during a probe, send the
 *   key to rest for errorRest, doubled the same way.
 */
export function applyOutcome(
  key: KeyState,
  outcome: Outcome,
  retryAfterMs: number | null,
  now: number,
  settings: PoolSettings,
): void {
  const probing = key.probeSentAt !== null;
  switch (outcome) {
    case "ok":
      key.outcomes.ok++;
      key.errorStreak = 0;
      key.backoffLevel = 0;
      key.halfOpen = false;
      key.probeSentAt = null;
      return;
    case "rate_limited":
      key.outcomes.rateLimited++;
      key.errorStreak = 0;
      rest(key, retryAfterMs, settings.cooldownMs, now, settings);
      return;
    case "invalid":
      key.outcomes.invalid++;
      key.status = "Disabled";
      key.restUntil = null;
      key.halfOpen = false;
      key.probeSentAt = null;
      return;
    case "error":
      key.outcomes.error++;
      key.errorStreak = inARow(key.errorStreak);
      if (probing || key.errorStreak >= settings.errorThreshold) {
        key.errorStreak = 0;
        rest(key, retryAfterMs, settings.errorRestMs, now, settings);
      }
      return;
  }
}

function rest(
  key: KeyState,
  retryAfterMs: number | null,
  baseMs: number,
  now: number,
  settings: PoolSettings,
): void {
  const resting = key.restUntil !== null && key.restUntil > now;
  const doubled = Math.min(baseMs * 2 ** key.backoffLevel, settings.maxBackoffMs);
  const until = now + (retryAfterMs ?? doubled);
  if (resting) {
    key.restUntil = Math.max(key.restUntil as number, until);
    return;
  }
  key.backoffLevel = inARow(key.backoffLevel);
  key.restUntil = until;
  key.halfOpen = false;
  key.probeSentAt = null;
}

/** One more in a row, held at what keys.json may claim (and the key table's int32 holds). */
function inARow(count: number): number {
  return Math.min(count + 1, MAX_STREAK);
}
