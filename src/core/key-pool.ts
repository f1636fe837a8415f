import { IndexedHeap } from "./indexed-heap.ts";
import {
  dayCountAt,
  type KeyData,
  type KeyRecord,
  type KeyStatus,
  type KeyView,
  minuteCountAt,
} from "./key-record.ts";
import type { Limits } from "./limits.ts";
import type { Secret } from "./secret.ts";
import { dayOf, minuteOf, nextDayStart, nextMinuteStart } from "./windows.ts";

export type SelectionMode = "auto" | "random";

export type AcquireResult =
  | { readonly ok: true; readonly id: string; readonly secret: Secret }
  | {
      readonly ok: false;
      readonly reason: "global-cap" | "exhausted";
      /** How long until a key could be dispensed; null when no key will come back by time alone. */
      readonly retryAfterMs: number | null;
    };

export type AddResult =
  | { readonly ok: true; readonly key: KeyView }
  | { readonly ok: false; readonly reason: "duplicate"; readonly existingId: string };

export interface PoolStats {
  readonly total: number;
  readonly active: number;
  readonly inactive: number;
  /** Keys that could be dispensed right now. */
  readonly available: number;
  readonly dispensedThisMinute: number;
  readonly dispensedToday: number;
  readonly globalCapRemaining: number;
}

const lruBefore = (a: KeyRecord, b: KeyRecord): boolean => {
  const aUsed = a.lastUsed ?? Number.NEGATIVE_INFINITY;
  const bUsed = b.lastUsed ?? Number.NEGATIVE_INFINITY;
  return aUsed < bUsed || (aUsed === bUsed && a.useSeq < b.useSeq);
};

/**
 * All keys and the decision of which one to hand out. Pure: every method takes
 * `now`; nothing here reads a clock, sets a timer or touches the disk.
 *
 * Every key is in exactly one of two heaps: `eligible` (ordered least recently
 * used first, mirrored in an array for uniform random picks) or `waiting`
 * (ordered by the moment it may become eligible: next minute, next day, end of
 * cooldown). Each operation moves a bounded number of keys between them, so
 * acquiring a key costs O(log n) however many keys there are.
 */
export class KeyPool {
  readonly #limits: Limits;
  readonly #byId = new Map<string, KeyRecord>();
  readonly #bySecret = new Map<string, KeyRecord>();
  readonly #eligible = new IndexedHeap<KeyRecord>(lruBefore);
  readonly #eligibleList: KeyRecord[] = [];
  readonly #waiting = new IndexedHeap<KeyRecord>((a, b) => a.wakeAt < b.wakeAt);
  #seq = 0;
  #globalMinute = -1;
  #globalMinuteCount = 0;
  #globalDay = -1;
  #globalDayCount = 0;
  #version = 0;

  constructor(limits: Limits) {
    this.#limits = limits;
  }

  /** Rises with every change worth saving, dispenses included. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Rebuilds the pool from saved keys, restoring this minute's and day's global counts. */
  static load(limits: Limits, keys: Iterable<KeyData>, now: number): KeyPool {
    const pool = new KeyPool(limits);
    pool.#rollGlobal(now);
    for (const data of keys) {
      const result = pool.add(data, now);
      if (!result.ok) throw new Error(`duplicate key ${data.id} while loading`);
      pool.#globalMinuteCount += minuteCountAt(data, now);
      pool.#globalDayCount += dayCountAt(data, now);
    }
    pool.#version = 0;
    return pool;
  }

  acquire(now: number, mode: SelectionMode, random: () => number): AcquireResult {
    this.advance(now);
    this.#rollGlobal(now);
    if (this.#globalMinuteCount >= this.#limits.tpm) {
      const keyAt = this.#earliestAvailable(now) ?? now;
      const retryAt = Math.max(nextMinuteStart(now), keyAt);
      return { ok: false, reason: "global-cap", retryAfterMs: retryAt - now };
    }
    const list = this.#eligibleList;
    const key =
      mode === "random" ? list[Math.floor(random() * list.length)] : this.#eligible.peek();
    if (key === undefined) {
      const retryAt = this.#earliestAvailable(now);
      return {
        ok: false,
        reason: "exhausted",
        retryAfterMs: retryAt === null ? null : retryAt - now,
      };
    }
    this.#dispense(key, now);
    return { ok: true, id: key.id, secret: key.secret };
  }

  /** Brings back every waiting key whose time has come. Returns whether anything changed. */
  advance(now: number): boolean {
    const before = this.#version;
    for (let key = this.#waiting.peek(); key && key.wakeAt <= now; key = this.#waiting.peek()) {
      this.#waiting.pop();
      if (key.status === "Inactive") {
        key.status = "Active";
        key.deactivatedAt = null;
        this.#version++;
      }
      this.#place(key, now);
    }
    return this.#version !== before;
  }

