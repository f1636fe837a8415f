import type { HeapSlot } from "./indexed-heap.ts";
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

/**
 * What a key carries only while something is wrong with it: deactivated, resting,
 * probing, or counting errors. Most keys never are, and carry none.
 */
interface Trouble {
  deactivatedAt: number | null;
  restUntil: number | null;
  backoffLevel: number;
  errorStreak: number;
  halfOpen: boolean;
  probeSentAt: number | null;
}

const SETTLED: Readonly<Trouble> = Object.freeze({
  deactivatedAt: null,
  restUntil: null,
  backoffLevel: 0,
  errorStreak: 0,
  halfOpen: false,
  probeSentAt: null,
});

const TROUBLE_FIELDS = Object.keys(SETTLED) as (keyof Trouble)[];

function isSettled(trouble: Trouble): boolean {
  return TROUBLE_FIELDS.every((field) => trouble[field] === SETTLED[field]);
}

/** `trouble` with `field` set to `value`: null again once everything is settled. */
function withChange<K extends keyof Trouble>(
  trouble: Trouble | null,
  field: K,
  value: Trouble[K],
): Trouble | null {
  if (trouble === null && value === SETTLED[field]) return null;
  const next = trouble ?? { ...SETTLED };
  next[field] = value;
  return isSettled(next) ? null : next;
}

// Shared by every record with nothing reported yet (most keys): 56 bytes a key
// saved. Frozen, so whatever counts on a record must first give it its own.
const NO_OUTCOMES: OutcomeCounts = Object.freeze({ ok: 0, rateLimited: 0, invalid: 0, error: 0 });

function hasOutcomes({ ok, rateLimited, invalid, error }: OutcomeCounts): boolean {
  return ok + rateLimited + invalid + error > 0;
}

/**
 * A key's full mutable state. Lives inside the pool; callers see `KeyView`s.
 *
 * Laid out for a pool of 100,000 keys: every field is set in the constructor, so all
 * records share one shape with their fields inline. The fields of `Trouble` live
 * in a separate object that exists only while one of them is set, which saves 40 bytes on
 * each key with nothing wrong and costs 32 on each key that has (see bench/README.md).
 * The accessors keep the record a `KeyData`; `toData` copies it, as a spread would not.
 */
export class KeyRecord implements KeyData, HeapSlot {
  readonly id: string;
  readonly secret: Secret;
  readonly pool: string;
  limits: KeyLimits | null;
  expiresAt: number | null;
  status: KeyStatus;
  minuteCount: number;
  minuteWindow: number;
  dayCount: number;
  dayWindow: number;
  lastUsed: number | null;
  readonly createdAt: number;
  outcomes: OutcomeCounts;
  /** Tie-breaker for least-recently-used order: rises with every insert and dispense. */
  useSeq: number;
  heapSlot = -1;
  /** Slot in the pool's random-pick array while eligible, else -1. */
  randomSlot = -1;
  /** When a waiting key may become eligible again (Infinity: not by time alone). */
  wakeAt = 0;
  #trouble: Trouble | null = null;

  constructor(data: KeyData, useSeq: number) {
    this.id = data.id;
    this.secret = data.secret;
    this.pool = data.pool;
    this.limits = data.limits;
    this.expiresAt = data.expiresAt;
    this.status = data.status;
    this.minuteCount = data.minuteCount;
    this.minuteWindow = data.minuteWindow;
    this.dayCount = data.dayCount;
    this.dayWindow = data.dayWindow;
    this.lastUsed = data.lastUsed;
    this.createdAt = data.createdAt;
    this.outcomes = hasOutcomes(data.outcomes) ? { ...data.outcomes } : NO_OUTCOMES;
    this.useSeq = useSeq;
    this.deactivatedAt = data.deactivatedAt;
    this.restUntil = data.restUntil;
    this.backoffLevel = data.backoffLevel;
    this.errorStreak = data.errorStreak;
    this.halfOpen = data.halfOpen;
    this.probeSentAt = data.probeSentAt;
  }

  get deactivatedAt(): number | null {
    return (this.#trouble ?? SETTLED).deactivatedAt;
  }
  set deactivatedAt(value: number | null) {
    this.#trouble = withChange(this.#trouble, "deactivatedAt", value);
  }

  get restUntil(): number | null {
    return (this.#trouble ?? SETTLED).restUntil;
  }
  /** Resting after rate_limited or an error streak, until then. */
  set restUntil(value: number | null) {
    this.#trouble = withChange(this.#trouble, "restUntil", value);
  }

  get backoffLevel(): number {
    return (this.#trouble ?? SETTLED).backoffLevel;
  }
  set backoffLevel(value: number) {
    this.#trouble = withChange(this.#trouble, "backoffLevel", value);
  }

  get errorStreak(): number {
    return (this.#trouble ?? SETTLED).errorStreak;
  }
  set errorStreak(value: number) {
    this.#trouble = withChange(this.#trouble, "errorStreak", value);
  }

  get halfOpen(): boolean {
    return (this.#trouble ?? SETTLED).halfOpen;
  }
  set halfOpen(value: boolean) {
    this.#trouble = withChange(this.#trouble, "halfOpen", value);
  }

  get probeSentAt(): number | null {
    return (this.#trouble ?? SETTLED).probeSentAt;
  }
  set probeSentAt(value: number | null) {
    this.#trouble = withChange(this.#trouble, "probeSentAt", value);
  }

  /** A plain copy of the persisted fields, detached from the pool. */
  toData(): KeyData {
    return {
      id: this.id,
      secret: this.secret,
      pool: this.pool,
      limits: this.limits,
      expiresAt: this.expiresAt,
      status: this.status,
      minuteCount: this.minuteCount,
      minuteWindow: this.minuteWindow,
      dayCount: this.dayCount,
      dayWindow: this.dayWindow,
      lastUsed: this.lastUsed,
      createdAt: this.createdAt,
      deactivatedAt: this.deactivatedAt,
      restUntil: this.restUntil,
      backoffLevel: this.backoffLevel,
      errorStreak: this.errorStreak,
      halfOpen: this.halfOpen,
      probeSentAt: this.probeSentAt,
      outcomes: { ...this.outcomes },
    };
  }
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
