import type { KeyData } from "./key-record.ts";

/**
 * One pool's keys as they were at one moment, kept by copy-on-write: opening
 * it takes the list of slots, and a key is copied only when it is about to
 * change (or be deleted) while the snapshot is open. A save reads it a chunk at
 * a time across many turns and still writes one consistent picture; copying
 * all 100,000 keys up front held the event loop for 10-30 ms and left that
 * much garbage for a full GC.
 */
export class PoolSnapshot {
  readonly #slots: Int32Array;
  readonly #read: (slot: number) => KeyData;
  #before: Map<number, KeyData> | null = new Map();

  constructor(slots: Int32Array, read: (slot: number) => KeyData) {
    this.#slots = slots;
    this.#read = read;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Called before the key in `slot` changes or goes: keeps its present state if the snapshot needs it. */
  preserve(slot: number): void {
    if (this.#before === null || this.#before.has(slot)) return;
    this.#before.set(slot, this.#read(slot));
  }

  *keys(): Generator<KeyData> {
    for (const slot of this.#slots) {
      if (this.#before === null) throw new Error("the snapshot is closed");
      yield this.#before.get(slot) ?? this.#read(slot);
    }
  }

  close(): void {
    this.#before = null;
  }
}

/** Every pool's snapshot, read one pool after the other. */
export class RecordSnapshot {
  readonly #pools: readonly PoolSnapshot[];

  constructor(pools: readonly PoolSnapshot[]) {
    this.#pools = pools;
  }

  get size(): number {
    return this.#pools.reduce((sum, pool) => sum + pool.size, 0);
  }

  /** The keys as they were when the snapshot was opened, in order. */
  *keys(): Generator<KeyData> {
    for (const pool of this.#pools) yield* pool.keys();
  }

  /** Stops keeping copies; the snapshot can no longer be read. */
  close(): void {
    for (const pool of this.#pools) pool.close();
  }
}
