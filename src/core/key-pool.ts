import { IndexedHeap } from "./indexed-heap.ts";
import {
  dayCountAt,
  type KeyData,
  type KeyState,
  type KeyStatus,
  type KeyView,
  minuteCountAt,
} from "./key-record.ts";
import { ACTIVE, DISABLED, INACTIVE, isTime, KeyTable, NO_TIME, timeOr } from "./key-table.ts";
import type { PoolSettings } from "./limits.ts";
import { LruQueue } from "./lru-queue.ts";
import { applyOutcome, type Outcome } from "./outcome-rules.ts";
import { PoolSnapshot } from "./record-snapshot.ts";
import { SharedQuotaDetector } from "./shared-quota.ts";
import { SlotIndex } from "./slot-index.ts";
import { SlotList } from "./slot-list.ts";
import { dayOf, minuteOf, nextDayStart, nextMinuteStart } from "./windows.ts";

export type SelectionMode = "auto" | "random";

export type Refusal = "global-cap" | "pool-resting" | "exhausted";

export type AcquireResult =
  | {
      readonly ok: true;
      readonly id: string;
      readonly secret: KeyData["secret"];
      readonly probe: boolean;
    }
  | {
      readonly ok: false;
      readonly reason: Refusal;
      /** How long until a key could be dispensed; null when no key will come back by time alone. */
      readonly retryAfterMs: number | null;
    };

export type AddResult =
  | { readonly ok: true; readonly key: KeyView }
  | { readonly ok: false; readonly reason: "duplicate"; readonly existingId: string };

export interface PoolStats {
  readonly total: number;
  readonly byStatus: Readonly<Record<KeyView["status"], number>>;
  /** Keys that could be dispensed right now. */
  readonly available: number;
  readonly dispensedThisMinute: number;
  readonly dispensedToday: number;
  readonly globalCapRemaining: number;
  /** The pool rests as a whole (shared quota) until then, or null. */
  readonly restingUntil: number | null;
  readonly outcomes: Readonly<Record<"ok" | "rateLimited" | "invalid" | "error", number>>;
}

/** A key being loaded has the key string (`field: "key"`) or the id of one loaded before it. */
export class DuplicateKeyError extends Error {
  override name = "DuplicateKeyError";
  readonly field: "key" | "id";

  constructor(field: "key" | "id", id: string) {
    super(field === "key" ? `key ${id} repeats a key loaded before it` : `id ${id} is taken`);
    this.field = field;
  }
}

export function duplicateOf(data: KeyData, sameSecret: boolean): DuplicateKeyError {
  return new DuplicateKeyError(sameSecret ? "key" : "id", data.id);
}

/**
 * One pool's keys and the decision of which one to hand out. Pure: every
 * method takes `now`; nothing here reads a clock, sets a timer or touches the disk.
 *
 * Every key is in exactly one of two heaps: `eligible` (ordered least recently
 * used first, mirrored in an array for uniform random picks) or `waiting`
 * (ordered by the moment it may become eligible: next minute, next day, end of
 * a cooldown, a rest or a probe; Infinity for keys only an admin brings back).
 * Each operation moves a bounded number of keys between them, so acquiring a
 * key costs O(log n) however many keys there are. Keys are slots of a column
 * table (key-table.ts); a change made through the admin API edits a copy and
 * stores it back, while dispensing and waking write the columns directly.
 */
export class KeyPool {
  readonly name: string;
  #settings: PoolSettings;
  readonly #keys = new KeyTable();
  readonly #byId = new SlotIndex((slot) => this.#keys.id.get(slot));
  readonly #bySecret = new SlotIndex((slot) => this.#keys.secret.get(slot));
  readonly #eligible: LruQueue;
  readonly #eligibleList = new SlotList();
  readonly #waiting: IndexedHeap;
  readonly #sharedQuota = new SharedQuotaDetector();
  #activeKeys = 0;
  #restUntil = 0;
  #seq = 0;
  #globalMinute = -1;
  #globalMinuteCount = 0;
  #globalDay = -1;
  #globalDayCount = 0;
  #version = 0;
  /** The snapshot being read, if any: told before a key changes or goes. */
  #snapshot: PoolSnapshot | null = null;
  /**
   * Where snapshots copy keys before they change: kept from one save to the
   * next, so it stays as large as the most copies one save has held at once
   * (under load at 100,000 keys, up to about 34,000: 5 MB).
   */
  #copies: KeyTable | null = null;

