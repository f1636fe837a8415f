import {
  type AcquireResult,
  type AddResult,
  duplicateOf,
  KeyPool,
  type PoolStats,
  type SelectionMode,
} from "./key-pool.ts";
import { DEFAULT_POOL, type KeyData, type KeyView } from "./key-record.ts";
import type { PoolSettings } from "./limits.ts";
import type { Outcome } from "./outcome-rules.ts";
import { RecordSnapshot } from "./record-snapshot.ts";

/**
 * Every pool, by name. Pools are few (one per provider or team), so finding a
 * key's pool tries each in turn; within a pool every lookup is a map hit.
 * A pool exists when it is configured or holds a key; keys are unique across pools.
 */
export class PoolSet {
  readonly #pools = new Map<string, KeyPool>();
  readonly #settingsOf: (pool: string) => PoolSettings;
  readonly #configured: ReadonlySet<string>;
  /**
   * Emptied pools no config names: gone for callers, kept so that one coming back
   * within the minute (its keys replaced, say) keeps its counts against `tpm` and any rest.
   */
  readonly #emptied = new Map<string, KeyPool>();
  #removedVersions = 0;

  /** `configured` pools exist even while empty; any other pool comes and goes with its keys. */
  constructor(settingsOf: (pool: string) => PoolSettings, configured: readonly string[] = []) {
    this.#settingsOf = settingsOf;
    this.#configured = new Set(configured);
    for (const name of [DEFAULT_POOL, ...configured]) this.#pool(name);
  }

  /** Adds a saved key as it was, counts included: not a change to save. */
  loadKey(key: KeyData, now: number): void {
    // Ids and key strings are one namespace (either may name a key in a path), across pools.
    for (const pool of this.#pools.values()) {
      const sameSecret = pool.idOf(key.secret.reveal()) !== undefined;
      if (sameSecret || pool.idOf(key.id) !== undefined) throw duplicateOf(key, sameSecret);
    }
    this.#pool(key.pool).loadKey(key, now);
  }

  /** Rises with every change worth saving in any pool. */
  get version(): number {
    let version = this.#removedVersions;
    for (const pool of this.#pools.values()) version += pool.version;
    return version;
  }

  has(pool: string): boolean {
    return this.#pools.has(pool);
  }

  names(): string[] {
    return [...this.#pools.keys()];
  }

  settings(pool: string): PoolSettings {
    return this.#pools.get(pool)?.settings ?? this.#settingsOf(pool);
  }

  acquire(pool: string, now: number, mode: SelectionMode, random: () => number): AcquireResult {
    const found = this.#pools.get(pool);
    if (!found) return { ok: false, reason: "exhausted", retryAfterMs: null };
    return found.acquire(now, mode, random);
  }

  add(data: KeyData, now: number): AddResult {
    const existingId = this.#idOf(data.secret.reveal()) ?? this.#idOf(data.id);
    if (existingId !== undefined) return { ok: false, reason: "duplicate", existingId };
    return this.#pool(data.pool).add(data, now);
  }

  find(ref: string): KeyData | undefined {
    for (const pool of this.#pools.values()) {
      const key = pool.find(ref);
      if (key) return key;
    }
    return undefined;
  }

  remove(id: string, now: number): KeyView | undefined {
    const pool = this.#poolOf(id);
    const removed = pool?.remove(id, now);
    if (pool && pool.size === 0) this.#forget(pool);
    return removed;
  }

  deactivate(id: string, now: number): KeyView | undefined {
    return this.#poolOf(id)?.deactivate(id, now);
  }

  reactivate(id: string, now: number): KeyView | undefined {
    return this.#poolOf(id)?.reactivate(id, now);
  }

  report(
    id: string,
    outcome: Outcome,
    retryAfterMs: number | null,
    now: number,
  ): KeyView | undefined {
    return this.#poolOf(id)?.report(id, outcome, retryAfterMs, now);
  }

  /**
   * Puts a key back as `data` describes it: how a failed save is undone. The
   * live usage counters are kept, so dispenses made meanwhile still count.
   */
  restore(data: KeyData, now: number): void {
    const pool = this.#poolOf(data.id);
    const live = pool?.find(data.id);
    pool?.remove(data.id, now);
    const usage = live && {
      minuteCount: live.minuteCount,
      minuteWindow: live.minuteWindow,
      dayCount: live.dayCount,
      dayWindow: live.dayWindow,
      lastUsed: live.lastUsed,
    };
    this.#pool(data.pool).add({ ...data, ...usage }, now);
  }

  advance(now: number): boolean {
    let changed = false;
    for (const pool of this.#pools.values()) changed = pool.advance(now) || changed;
    return changed;
  }

  nextChangeAt(pool: string, now: number): number | null {
    return this.#pools.get(pool)?.nextChangeAt(now) ?? null;
  }

  list(now: number, pool?: string): KeyView[] {
    if (pool !== undefined) return this.#pools.get(pool)?.list(now) ?? [];
    return [...this.#pools.values()].flatMap((p) => p.list(now));
  }

  /** Every key as it is now, readable across turns while changes go on (close it when done). */
  openSnapshot(): RecordSnapshot {
    return new RecordSnapshot(Array.from(this.#pools.values(), (pool) => pool.openSnapshot()));
  }

  stats(now: number): Map<string, PoolStats> {
    return new Map([...this.#pools].map(([name, pool]) => [name, pool.stats(now)]));
  }

  #poolOf(id: string): KeyPool | undefined {
    for (const pool of this.#pools.values()) if (pool.idOf(id) === id) return pool;
    return undefined;
  }

  #idOf(ref: string): string | undefined {
    for (const pool of this.#pools.values()) {
      const id = pool.idOf(ref);
      if (id !== undefined) return id;
    }
    return undefined;
  }

  #pool(name: string): KeyPool {
    let pool = this.#pools.get(name);
    if (!pool) {
      pool = this.#emptied.get(name);
      if (pool) {
        this.#emptied.delete(name);
        this.#removedVersions -= pool.version;
      } else {
        pool = new KeyPool(name, this.#settingsOf(name));
      }
      this.#pools.set(name, pool);
    }
    return pool;
  }

  // An emptied pool that no config names goes away; its version is kept so the total never falls back.
  #forget(pool: KeyPool): void {
    if (pool.name === DEFAULT_POOL || this.#configured.has(pool.name)) return;
    this.#removedVersions += pool.version;
    this.#pools.delete(pool.name);
    this.#emptied.set(pool.name, pool);
  }
}
