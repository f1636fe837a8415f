import { type HeapPositions, IndexedHeap } from "./indexed-heap.ts";

/** The queue's links, kept outside it (two columns of the key table); -1 is none. */
export interface QueueLinks {
  readonly next: HeapPositions;
  readonly previous: HeapPositions;
}

/**
 * Items in `before` order, for a pool's eligible keys in least-recently-used
 * order. A dispensed key is always the most recently used, so it goes to the
 * tail of a linked list in O(1); only an item that comes in out of order (a
 * key back from waiting, added, or loaded out of order) goes into a heap. The
 * front is the earlier of the list's head and the heap's top. With one binary
 * heap, a dispense at 100,000 keys sifted the dispensed key down 17 levels,
 * reading two keys' fields at each, most of them out of the CPU's caches.
 */
export class LruQueue {
  readonly #heap: IndexedHeap;
  readonly #before: (a: number, b: number) => boolean;
  readonly #positions: HeapPositions;
  readonly #links: QueueLinks;
  #head = -1;
  #tail = -1;
  #listed = 0;

  /** `positions` is -1 for an item not in the heap, as IndexedHeap leaves it. */
  constructor(
    before: (a: number, b: number) => boolean,
    positions: HeapPositions,
    links: QueueLinks,
  ) {
    this.#heap = new IndexedHeap(before, positions);
    this.#before = before;
    this.#positions = positions;
    this.#links = links;
  }

  get size(): number {
    return this.#heap.size + this.#listed;
  }

  peek(): number | undefined {
    const top = this.#heap.peek();
    if (this.#head === -1) return top;
    return top !== undefined && this.#before(top, this.#head) ? top : this.#head;
  }

  push(item: number): void {
    if (this.#tail === -1 || !this.#before(item, this.#tail)) this.#append(item);
    else this.#heap.push(item);
  }

  remove(item: number): void {
    if (this.#positions.get(item) >= 0) this.#heap.remove(item);
    else this.#unlink(item);
  }

  /** Call after the item's ordering fields changed. */
  update(item: number): void {
    this.remove(item);
    this.push(item);
  }

  #append(item: number): void {
    const { next, previous } = this.#links;
    this.#positions.set(item, -1);
    previous.set(item, this.#tail);
    next.set(item, -1);
    if (this.#tail === -1) this.#head = item;
    else next.set(this.#tail, item);
    this.#tail = item;
    this.#listed++;
  }

  #unlink(item: number): void {
    const { next, previous } = this.#links;
    const before = previous.get(item);
    const after = next.get(item);
    if (before === -1) this.#head = after;
    else next.set(before, after);
    if (after === -1) this.#tail = before;
    else previous.set(after, before);
    this.#listed--;
  }
}