  add(data: KeyData, now: number): AddResult {
    const existing = this.#bySecret.get(data.secret.reveal()) ?? this.#byId.get(data.id);
    if (existing) return { ok: false, reason: "duplicate", existingId: existing.id };
    const key: KeyRecord = {
      ...data,
      useSeq: ++this.#seq,
      heapSlot: -1,
      randomSlot: -1,
      wakeAt: 0,
    };
    this.#byId.set(key.id, key);
    this.#bySecret.set(key.secret.reveal(), key);
    this.#place(key, now);
    this.#version++;
    return { ok: true, key: this.#view(key, now) };
  }

  /** Finds a key by id, or else by the key string itself. */
  find(ref: string): KeyData | undefined {
    return this.#byId.get(ref) ?? this.#bySecret.get(ref);
  }

  remove(id: string, now: number): KeyView | undefined {
    const key = this.#byId.get(id);
    if (!key) return undefined;
    this.#detach(key);
    this.#byId.delete(key.id);
    this.#bySecret.delete(key.secret.reveal());
    this.#version++;
    return this.#view(key, now);
  }

  /** Takes a key out of rotation until the cooldown has passed (restarting it if already resting). */
  deactivate(id: string, now: number): KeyView | undefined {
    return this.setStatus(id, "Inactive", now, now);
  }

  reactivate(id: string, now: number): KeyView | undefined {
    return this.setStatus(id, "Active", null, now);
  }

  /** Sets status fields alone, leaving counters as they are (also how a failed save is undone). */
  setStatus(
    id: string,
    status: KeyStatus,
    deactivatedAt: number | null,
    now: number,
  ): KeyView | undefined {
    const key = this.#byId.get(id);
    if (!key) return undefined;
    this.#detach(key);
    key.status = status;
    key.deactivatedAt = deactivatedAt;
    this.#place(key, now);
    this.#version++;
    return this.#view(key, now);
  }

  /** Puts a key back exactly as `data` describes it: how a failed save is undone. */
  restore(data: KeyData, now: number): void {
    const current = this.#byId.get(data.id);
    if (current) this.remove(current.id, now);
    this.add(data, now);
  }

  view(id: string, now: number): KeyView | undefined {
    const key = this.#byId.get(id);
    return key && this.#view(key, now);
  }

  list(now: number): KeyView[] {
    return Array.from(this.#byId.values(), (key) => this.#view(key, now));
  }

  /** Live records in insertion order, for saving; read each one synchronously. */
  records(): IterableIterator<KeyData> {
    return this.#byId.values();
  }

  stats(now: number): PoolStats {
    this.#rollGlobal(now);
    let active = 0;
    for (const key of this.#byId.values()) if (key.status === "Active") active++;
    return {
      total: this.#byId.size,
      active,
      inactive: this.#byId.size - active,
      available: this.#eligible.size,
      dispensedThisMinute: this.#globalMinuteCount,
      dispensedToday: this.#globalDayCount,
      globalCapRemaining: Math.max(0, this.#limits.tpm - this.#globalMinuteCount),
    };
  }

  #dispense(key: KeyRecord, now: number): void {
    const minute = minuteOf(now);
    const day = dayOf(now);
    key.minuteCount = key.minuteWindow === minute ? key.minuteCount + 1 : 1;
    key.minuteWindow = minute;
    key.dayCount = key.dayWindow === day ? key.dayCount + 1 : 1;
    key.dayWindow = day;
    key.lastUsed = now;
    key.useSeq = ++this.#seq;
    this.#globalMinuteCount++;
    this.#globalDayCount++;
    this.#version++;
    if (key.minuteCount >= this.#limits.rpm || key.dayCount >= this.#limits.rpd) {
      this.#detach(key);
      this.#place(key, now);
    } else {
      this.#eligible.update(key);
    }
  }

  #availableAt(key: KeyData, now: number): number {
    let at = now;
    if (key.status === "Inactive") {
      at = Math.max(at, (key.deactivatedAt ?? now) + this.#limits.cooldownMs);
    }
    if (dayCountAt(key, now) >= this.#limits.rpd) return Math.max(at, nextDayStart(now));
    if (minuteCountAt(key, now) >= this.#limits.rpm) return Math.max(at, nextMinuteStart(now));
    return at;
  }

  #earliestAvailable(now: number): number | null {
    if (this.#eligible.size > 0) return now;
    return this.#waiting.peek()?.wakeAt ?? null;
  }

  #place(key: KeyRecord, now: number): void {
    const at = this.#availableAt(key, now);
    if (at <= now && key.status === "Active") {
      this.#eligible.push(key);
      key.randomSlot = this.#eligibleList.length;
      this.#eligibleList.push(key);
    } else {
      key.wakeAt = at;
      this.#waiting.push(key);
    }
  }

  #detach(key: KeyRecord): void {
    if (key.randomSlot < 0) {
      this.#waiting.remove(key);
      return;
    }
    this.#eligible.remove(key);
    const list = this.#eligibleList;
    const last = list.pop() as KeyRecord;
    if (last !== key) {
      list[key.randomSlot] = last;
      last.randomSlot = key.randomSlot;
    }
    key.randomSlot = -1;
  }

  #rollGlobal(now: number): void {
    const minute = minuteOf(now);
    if (minute !== this.#globalMinute) {
      this.#globalMinute = minute;
      this.#globalMinuteCount = 0;
    }
    const day = dayOf(now);
    if (day !== this.#globalDay) {
      this.#globalDay = day;
      this.#globalDayCount = 0;
    }
  }

  #view(key: KeyRecord, now: number): KeyView {
    return {
      id: key.id,
      preview: key.secret.preview,
      status: key.status,
      requestsThisMinute: minuteCountAt(key, now),
      requestsThisDay: dayCountAt(key, now),
      lastUsed: key.lastUsed,
      createdAt: key.createdAt,
      deactivatedAt: key.deactivatedAt,
      availableAt: this.#availableAt(key, now),
    };
  }
}
