import type { KeyData } from "./key-record.ts";
import type { KeyTable } from "./key-table.ts";

// A slot's state in the snapshot: one of these, or COPIED plus the slot of its copy.
/** Read already, or not in the snapshot (added since opening): never copied. What a new array holds. */
const DONE = 0;
/** Yet to be read, unchanged since opening: read from the pool's table. */
const UNREAD = 1;
const COPIED = 2;

/**
 * One pool's keys as they were at one moment, kept by copy-on-write: opening
 * it takes the list of slots, and a key is copied only when it is about to
 * change (or be deleted) while the snapshot still has to read it. A save reads
 * it a chunk at a time across many turns and still writes one consistent
 * picture; copying all 100,000 keys up front held the event loop for 10-30 ms
 * and left that much garbage for a full GC. Keys already read, and keys added
 * since opening, are not copied, and a copy is dropped once read.
 *
 * Copies are records in a key table, not objects: under load at 100,000 keys
 * a save copies 15,000-34,000 keys, and as objects they outlived several
 * scavenges each, so young-generation GC copied and promoted them and a save
 * ended in full GCs (bench/README.md). The table is the pool's, handed to each
 * snapshot in turn, and every copy goes back to it once read or at close: a
 * fresh table a save still left its pages (about 0.8 MB of the JS heap a
 * save, plus their ArrayBuffers) to be promoted and wait for a full GC.
 */
export class PoolSnapshot {
  readonly #table: KeyTable;
  readonly #pool: string;
  #slots: Int32Array;
  /** Per slot: DONE, UNREAD, or COPIED plus the slot of its copy in #copies. */
  #state: Int32Array;
  readonly #copies: KeyTable;
  #copied = 0;
  /** Copies made and not yet read: given back at close. */
  #held = 0;
  #closed = false;

  /** `copies` may be shared: a snapshot gives back only the copies it made. */
  constructor(table: KeyTable, pool: string, copies: KeyTable) {
    this.#table = table;
    this.#pool = pool;
    this.#copies = copies;
    this.#slots = table.slotsInOrder();
    this.#state = new Int32Array(table.slotLimit);
    // An index loop: this runs once a save, too seldom to be optimised, and a
    // for-of over the typed array held the start of a save of 100,000 keys for
    // 0.8-1.3 ms where this takes 0.1-0.2 ms.
    const slots = this.#slots;
    const state = this.#state;
    for (let i = 0; i < slots.length; i++) state[slots[i] as number] = UNREAD;
  }

  get size(): number {
    return this.#slots.length;
  }

  /** How many keys it has had to copy so far. */
  get copied(): number {
    return this.#copied;
  }

  /** Called before the key in `slot` changes or goes: keeps its present state if the snapshot needs it. */
  preserve(slot: number): void {
    // Bounds first: a typed array read past its end is V8's slow path, and a dispense calls this
    // with every slot whether or not a save is running (it cost /next a third of its throughput).
    if (slot >= this.#state.length || this.#state[slot] !== UNREAD) return;
    this.#state[slot] = COPIED + this.#copies.copyFrom(this.#table, slot);
    this.#copied++;
    this.#held++;
  }

  /** Reads each key once, in order. */
  *keys(): Generator<KeyData> {
    // Checked before the loop as well: a closed snapshot's slot list is empty, and must not
    // read as a pool without keys (a save would write an empty file).
    this.#checkOpen();
    for (const slot of this.#slots) {
      this.#checkOpen();
      yield this.#take(slot);
    }
  }

  // The pool keeps its last snapshot until it opens the next (at 100,000 keys the states are
  // 400 KB; the slot list is the table's), so closing lets go of what only reading needed.
  close(): void {
    this.#closed = true;
    if (this.#held > 0) this.#releaseUnread();
    this.#slots = new Int32Array(0);
    this.#state = new Int32Array(0);
  }

  #take(slot: number): KeyData {
    const state = this.#state[slot] as number;
    this.#state[slot] = DONE;
    if (state === UNREAD) return this.#table.read(slot, this.#pool);
    const copy = state - COPIED;
    const key = this.#copies.read(copy, this.#pool);
    this.#copies.release(copy);
    this.#held--;
    return key;
  }

  // A save that stopped early (it failed) leaves copies it did not read.
  #releaseUnread(): void {
    const state = this.#state;
    for (let slot = 0; slot < state.length; slot++) {
      const copy = (state[slot] as number) - COPIED;
      if (copy >= 0) this.#copies.release(copy);
    }
    this.#held = 0;
  }

  #checkOpen(): void {
    if (this.#closed) throw new Error("the snapshot is closed");
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
