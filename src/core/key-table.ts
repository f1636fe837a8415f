import { NumberRecords, PAGE_SIZE, ValueRecords } from "./columns.ts";
import {
  hasOutcomes,
  type KeyData,
  type KeyState,
  type KeyStatus,
  type OutcomeCounts,
} from "./key-record.ts";
import type { KeyLimits } from "./limits.ts";
import { Secret } from "./secret.ts";
import { SlotChain } from "./slot-chain.ts";

const STATUSES: readonly KeyStatus[] = ["Active", "Inactive", "Disabled"];
export const ACTIVE = 0;
export const INACTIVE = 1;
export const DISABLED = 2;

/** A time column's "none": NaN, which every comparison with a time answers false. */
export const NO_TIME = Number.NaN;

export function timeOrNull(value: number): number | null {
  return Number.isNaN(value) ? null : value;
}

export function isTime(value: number): boolean {
  return !Number.isNaN(value);
}

export function timeOr(value: number, fallback: number): number {
  return isTime(value) ? value : fallback;
}

// Shared by every key with nothing reported yet (most keys). Frozen: counts are
// changed on a copy (`edit`) and stored as a new object.
const NO_OUTCOMES: OutcomeCounts = Object.freeze({ ok: 0, rateLimited: 0, invalid: 0, error: 0 });

/**
 * Every key of a pool, a key being a slot (an index): its numbers in one
 * record, its strings and shared objects in another (columns.ts). An object
 * per key cost about 300 bytes at 100,000 keys (23 fields, a boxed double per
 * timestamp, a Secret wrapper); here a key costs 160 bytes and the collector
 * has five objects to trace for each 4,096 keys (125 at 100,000) instead of
 * 400,000 objects.
 * Times that may be absent hold NO_TIME.
 */
export class KeyTable {
  readonly #values = new ValueRecords();
  readonly #numbers = new NumberRecords();

  readonly id = this.#values.field<string>();
  /** The key string itself; wrapped in a Secret whenever it leaves the table. */
  readonly secret = this.#values.field<string>();
  readonly limits = this.#values.field<KeyLimits | null>();
  readonly outcomes = this.#values.field<Readonly<OutcomeCounts>>();

  // What a dispense reads or writes comes first, to share the record's first cache line or two.
  readonly expiresAt = this.#numbers.float64();
  // Counts bounded only by a key's limits, which may be large, and minutes since
  // 1970, which pass 2^31 in the year 6053 (keys.json may hold any year): doubles.
  readonly minuteCount = this.#numbers.float64();
  readonly minuteWindow = this.#numbers.float64();
  readonly dayCount = this.#numbers.float64();
  readonly lastUsed = this.#numbers.float64();
  /** Tie-breaker for least-recently-used order: rises with every insert and dispense. */
  readonly useSeq = this.#numbers.float64();
  readonly probeSentAt = this.#numbers.float64();
  readonly dayWindow = this.#numbers.int32();
  /** Position in whichever heap holds the key. */
  readonly heapSlot = this.#numbers.int32();
  /** Neighbours in the pool's least-recently-used list while the key is listed there, else stale. */
  readonly lruNext = this.#numbers.int32();
  readonly lruPrevious = this.#numbers.int32();
  readonly halfOpen = this.#numbers.uint8();
  readonly status = this.#numbers.uint8();
  /** Position in the pool's random-pick list while eligible, else -1. */
  readonly randomSlot = this.#numbers.int32();
  /** Both at most MAX_STREAK, which fits an int32. */
  readonly backoffLevel = this.#numbers.int32();
  readonly errorStreak = this.#numbers.int32();
  /** When a waiting key may become eligible again (Infinity: not by time alone). */
  readonly wakeAt = this.#numbers.float64();
  readonly restUntil = this.#numbers.float64();
  readonly createdAt = this.#numbers.float64();
  readonly deactivatedAt = this.#numbers.float64();
  // Insertion order, which lists and keys.json keep: a slot freed and reused is added anew.
  readonly #nextInOrder = this.#numbers.int32();
  readonly #previousInOrder = this.#numbers.int32();

  readonly #order = new SlotChain(this.#nextInOrder, this.#previousInOrder);
  readonly #free: number[] = [];
  #inOrder: Int32Array | null = null;
  #used = 0;
  #capacity = 0;

  get count(): number {
    return this.#order.count;
  }

  /** The slot of the key added first, -1 when there is none. */
  get first(): number {
    return this.#order.first;
  }

  /** The slot of the key added after the one in `slot`, -1 when it is the last. */
  after(slot: number): number {
    return this.#order.after(slot);
  }

