import type { HeapSlot } from "./indexed-heap.ts";
import type { Secret } from "./secret.ts";
import { dayOf, minuteOf } from "./windows.ts";

export type KeyStatus = "Active" | "Inactive";

/** A key's full mutable state. Lives inside the pool; callers see `KeyView`s. */
export interface KeyRecord extends HeapSlot {
  readonly id: string;
  readonly secret: Secret;
  status: KeyStatus;
  minuteCount: number;
  /** The UTC minute (see windows.ts) that `minuteCount` belongs to. */
  minuteWindow: number;
  dayCount: number;
  dayWindow: number;
  lastUsed: number | null;
  readonly createdAt: number;
  deactivatedAt: number | null;
  /** Tie-breaker for least-recently-used order: rises with every insert and dispense. */
  useSeq: number;
  /** Slot in the pool's random-pick array while eligible, else -1. */
  randomSlot: number;
  /** When a waiting key may become eligible again. */
  wakeAt: number;
}

/** What the pool needs to rebuild a key: the persisted fields. */
export interface KeyData {
  readonly id: string;
  readonly secret: Secret;
  readonly status: KeyStatus;
  readonly minuteCount: number;
  readonly minuteWindow: number;
  readonly dayCount: number;
  readonly dayWindow: number;
  readonly lastUsed: number | null;
  readonly createdAt: number;
  readonly deactivatedAt: number | null;
}

/** A read-only picture of a key at one moment, with counters already rolled to `now`. */
export interface KeyView {
  readonly id: string;
  readonly preview: string;
  readonly status: KeyStatus;
  readonly requestsThisMinute: number;
  readonly requestsThisDay: number;
  readonly lastUsed: number | null;
  readonly createdAt: number;
  readonly deactivatedAt: number | null;
  /** When the key can next be dispensed: `now` if it can be now. */
  readonly availableAt: number;
}

export function newKeyData(id: string, secret: Secret, now: number): KeyData {
  return {
    id,
    secret,
    status: "Active",
    minuteCount: 0,
    minuteWindow: minuteOf(now),
    dayCount: 0,
    dayWindow: dayOf(now),
    lastUsed: null,
    createdAt: now,
    deactivatedAt: null,
  };
}

export function minuteCountAt(key: KeyData, now: number): number {
  return key.minuteWindow === minuteOf(now) ? key.minuteCount : 0;
}

export function dayCountAt(key: KeyData, now: number): number {
  return key.dayWindow === dayOf(now) ? key.dayCount : 0;
}
