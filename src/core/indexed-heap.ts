/**
 * A binary min-heap whose items remember their own slot, so removing or
 * re-ordering an arbitrary item is O(log n) instead of a scan.
 */
export interface HeapSlot {
  heapSlot: number;
}

export class IndexedHeap<T extends HeapSlot> {
  readonly #items: T[] = [];
  readonly #before: (a: T, b: T) => boolean;

  constructor(before: (a: T, b: T) => boolean) {
    this.#before = before;
  }

  get size(): number {
    return this.#items.length;
  }

  peek(): T | undefined {
    return this.#items[0];
  }

  has(item: T): boolean {
    return this.#items[item.heapSlot] === item;
  }

  push(item: T): void {
    item.heapSlot = this.#items.length;
    this.#items.push(item);
    this.#up(item.heapSlot);
  }

  pop(): T | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  remove(item: T): void {
    const slot = item.heapSlot;
    const last = this.#items.pop() as T;
    item.heapSlot = -1;
    if (last === item) return;
    this.#items[slot] = last;
    last.heapSlot = slot;
    this.#down(slot);
    this.#up(last.heapSlot);
  }

  /** Call after the item's ordering fields changed. */
  update(item: T): void {
    this.#down(item.heapSlot);
    this.#up(item.heapSlot);
  }

  #up(slot: number): void {
    const items = this.#items;
    const item = items[slot] as T;
    while (slot > 0) {
      const parentSlot = (slot - 1) >> 1;
      const parent = items[parentSlot] as T;
      if (!this.#before(item, parent)) break;
      items[slot] = parent;
      parent.heapSlot = slot;
      slot = parentSlot;
    }
    items[slot] = item;
    item.heapSlot = slot;
  }

  #down(slot: number): void {
    const items = this.#items;
    const item = items[slot] as T;
    const n = items.length;
    for (;;) {
      let child = 2 * slot + 1;
      if (child >= n) break;
      const right = child + 1;
      if (right < n && this.#before(items[right] as T, items[child] as T)) child = right;
      const childItem = items[child] as T;
      if (!this.#before(childItem, item)) break;
      items[slot] = childItem;
      childItem.heapSlot = slot;
      slot = child;
    }
    items[slot] = item;
    item.heapSlot = slot;
  }
}
