import type { AcquireResult, AddResult, PoolStats, SelectionMode } from "../core/key-pool.ts";
import type { KeyView } from "../core/key-record.ts";

export type { AcquireResult, AddResult, KeyView, PoolStats, SelectionMode };

/**
 * Where keys live. Every method is one atomic step against the store, so a
 * shared store (Redis) can implement `acquire` as one script per call.
 * Mutations resolve only once the change is durable and reject with
 * `PersistError` (and leave nothing changed) when it could not be made so.
 * `ref` is a key's id, or the key string itself.
 */
export interface KeyStore {
  acquire(mode: SelectionMode): Promise<AcquireResult>;
  add(secret: string): Promise<AddResult>;
  /** Adds what it can; one result per input, in order. */
  addBulk(secrets: readonly string[]): Promise<AddResult[]>;
  remove(ref: string): Promise<KeyView | undefined>;
  deactivate(ref: string): Promise<KeyView | undefined>;
  reactivate(ref: string): Promise<KeyView | undefined>;
  list(): Promise<KeyView[]>;
  stats(): Promise<PoolStats>;
  /** Writes whatever changed since the last save (dispense counters, cooldown ends). */
  flush(): Promise<void>;
}

/** A change could not be made durable; it was rolled back. */
export class PersistError extends Error {
  override name = "PersistError";
}
