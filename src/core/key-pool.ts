import { IndexedHeap } from "./indexed-heap.ts";
import {
  dayCountAt,
  isExpired,
  type KeyData,
  type KeyRecord,
  type KeyStatus,
  type KeyView,
  minuteCountAt,
  newRecord,
} from "./key-record.ts";
import type { PoolSettings } from "./limits.ts";
import { applyOutcome, type Outcome } from "./outcome-rules.ts";
import type { RecordSnapshot } from "./record-snapshot.ts";
import { SharedQuotaDetector } from "./shared-quota.ts";
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

const lruBefore = (a: KeyRecord, b: KeyRecord): boolean => {
  const aUsed = a.lastUsed ?? Number.NEGATIVE_INFINITY;
  const bUsed = b.lastUsed ?? Number.NEGATIVE_INFINITY;
  return aUsed < bUsed || (aUsed === bUsed && a.useSeq < b.useSeq);
};

/**
 * One pool's keys and the decision of which one to hand out. Pure: every
 * method takes `now`; nothing here reads a clock, sets a timer or touches the disk.
 *
 * Every key is in exactly one of two heaps: `eligible` (ordered least recently
 * used first, mirrored in an array for uniform random picks) or `waiting`
 * (ordered by the moment it may become eligible: next minute, next day, end of
 * a cooldown, a rest or a probe; Infinity for keys only an admin brings back).
 * Each operation moves a bounded number of keys between them, so acquiring a
 * key costs O(log n) however many keys there are.
 */
export class KeyPool {
  readonly name: string;
  #settings: PoolSettings;
  readonly #byId = new Map<string, KeyRecord>();
  readonly #bySecret = new Map<string, KeyRecord>();
  readonly #eligible = new IndexedHeap<KeyRecord>(lruBefore);
  readonly #eligibleList: KeyRecord[] = [];
  readonly #waiting = new IndexedHeap<KeyRecord>((a, b) => a.wakeAt < b.wakeAt);
  readonly #sharedQuota = new SharedQuotaDetector();
  #activeKeys = 0;
  #restUntil = 0;
  #seq = 0;
  #globalMinute = -1;
  #globalMinuteCount = 0;
  #globalDay = -1;
  #globalDayCount = 0;
  #version = 0;
  /** The snapshot being read, if any: told before a record changes. */
  #snapshot: RecordSnapshot | null = null;

  constructor(name: string, settings: PoolSettings) {
    this.name = name;
    this.#settings = settings;
  }

  /** Rises with every change worth saving, dispenses included. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#byId.size;
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
    if (this.#insert(data, now) === null)
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
    for (;;) {
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
      // Expiry is the one change time makes to an eligible key: noticed here, when it matters.
      if (isExpired(key, now)) {
        this.#replace(key, now);
        continue;
      }
      const probe = key.halfOpen;
      this.#dispense(key, now);
      return { ok: true, id: key.id, secret: key.secret, probe };
    }
  }

  /** Brings back every waiting key whose time has come. Returns whether anything changed. */
  advance(now: number): boolean {
    const before = this.#version;
    for (let key = this.#waiting.peek(); key && key.wakeAt <= now; key = this.#waiting.peek()) {
      this.#waiting.pop();
      this.#wake(key, now);
      this.#place(key, now);
    }
    return this.#version !== before;
  }

