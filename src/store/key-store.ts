import type { AcquireResult, AddResult, PoolStats, SelectionMode } from "../core/key-pool.ts";
import type { KeyView, NewKey } from "../core/key-record.ts";
import type { PoolSettings } from "../core/limits.ts";
import type { Outcome } from "../core/outcome-rules.ts";
import type { Secret } from "../core/secret.ts";

export type {
  AcquireResult,
  AddResult,
  KeyView,
  NewKey,
  Outcome,
  PoolSettings,
  PoolStats,
  SelectionMode,
};

/**
 * Where keys live. Every method is one atomic step against the store, so a
 * shared store (Redis) can implement `acquire` as one script per call.
 * Mutations resolve only once the change is durable and reject with
 * `PersistError` (and leave nothing changed) when it could not be made so.
 * `ref` is a key's id, or the key string itself.
 */
export interface KeyStore {
  acquire(mode: SelectionMode, pool: string): Promise<AcquireResult>;
  add(secret: string, options?: NewKey): Promise<AddResult>;
  /** Adds what it can; one result per input, in order. */
  addBulk(secrets: readonly string[], options?: NewKey): Promise<AddResult[]>;
  /** The key itself, for the one route that must use it (a key test). */
  find(ref: string): Promise<{ id: string; pool: string; secret: Secret } | undefined>;
  remove(ref: string): Promise<KeyView | undefined>;
  deactivate(ref: string): Promise<KeyView | undefined>;
  reactivate(ref: string): Promise<KeyView | undefined>;
  /** Records what a caller saw when it used the key. */
  report(ref: string, outcome: Outcome, retryAfterMs: number | null): Promise<KeyView | undefined>;
  list(pool?: string): Promise<KeyView[]>;
  stats(): Promise<Map<string, PoolStats>>;
  /** Whether a pool exists: configured, or holding keys. */
  hasPool(pool: string): boolean;
  settings(pool: string): PoolSettings;
  /** The next moment time alone could change what `acquire` answers for the pool; null if none. */
  nextChangeAt(pool: string): number | null;
  /** Calls `listener` with a pool's name after anything changed in it; returns an unsubscribe. */
  onChange(listener: (pool: string) => void): () => void;
  /** Writes whatever changed since the last save (dispense counters, cooldown ends). */
  flush(): Promise<void>;
}

/** A change could not be made durable; it was rolled back. */
export class PersistError extends Error {
  override name = "PersistError";
}
