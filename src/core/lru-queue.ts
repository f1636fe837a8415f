import { type HeapPositions, IndexedHeap } from "./indexed-heap.ts";
import { SlotChain, type SlotLinks } from "./slot-chain.ts";

/** The list's links, kept outside the queue (two columns of the key table). */
export interface QueueLinks {
  readonly next: SlotLinks;
  readonly previous: SlotLinks;
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
  readonly #list: SlotChain;

  /** `positions` must be -1 for an item in neither part, as IndexedHeap leaves it and a new key has it. */
  constructor(
    before: (a: number, b: number) => boolean,
    positions: HeapPositions,
    links: QueueLinks,
  ) {
    this.#heap = new IndexedHeap(before, positions);
    this.#before = before;
    this.#positions = positions;
    this.#list = new SlotChain(links.next, links.previous);
  }

  get size(): number {
    return this.#heap.size + this.#list.count;
  }

  peek(): number | undefined {
    const top = this.#heap.peek();
    const head = this.#list.first;
    if (head === -1) return top;
    return top !== undefined && this.#before(top, head) ? top : head;
  }

  push(item: number): void {
    const tail = this.#list.last;
    if (tail !== -1 && this.#before(item, tail)) this.#heap.push(item);
    else this.#list.append(item);
  }

  remove(item: number): void {
    if (this.#positions.get(item) >= 0) this.#heap.remove(item);
    else this.#list.unlink(item);
  }

  /** Call after the item's ordering fields changed. */
  update(item: number): void {
    this.remove(item);
    this.push(item);
  }
}