  /**
   * Every key's slot in insertion order, in an array outside the JS heap. The
   * same array is returned until a key is added or deleted, so it must not be
   * written to: walking the order touches every key's record, which held the
   * start of every save of 100,000 keys for 1.3-2.7 ms.
   */
  slotsInOrder(): Int32Array {
    if (this.#inOrder !== null) return this.#inOrder;
    const slots = new Int32Array(this.count);
    for (let i = 0, slot = this.first; slot !== -1; slot = this.after(slot)) slots[i++] = slot;
    this.#inOrder = slots;
    return slots;
  }

  /** Every slot this table has handed out is below this. */
  get slotLimit(): number {
    return this.#used;
  }

  /** A slot holding `data`. */
  add(data: KeyData, useSeq: number): number {
    const slot = this.#free.pop() ?? this.#next();
    this.write(slot, data);
    this.useSeq.set(slot, useSeq);
    this.heapSlot.set(slot, -1);
    this.randomSlot.set(slot, -1);
    this.wakeAt.set(slot, 0);
    this.#order.append(slot);
    this.#inOrder = null;
    return slot;
  }

  /**
   * A slot of this table holding a copy of the key in `slot` of `source`. The
   * copy is outside the insertion order: it is read by its slot, never listed.
   */
  copyFrom(source: KeyTable, slot: number): number {
    const copy = this.#free.pop() ?? this.#next();
    this.#numbers.copyRecord(source.#numbers, slot, copy);
    this.#values.copyRecord(source.#values, slot, copy);
    return copy;
  }

  /** Frees the slot for a later key, letting go of its strings. */
  delete(slot: number): void {
    this.#order.unlink(slot);
    this.#inOrder = null;
    this.release(slot);
  }

  /**
   * Frees a slot outside the insertion order (a copy `copyFrom` made, or a key
   * `delete` has unlinked) for a later key, letting go of its strings.
   */
  release(slot: number): void {
    this.id.set(slot, undefined);
    this.secret.set(slot, undefined);
    this.limits.set(slot, undefined);
    this.outcomes.set(slot, undefined);
    this.#free.push(slot);
  }

  /** The key's persisted fields as they are now (the outcome counts shared: stored ones never change). */
  read(slot: number, pool: string): KeyData {
    return {
      id: this.id.get(slot),
      secret: this.secretOf(slot),
      pool,
      limits: this.limits.get(slot),
      expiresAt: timeOrNull(this.expiresAt.get(slot)),
      status: this.statusOf(slot),
      minuteCount: this.minuteCount.get(slot),
      minuteWindow: this.minuteWindow.get(slot),
      dayCount: this.dayCount.get(slot),
      dayWindow: this.dayWindow.get(slot),
      lastUsed: timeOrNull(this.lastUsed.get(slot)),
      createdAt: this.createdAt.get(slot),
      deactivatedAt: timeOrNull(this.deactivatedAt.get(slot)),
      restUntil: timeOrNull(this.restUntil.get(slot)),
      backoffLevel: this.backoffLevel.get(slot),
      errorStreak: this.errorStreak.get(slot),
      halfOpen: this.halfOpen.get(slot) === 1,
      probeSentAt: timeOrNull(this.probeSentAt.get(slot)),
      outcomes: this.outcomes.get(slot),
    };
  }

  /** A copy of the key's persisted fields that the caller may change and `write` back. */
  edit(slot: number, pool: string): KeyState {
    const key = this.read(slot, pool);
    return { ...key, outcomes: { ...key.outcomes } };
  }

  /** Stores every persisted field of `data` in the slot. */
  write(slot: number, data: KeyData): void {
    this.id.set(slot, data.id);
    this.secret.set(slot, data.secret.reveal());
    this.limits.set(slot, data.limits);
    this.expiresAt.set(slot, data.expiresAt ?? NO_TIME);
    this.status.set(slot, STATUSES.indexOf(data.status));
    this.minuteCount.set(slot, data.minuteCount);
    this.minuteWindow.set(slot, data.minuteWindow);
    this.dayCount.set(slot, data.dayCount);
    this.dayWindow.set(slot, data.dayWindow);
    this.lastUsed.set(slot, data.lastUsed ?? NO_TIME);
    this.createdAt.set(slot, data.createdAt);
    this.deactivatedAt.set(slot, data.deactivatedAt ?? NO_TIME);
    this.restUntil.set(slot, data.restUntil ?? NO_TIME);
    this.backoffLevel.set(slot, data.backoffLevel);
    this.errorStreak.set(slot, data.errorStreak);
    this.halfOpen.set(slot, data.halfOpen ? 1 : 0);
    this.probeSentAt.set(slot, data.probeSentAt ?? NO_TIME);
    this.outcomes.set(slot, hasOutcomes(data.outcomes) ? { ...data.outcomes } : NO_OUTCOMES);
  }

  secretOf(slot: number): Secret {
    return new Secret(this.secret.get(slot));
  }

  statusOf(slot: number): KeyStatus {
    return STATUSES[this.status.get(slot)] as KeyStatus;
  }

  /** Dispenses counted in `minute` (a number from windows.ts): 0 when the count is of another. */
  minuteCountIn(slot: number, minute: number): number {
    return this.minuteWindow.get(slot) === minute ? this.minuteCount.get(slot) : 0;
  }

  dayCountIn(slot: number, day: number): number {
    return this.dayWindow.get(slot) === day ? this.dayCount.get(slot) : 0;
  }

  isExpired(slot: number, now: number): boolean {
    return this.expiresAt.get(slot) <= now;
  }

  #next(): number {
    if (this.#used === this.#capacity) {
      this.#values.addPage();
      this.#numbers.addPage();
      this.#capacity += PAGE_SIZE;
    }
    return this.#used++;
  }
}