  /** The next moment time alone could change what this pool answers; null if none. */
  nextChangeAt(now: number): number | null {
    const times = [this.#waiting.peek()?.wakeAt ?? Number.POSITIVE_INFINITY];
    if (this.#restUntil > now) times.push(this.#restUntil);
    if (this.#globalMinuteCount >= this.#settings.tpm) times.push(nextMinuteStart(now));
    const at = Math.min(...times);
    return Number.isFinite(at) ? at : null;
  }

  add(data: KeyData, now: number): AddResult {
    const key = this.#insert(data, now);
    if (key === null) {
      const existing = (this.#bySecret.get(data.secret.reveal()) ??
        this.#byId.get(data.id)) as KeyRecord;
      return { ok: false, reason: "duplicate", existingId: existing.id };
    }
    this.#version++;
    return { ok: true, key: this.#view(key, now) };
  }

  /** The new key's record, or null when its id or key string is already here. */
  #insert(data: KeyData, now: number): KeyRecord | null {
    if (this.#bySecret.has(data.secret.reveal()) || this.#byId.has(data.id)) return null;
    const key = newRecord(data, ++this.#seq);
    this.#byId.set(key.id, key);
    this.#bySecret.set(key.secret.reveal(), key);
    if (key.status === "Active") this.#activeKeys++;
    this.#place(key, now);
    return key;
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
    if (key.status === "Active") this.#activeKeys--;
    this.#version++;
    return this.#view(key, now);
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
    const key = this.#byId.get(id);
    return key && this.#view(key, now);
  }

  list(now: number): KeyView[] {
    return Array.from(this.#byId.values(), (key) => this.#view(key, now));
  }

  /** Live records in insertion order; read each one synchronously. */
  records(): IterableIterator<KeyData> {
    return this.#byId.values();
  }

  /** Adds this pool's records to `snapshot` and keeps it told of changes until the next one. */
  joinSnapshot(snapshot: RecordSnapshot, records: KeyRecord[]): void {
    this.#snapshot = snapshot;
    for (const record of this.#byId.values()) records.push(record);
  }

  stats(now: number): PoolStats {
    this.#rollGlobal(now);
    const byStatus = { Active: 0, Inactive: 0, Disabled: 0, Expired: 0 };
    const outcomes = { ok: 0, rateLimited: 0, invalid: 0, error: 0 };
    // An eligible key that expired stays in the heap until an acquire meets it, so it is not counted.
    let available = 0;
    for (const key of this.#byId.values()) {
      const expired = isExpired(key, now);
      byStatus[expired ? "Expired" : key.status]++;
      if (key.randomSlot >= 0 && !expired) available++;
      outcomes.ok += key.outcomes.ok;
      outcomes.rateLimited += key.outcomes.rateLimited;
      outcomes.invalid += key.outcomes.invalid;
      outcomes.error += key.outcomes.error;
    }
    return {
      total: this.#byId.size,
      byStatus,
      available,
      dispensedThisMinute: this.#globalMinuteCount,
      dispensedToday: this.#globalDayCount,
      globalCapRemaining: Math.max(0, this.#settings.tpm - this.#globalMinuteCount),
      restingUntil: this.#restUntil > now ? this.#restUntil : null,
      outcomes,
    };
  }

  #change(id: string, now: number, change: (key: KeyRecord) => void): KeyView | undefined {
    const key = this.#byId.get(id);
    if (!key) return undefined;
    this.#snapshot?.preserve(key);
    this.#detach(key);
    change(key);
    this.#place(key, now);
    this.#version++;
    return this.#view(key, now);
  }

  #setStatusField(key: KeyRecord, status: KeyStatus): void {
    this.#activeKeys += Number(status === "Active") - Number(key.status === "Active");
    key.status = status;
  }

  #wake(key: KeyRecord, now: number): void {
    this.#snapshot?.preserve(key);
    const settings = this.#settings;
    if (key.status === "Inactive" && (key.deactivatedAt ?? now) + settings.cooldownMs <= now) {
      this.#setStatusField(key, "Active");
      key.deactivatedAt = null;
      this.#version++;
    }
    if (key.restUntil !== null && key.restUntil <= now) {
      key.restUntil = null;
      key.halfOpen = true;
      this.#version++;
    }
    if (key.probeSentAt !== null && key.probeSentAt + settings.probeTimeoutMs <= now) {
      // Nobody reported a failure in time: the probe is taken to have worked.
      key.probeSentAt = null;
      key.halfOpen = false;
      key.backoffLevel = 0;
      this.#version++;
    }
  }

  #dispense(key: KeyRecord, now: number): void {
    this.#snapshot?.preserve(key);
    const minute = minuteOf(now);
    const day = dayOf(now);
    key.minuteCount = key.minuteWindow === minute ? key.minuteCount + 1 : 1;
    key.minuteWindow = minute;
    key.dayCount = key.dayWindow === day ? key.dayCount + 1 : 1;
    key.dayWindow = day;
    key.lastUsed = now;
    key.useSeq = ++this.#seq;
    if (key.halfOpen) key.probeSentAt = now;
    this.#globalMinuteCount++;
    this.#globalDayCount++;
    this.#version++;
    if (
      key.probeSentAt !== null ||
      key.minuteCount >= this.#rpm(key) ||
      key.dayCount >= this.#rpd(key)
    ) {
      this.#replace(key, now);
    } else {
      this.#eligible.update(key);
    }
  }

  #rpm(key: KeyData): number {
    return key.limits?.rpm ?? this.#settings.rpm;
  }

  #rpd(key: KeyData): number {
    return key.limits?.rpd ?? this.#settings.rpd;
  }

  #availableAt(key: KeyData, now: number): number {
    if (key.status === "Disabled" || isExpired(key, now)) return Number.POSITIVE_INFINITY;
    const settings = this.#settings;
    let at = now;
    if (key.status === "Inactive")
      at = Math.max(at, (key.deactivatedAt ?? now) + settings.cooldownMs);
    if (key.restUntil !== null) at = Math.max(at, key.restUntil);
    if (key.probeSentAt !== null) at = Math.max(at, key.probeSentAt + settings.probeTimeoutMs);
    if (dayCountAt(key, now) >= this.#rpd(key)) return Math.max(at, nextDayStart(now));
    if (minuteCountAt(key, now) >= this.#rpm(key)) return Math.max(at, nextMinuteStart(now));
    return at;
  }

  #earliestAvailable(now: number): number | null {
    if (this.#eligible.size > 0) return now;
    const at = this.#waiting.peek()?.wakeAt ?? Number.POSITIVE_INFINITY;
    return Number.isFinite(at) ? at : null;
  }

  #replace(key: KeyRecord, now: number): void {
    this.#detach(key);
    this.#place(key, now);
  }

  #place(key: KeyRecord, now: number): void {
    const at = this.#availableAt(key, now);
    if (at <= now && key.status === "Active" && key.restUntil === null) {
      this.#eligible.push(key);
      key.randomSlot = this.#eligibleList.length;
      this.#eligibleList.push(key);
    } else {
      // A state only time undoes but that is already due waits for the next advance().
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
    const availableAt = this.#availableAt(key, now);
    return {
      id: key.id,
      preview: key.secret.preview,
      pool: key.pool,
      status: isExpired(key, now) ? "Expired" : key.status,
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
      outcomes: { ...key.outcomes },
      availableAt: Number.isFinite(availableAt) ? availableAt : null,
    };
  }
}
