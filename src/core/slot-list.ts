const INITIAL_CAPACITY = 16;

/**
 * A growable list of slots in an Int32Array, for the heaps and the random-pick
 * list. A JS array of 100,000 numbers is an 800 kB object in V8's large-object
 * space, and the copies it outgrows wait there for a full GC; with the lookup
 * maps' outgrown tables that was 9.4 MB of garbage once loaded in about one
 * launch in five. An Int32Array holds a slot in 4 bytes, outside the JS heap;
 * the arrays it outgrows wait for a GC too, but are half the size. (Pages of
 * 4,096 slots leave nothing to collect, but made the core's acquire 30% slower
 * at 10 keys: 250 against 190 ns.)
 */
export class SlotList {
  #slots = new Int32Array(INITIAL_CAPACITY);
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The slot at `index`, which must be below `length`. */
  get(index: number): number {
    return this.#slots[index] as number;
  }

  set(index: number, slot: number): void {
    this.#slots[index] = slot;
  }

  push(slot: number): void {
    if (this.#length === this.#slots.length) {
      const grown = new Int32Array(2 * this.#slots.length);
      grown.set(this.#slots);
      this.#slots = grown;
    }
    this.#slots[this.#length++] = slot;
  }

  /** Removes and returns the last slot; undefined when empty. */
  pop(): number | undefined {
    return this.#length === 0 ? undefined : this.#slots[--this.#length];
  }
}
