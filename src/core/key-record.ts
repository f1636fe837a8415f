import type { KeyLimits } from "./limits.ts";
import type { Secret } from "./secret.ts";
import { dayOf, minuteOf } from "./windows.ts";

/**
 * Active: in rotation. Inactive: deactivated, back after the cooldown.
 * Disabled: reported invalid, back only by an admin's reactivate.
 * (Expired is not stored: it is `expiresAt` in the past.)
 */
export type KeyStatus = "Active" | "Inactive" | "Disabled";
export type ShownStatus = KeyStatus | "Expired";

export interface OutcomeCounts {
  ok: number;
  rateLimited: number;
  invalid: number;
  error: number;
}

/** The most rests or errors in a row a key may count (keys.json may not claim more). */
export const MAX_STREAK = 2 ** 31 - 1;

/** What the pool needs to rebuild a key: the persisted fields. */
export interface KeyData {
  readonly id: string;
  readonly secret: Secret;
  readonly pool: string;
  readonly limits: KeyLimits | null;
  readonly expiresAt: number | null;
  readonly status: KeyStatus;
  readonly minuteCount: number;
  readonly minuteWindow: number;
  readonly dayCount: number;
  readonly dayWindow: number;
  readonly lastUsed: number | null;
  readonly createdAt: number;
  readonly deactivatedAt: number | null;
  /** Resting after rate_limited or an error streak, until then. */
  readonly restUntil: number | null;
  /** How many rests in a row without an ok: each doubles the next. */
  readonly backoffLevel: number;
  readonly errorStreak: number;
  /** Back from a rest: the next dispense is a probe. */
  readonly halfOpen: boolean;
  /** When the probe was handed out, while its outcome is awaited. */
  readonly probeSentAt: number | null;
  readonly outcomes: Readonly<OutcomeCounts>;
}

/** A copy of a key's fields that a change may edit before it is stored back. */
export type KeyState = { -readonly [K in keyof KeyData]: KeyData[K] } & { outcomes: OutcomeCounts };

export function hasOutcomes({ ok, rateLimited, invalid, error }: OutcomeCounts): boolean {
  return ok + rateLimited + invalid + error > 0;
}

/** A read-only picture of a key at one moment, with counters already rolled to `now`. */
export interface KeyView {
  readonly id: string;
  readonly preview: string;
  readonly pool: string;
  readonly status: ShownStatus;
  readonly limits: KeyLimits | null;
  readonly expiresAt: number | null;
  readonly requestsThisMinute: number;
  readonly requestsThisDay: number;
  readonly lastUsed: number | null;
  readonly createdAt: number;
  readonly deactivatedAt: number | null;
  readonly restUntil: number | null;
  readonly halfOpen: boolean;
  readonly errorStreak: number;
  readonly outcomes: Readonly<OutcomeCounts>;
  /** When the key can next be dispensed: `now` if it can be now, null if not by time alone. */
  readonly availableAt: number | null;
}

export interface NewKey {
  readonly pool?: string;
  readonly limits?: KeyLimits | null;
  readonly expiresAt?: number | null;
}

export const DEFAULT_POOL = "default";

export function newKeyData(id: string, secret: Secret, now: number, options: NewKey = {}): KeyData {
  return {
    id,
    secret,
    pool: options.pool ?? DEFAULT_POOL,
    limits: options.limits ?? null,
    expiresAt: options.expiresAt ?? null,
    status: "Active",
    minuteCount: 0,
    minuteWindow: minuteOf(now),
    dayCount: 0,
    dayWindow: dayOf(now),
    lastUsed: null,
    createdAt: now,
    deactivatedAt: null,
    restUntil: null,
    backoffLevel: 0,
    errorStreak: 0,
    halfOpen: false,
    probeSentAt: null,
    outcomes: { ok: 0, rateLimited: 0, invalid: 0, error: 0 },
  };
}

export function minuteCountAt(key: KeyData, now: number): number {
  return key.minuteWindow === minuteOf(now) ? key.minuteCount : 0;
}

export function dayCountAt(key: KeyData, now: number): number {
  return key.dayWindow === dayOf(now) ? key.dayCount : 0;
}

export function isExpired(key: KeyData, now: number): boolean {
  return key.expiresAt !== null && key.expiresAt <= now;
}
