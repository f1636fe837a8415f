/** A slot's link to a neighbour, kept outside the chain (a column of the key table); -1 is none. */
export interface SlotLinks {
  get(slot: number): number;
  set(slot: number, neighbour: number): void;
}

/**
 * A doubly linked list of slots whose links live in two columns: appending and
 * unlinking are O(1), with no object per slot. A slot's links are stale while
 * it is not in the chain.
 */
export class SlotChain {
  readonly #next: SlotLinks;
  readonly #previous: SlotLinks;
  #first = -1;
  #last = -1;
  #count = 0;

  constructor(next: SlotLinks, previous: SlotLinks) {
    this.#next = next;
    this.#previous = previous;
  }

  get count(): number {
    return this.#count;
  }

  /** The first slot, -1 when the chain is empty. */
  get first(): number {
    return this.#first;
  }

  /** The last slot, -1 when the chain is empty. */
  get last(): number {
    return this.#last;
  }

  /** The slot after `slot`, -1 when it is the last. */
  after(slot: number): number {
    return this.#next.get(slot);
  }

  append(slot: number): void {
    this.#previous.set(slot, this.#last);
    this.#next.set(slot, -1);
    if (this.#last === -1) this.#first = slot;
    else this.#next.set(this.#last, slot);
    this.#last = slot;
    this.#count++;
  }

  unlink(slot: number): void {
    const previous = this.#previous.get(slot);
    const next = this.#next.get(slot);
    if (previous === -1) this.#first = next;
    else this.#next.set(previous, next);
    if (next === -1) this.#last = previous;
    else this.#previous.set(next, previous);
    this.#count--;
  }
}