  constructor(name: string, settings: PoolSettings) {
    this.name = name;
    this.#settings = settings;
    const keys = this.#keys;
    // A key is in one heap at a time, so both keep their positions in one column.
    this.#eligible = new LruQueue((a, b) => leastRecentlyUsed(keys, a, b), keys.heapSlot, {
      next: keys.lruNext,
      previous: keys.lruPrevious,
    });
    this.#waiting = new IndexedHeap(
      (a, b) => keys.wakeAt.get(a) < keys.wakeAt.get(b),
      keys.heapSlot,
    );
  }

  /** Rises with every change worth saving, dispenses included. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#keys.count;
  }

  get settings(): PoolSettings {
    return this.#settings;
  }

  /**
   * Adds a saved key, restoring its share of this minute's and day's dispense
   * counts; not a change to save. Throws DuplicateKeyError for a key string or id already here.
   */
  loadKey(data: KeyData, now: number): void {
    this.#rollGlobal(now);
    if (this.#insert(data, now) === undefined)
      throw duplicateOf(data, this.#bySecret.has(data.secret.reveal()));
    this.#globalMinuteCount += minuteCountAt(data, now);
    this.#globalDayCount += dayCountAt(data, now);
  }

  acquire(now: number, mode: SelectionMode, random: () => number): AcquireResult {
    this.advance(now);
    this.#rollGlobal(now);
    if (this.#globalMinuteCount >= this.#settings.tpm) {
      const retryAt = Math.max(nextMinuteStart(now), this.#earliestAvailable(now) ?? now);
      return { ok: false, reason: "global-cap", retryAfterMs: retryAt - now };
    }
    if (this.#restUntil > now) {
      return { ok: false, reason: "pool-resting", retryAfterMs: this.#restUntil - now };
    }
    const keys = this.#keys;
    for (;;) {
      const slot = mode === "random" ? this.#anyEligible(random) : this.#eligible.peek();
      if (slot === undefined) {
        const retryAt = this.#earliestAvailable(now);
        return {
          ok: false,
          reason: "exhausted",
          retryAfterMs: retryAt === null ? null : retryAt - now,
        };
      }
      // Expiry is the one change time makes to an eligible key: noticed here, when it matters.
      if (keys.isExpired(slot, now)) {
        this.#replace(slot, now);
        continue;
      }
      const probe = keys.halfOpen.get(slot) === 1;
      this.#dispense(slot, now);
      return { ok: true, id: keys.id.get(slot), secret: keys.secretOf(slot), probe };
    }
  }

  /** Brings back every waiting key whose time has come. Returns whether anything changed. */
  advance(now: number): boolean {
    const before = this.#version;
    const wakeAt = this.#keys.wakeAt;
    const waiting = this.#waiting;
    for (let slot = waiting.peek(); slot !== undefined && wakeAt.get(slot) <= now; ) {
      waiting.pop();
      this.#wake(slot, now);
      this.#place(slot, now);
      slot = waiting.peek();
    }
    return this.#version !== before;
  }

  /** The next moment time alone could change what this pool answers; null if none. */
  nextChangeAt(now: number): number | null {
    const next = this.#waiting.peek();
    const times = [next === undefined ? Number.POSITIVE_INFINITY : this.#keys.wakeAt.get(next)];
    if (this.#restUntil > now) times.push(this.#restUntil);
    if (this.#globalMinuteCount >= this.#settings.tpm) times.push(nextMinuteStart(now));
    const at = Math.min(...times);
    return Number.isFinite(at) ? at : null;
  }

  add(data: KeyData, now: number): AddResult {
    const slot = this.#insert(data, now);
    if (slot === undefined) {
      const existingId = (this.idOf(data.secret.reveal()) ?? this.idOf(data.id)) as string;
      return { ok: false, reason: "duplicate", existingId };
    }
    this.#version++;
    return { ok: true, key: this.#view(slot, now) };
  }

  /** The new key's slot, or undefined when its id or key string is already here. */
  #insert(data: KeyData, now: number): number | undefined {
    const secret = data.secret.reveal();
    if (this.#bySecret.has(secret) || this.#byId.has(data.id)) return undefined;
    const slot = this.#keys.add(data, ++this.#seq);
    this.#byId.add(data.id, slot);
    this.#bySecret.add(secret, slot);
    if (data.status === "Active") this.#activeKeys++;
    this.#place(slot, now);
    return slot;
  }

  /** The id of the key `ref` names: by id first, or else by the key string itself. */
  idOf(ref: string): string | undefined {
    const slot = this.#slotOf(ref);
    return slot === undefined ? undefined : this.#keys.id.get(slot);
  }

  /** A copy of the key `ref` names (by id first, then by key string). */
  find(ref: string): KeyData | undefined {
    const slot = this.#slotOf(ref);
    return slot === undefined ? undefined : this.#read(slot);
  }

  remove(id: string, now: number): KeyView | undefined {
    const slot = this.#byId.get(id);
    if (slot === undefined) return undefined;
    const keys = this.#keys;
    const view = this.#view(slot, now);
    this.#snapshot?.preserve(slot);
    this.#detach(slot);
    this.#byId.delete(id);
    this.#bySecret.delete(keys.secret.get(slot));
    if (keys.status.get(slot) === ACTIVE) this.#activeKeys--;
    keys.delete(slot);
    this.#version++;
    return view;
  }

  /**
   * Takes a key out of rotation until the cooldown has passed (restarting it if already resting).
   * A Disabled key stays Disabled: as Inactive, the cooldown would bring a key the provider
   * refused back by itself, and only a reactivate may.
   */
  deactivate(id: string, now: number): KeyView | undefined {
    return this.#change(id, now, (key) => {
      if (key.status === "Disabled") return;
      this.#setStatusField(key, "Inactive");
      key.deactivatedAt = now;
    });
  }

  /** Puts a key back in rotation at once, whatever took it out: cooldown, rest, or Disabled. */
  reactivate(id: string, now: number): KeyView | undefined {
    return this.#change(id, now, (key) => {
      this.#setStatusField(key, "Active");
      key.deactivatedAt = null;
      key.restUntil = null;
      key.backoffLevel = 0;
      key.errorStreak = 0;
      key.halfOpen = false;
      key.probeSentAt = null;
    });
  }

  report(
    id: string,
    outcome: Outcome,
    retryAfterMs: number | null,
    now: number,
  ): KeyView | undefined {
    return this.#change(id, now, (key) => {
      const wasActive = key.status === "Active";
      applyOutcome(key, outcome, retryAfterMs, now, this.#settings);
      if (wasActive && key.status !== "Active") this.#activeKeys--;
      if (outcome === "rate_limited" && key.restUntil !== null) {
        const poolRest = this.#sharedQuota.record(
          id,
          now,
          key.restUntil,
          this.#activeKeys,
          this.#settings,
        );
        if (poolRest !== null) this.#restUntil = Math.max(this.#restUntil, poolRest);
      }
    });
  }

  view(id: string, now: number): KeyView | undefined {
    const slot = this.#byId.get(id);
    return slot === undefined ? undefined : this.#view(slot, now);
  }

  list(now: number): KeyView[] {
    const views: KeyView[] = [];
    for (let slot = this.#keys.first; slot !== -1; slot = this.#keys.after(slot))
      views.push(this.#view(slot, now));
    return views;
  }

  /** This pool's keys as they are now, kept so until the next snapshot is opened or this one closed. */
  openSnapshot(): PoolSnapshot {
    this.#copies ??= new KeyTable();
    this.#snapshot = new PoolSnapshot(this.#keys, this.name, this.#copies);
    return this.#snapshot;
  }

  stats(now: number): PoolStats {
    this.#rollGlobal(now);
    const keys = this.#keys;
    const byStatus = { Active: 0, Inactive: 0, Disabled: 0, Expired: 0 };
    const outcomes = { ok: 0, rateLimited: 0, invalid: 0, error: 0 };
    // An eligible key that expired stays in the heap until an acquire meets it, so it is not counted.
    let available = 0;
    for (let slot = keys.first; slot !== -1; slot = keys.after(slot)) {
      const expired = keys.isExpired(slot, now);
      byStatus[expired ? "Expired" : keys.statusOf(slot)]++;
      if (keys.randomSlot.get(slot) >= 0 && !expired) available++;
      const counts = keys.outcomes.get(slot);
      outcomes.ok += counts.ok;
      outcomes.rateLimited += counts.rateLimited;
      outcomes.invalid += counts.invalid;
      outcomes.error += counts.error;
    }
    return {
      total: keys.count,
      byStatus,
      available,
      dispensedThisMinute: this.#globalMinuteCount,
      dispensedToday: this.#globalDayCount,
      globalCapRemaining: Math.max(0, this.#settings.tpm - this.#globalMinuteCount),
      restingUntil: this.#restUntil > now ? this.#restUntil : null,
      outcomes,
    };
  }

  #slotOf(ref: string): number | undefined {
    return this.#byId.get(ref) ?? this.#bySecret.get(ref);
  }

  #read(slot: number): KeyData {
    return this.#keys.read(slot, this.name);
  }

  #change(id: string, now: number, change: (key: KeyState) => void): KeyView | undefined {
    const slot = this.#byId.get(id);
    if (slot === undefined) return undefined;
    this.#snapshot?.preserve(slot);
    this.#detach(slot);
    const key = this.#keys.edit(slot, this.name);
    change(key);
    this.#keys.write(slot, key);
    this.#place(slot, now);
    this.#version++;
    return this.#view(slot, now);
  }

  #setStatusField(key: KeyState, status: KeyStatus): void {
    this.#activeKeys += Number(status === "Active") - Number(key.status === "Active");
    key.status = status;
  }

  #wake(slot: number, now: number): void {
    this.#snapshot?.preserve(slot);
    const keys = this.#keys;
    const settings = this.#settings;
    if (
      keys.status.get(slot) === INACTIVE &&
      timeOr(keys.deactivatedAt.get(slot), now) + settings.cooldownMs <= now
    ) {
      keys.status.set(slot, ACTIVE);
      this.#activeKeys++;
      keys.deactivatedAt.set(slot, NO_TIME);
      this.#version++;
    }
    if (keys.restUntil.get(slot) <= now) {
      keys.restUntil.set(slot, NO_TIME);
      keys.halfOpen.set(slot, 1);
      this.#version++;
    }
    if (keys.probeSentAt.get(slot) + settings.probeTimeoutMs <= now) {
      // Nobody reported a failure in time: the probe is taken to have worked.
      keys.probeSentAt.set(slot, NO_TIME);
      keys.halfOpen.set(slot, 0);
      keys.backoffLevel.set(slot, 0);
      this.#version++;
    }
  }

  #dispense(slot: number, now: number): void {
    this.#snapshot?.preserve(slot);
    const keys = this.#keys;
    const minute = minuteOf(now);
    const day = dayOf(now);
    const minuteCount = keys.minuteCountIn(slot, minute) + 1;
    const dayCount = keys.dayCountIn(slot, day) + 1;
    keys.minuteCount.set(slot, minuteCount);
    keys.minuteWindow.set(slot, minute);
    keys.dayCount.set(slot, dayCount);
    keys.dayWindow.set(slot, day);
    keys.lastUsed.set(slot, now);
    keys.useSeq.set(slot, ++this.#seq);
    if (keys.halfOpen.get(slot) === 1) keys.probeSentAt.set(slot, now);
    this.#globalMinuteCount++;
    this.#globalDayCount++;
    this.#version++;
    if (
      isTime(keys.probeSentAt.get(slot)) ||
      minuteCount >= this.#rpm(slot) ||
      dayCount >= this.#rpd(slot)
    ) {
      this.#replace(slot, now);
    } else {
      this.#eligible.update(slot);
    }
  }

  #rpm(slot: number): number {
    return this.#keys.limits.get(slot)?.rpm ?? this.#settings.rpm;
  }

  #rpd(slot: number): number {
    return this.#keys.limits.get(slot)?.rpd ?? this.#settings.rpd;
  }

  #availableAt(slot: number, now: number): number {
    const keys = this.#keys;
    const status = keys.status.get(slot);
    if (status === DISABLED || keys.isExpired(slot, now)) return Number.POSITIVE_INFINITY;
    const settings = this.#settings;
    let at = now;
    if (status === INACTIVE)
      at = Math.max(at, timeOr(keys.deactivatedAt.get(slot), now) + settings.cooldownMs);
    const restUntil = keys.restUntil.get(slot);
    if (isTime(restUntil)) at = Math.max(at, restUntil);
    const probeSentAt = keys.probeSentAt.get(slot);
    if (isTime(probeSentAt)) at = Math.max(at, probeSentAt + settings.probeTimeoutMs);
    if (keys.dayCountIn(slot, dayOf(now)) >= this.#rpd(slot))
      return Math.max(at, nextDayStart(now));
    if (keys.minuteCountIn(slot, minuteOf(now)) >= this.#rpm(slot))
      return Math.max(at, nextMinuteStart(now));
    return at;
  }

  #anyEligible(random: () => number): number | undefined {
    const list = this.#eligibleList;
    return list.length === 0 ? undefined : list.get(Math.floor(random() * list.length));
  }

  #earliestAvailable(now: number): number | null {
    if (this.#eligible.size > 0) return now;
    const next = this.#waiting.peek();
    const at = next === undefined ? Number.POSITIVE_INFINITY : this.#keys.wakeAt.get(next);
    return Number.isFinite(at) ? at : null;
  }

  #replace(slot: number, now: number): void {
    this.#detach(slot);
    this.#place(slot, now);
  }

  #place(slot: number, now: number): void {
    const keys = this.#keys;
    const at = this.#availableAt(slot, now);
    if (at <= now && keys.status.get(slot) === ACTIVE && !isTime(keys.restUntil.get(slot))) {
      this.#eligible.push(slot);
      keys.randomSlot.set(slot, this.#eligibleList.length);
      this.#eligibleList.push(slot);
    } else {
      // A state only time undoes but that is already due waits for the next advance().
      keys.wakeAt.set(slot, at);
      this.#waiting.push(slot);
    }
  }

  #detach(slot: number): void {
    const keys = this.#keys;
    const randomSlot = keys.randomSlot.get(slot);
    if (randomSlot < 0) {
      this.#waiting.remove(slot);
      return;
    }
    this.#eligible.remove(slot);
    const list = this.#eligibleList;
    const last = list.pop() as number;
    if (last !== slot) {
      list.set(randomSlot, last);
      keys.randomSlot.set(last, randomSlot);
    }
    keys.randomSlot.set(slot, -1);
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

  #view(slot: number, now: number): KeyView {
    const key = this.#read(slot);
    const availableAt = this.#availableAt(slot, now);
    return {
      id: key.id,
      preview: key.secret.preview,
      pool: key.pool,
      status: this.#keys.isExpired(slot, now) ? "Expired" : key.status,
      limits: key.limits,
      expiresAt: key.expiresAt,
      requestsThisMinute: minuteCountAt(key, now),
      requestsThisDay: dayCountAt(key, now),
      lastUsed: key.lastUsed,
      createdAt: key.createdAt,
      deactivatedAt: key.deactivatedAt,
      restUntil: key.restUntil,
      halfOpen: key.halfOpen,
      errorStreak: key.errorStreak,
      outcomes: key.outcomes,
      availableAt: Number.isFinite(availableAt) ? availableAt : null,
    };
  }
}

/** Least recently used first; a key never used before any that was, then the order of insertion. */
function leastRecentlyUsed(keys: KeyTable, a: number, b: number): boolean {
  const aUsed = timeOr(keys.lastUsed.get(a), Number.NEGATIVE_INFINITY);
  const bUsed = timeOr(keys.lastUsed.get(b), Number.NEGATIVE_INFINITY);
  return aUsed < bUsed || (aUsed === bUsed && keys.useSeq.get(a) < keys.useSeq.get(b));
}
