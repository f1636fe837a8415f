import type { KeyData } from "./key-record.ts";

/**
 * One pool's keys as they were at one moment, kept by copy-on-write: opening
 * it takes the list of slots, and a key is copied only when it is about to
 * change (or be deleted) while the snapshot still has to read it. A save reads
 * it a chunk at a time across many turns and still writes one consistent
 * picture; copying all 100,000 keys up front held the event loop for 10-30 ms
 * and left that much garbage for a full GC. Keys already read, and keys added
 * since opening, are not copied, and a copy is dropped once read: under load
 * at 100,000 keys a save copies 15,000-34,000 keys, and copies that lived
 * until the file was synced took their share of the peak (bench/README.md).
 */
export class PoolSnapshot {
  #slots: Int32Array;
  readonly #read: (slot: number) => KeyData;
  /** One bit per slot still to be read. */
  #unread: Uint32Array;
  #before: Map<number, KeyData> | null = new Map();

  constructor(slots: Int32Array, read: (slot: number) => KeyData) {
    this.#slots = slots;
    this.#read = read;
    let highest = -1;
    for (const slot of slots) highest = Math.max(highest, slot);
    this.#unread = new Uint32Array((highest >> 5) + 1);
    for (const slot of slots) this.#mark(slot, true);
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Called before the key in `slot` changes or goes: keeps its present state if the snapshot needs it. */
  preserve(slot: number): void {
    if (this.#before === null || !this.#isUnread(slot) || this.#before.has(slot)) return;
    this.#before.set(slot, this.#read(slot));
  }

  /** Reads each key once, in order. */
  *keys(): Generator<KeyData> {
    // Checked before the loop as well: a closed snapshot's slot list is empty, and must not
    // read as a pool without keys (a save would write an empty file).
    this.#copies();
    for (const slot of this.#slots) {
      const before = this.#copies();
      const key = before.get(slot) ?? this.#read(slot);
      before.delete(slot);
      this.#mark(slot, false);
      yield key;
    }
  }

  // The pool keeps its last snapshot until it opens the next (at 100,000 keys the slot list is
  // 400 KB), so closing lets go of what only reading needed.
  close(): void {
    this.#before = null;
    this.#slots = new Int32Array(0);
    this.#unread = new Uint32Array(0);
  }

  #copies(): Map<number, KeyData> {
    if (this.#before === null) throw new Error("the snapshot is closed");
    return this.#before;
  }

  #isUnread(slot: number): boolean {
    return ((this.#unread[slot >> 5] ?? 0) & (1 << (slot & 31))) !== 0;
  }

  #mark(slot: number, unread: boolean): void {
    const word = this.#unread[slot >> 5] ?? 0;
    const bit = 1 << (slot & 31);
    this.#unread[slot >> 5] = unread ? word | bit : word & ~bit;
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
