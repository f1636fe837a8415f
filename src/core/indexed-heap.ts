import { SlotList } from "./slot-list.ts";

/** Where each item sits in the heap, kept outside it (a column of the key table). */
export interface HeapPositions {
  get(item: number): number;
  set(item: number, position: number): void;
}

/**
 * A binary min-heap of item numbers that records each item's position, so
 * removing or re-ordering an arbitrary item is O(log n) instead of a scan.
 * Heaps may share one `positions` when no item is in two of them at once.
 */
export class IndexedHeap {
  readonly #items = new SlotList();
  readonly #before: (a: number, b: number) => boolean;
  readonly #positions: HeapPositions;

  constructor(before: (a: number, b: number) => boolean, positions: HeapPositions) {
    this.#before = before;
    this.#positions = positions;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): number | undefined {
    return this.#items.length === 0 ? undefined : this.#items.get(0);
  }

  push(item: number): void {
    this.#items.push(item);
    this.#up(this.#items.length - 1);
  }

  pop(): number | undefined {
    const top = this.peek();
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: number): void {
    const positions = this.#positions;
    const at = positions.get(item);
    const last = this.#items.pop() as number;
    positions.set(item, -1);
    if (last === item) return;
    this.#items.set(at, last);
    positions.set(last, at);
    this.#down(at);
    this.#up(positions.get(last));
  }

  #up(at: number): void {
    const items = this.#items;
    const item = items.get(at);
    while (at > 0) {
      const parentAt = (at - 1) >> 1;
      const parent = items.get(parentAt);
      if (!this.#before(item, parent)) break;
      items.set(at, parent);
      this.#positions.set(parent, at);
      at = parentAt;
    }
    items.set(at, item);
    this.#positions.set(item, at);
  }

  #down(at: number): void {
    const items = this.#items;
    const item = items.get(at);
    const n = items.length;
    for (;;) {
      let child = 2 * at + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(items.get(right), items.get(child))) child = right;
      const childItem = items.get(child);
      if (!this.#before(childItem, item)) break;
      items.set(at, childItem);
      this.#positions.set(childItem, at);
      at = child;
    }
    items.set(at, item);
    this.#positions.set(item, at);
  }
}
