// One field of every key, indexed by the key's slot. Columns grow a page at a
// time: a pool that grows never copies what it holds (doubling would copy every
// column and leave the old arrays behind for the GC), and at most one page is
// ever unused.
const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

type NumberPage = Float64Array | Int32Array | Uint8Array;

/** Numbers in typed arrays: 8, 4 or 1 byte a key instead of a field in an object and a boxed double. */
export class NumberColumn {
  readonly #pages: NumberPage[] = [];
  readonly #newPage: (size: number) => NumberPage;

  constructor(newPage: (size: number) => NumberPage) {
    this.#newPage = newPage;
  }

  get(slot: number): number {
    return (this.#pages[slot >>> PAGE_BITS] as NumberPage)[slot & PAGE_MASK] as number;
  }

  set(slot: number, value: number): void {
    (this.#pages[slot >>> PAGE_BITS] as NumberPage)[slot & PAGE_MASK] = value;
  }

  addPage(): void {
    this.#pages.push(this.#newPage(PAGE_SIZE));
  }
}

/** References (strings, shared objects): one pointer a key. */
export class ValueColumn<T> {
  readonly #pages: (T | undefined)[][] = [];

  get(slot: number): T {
    return (this.#pages[slot >>> PAGE_BITS] as T[])[slot & PAGE_MASK] as T;
  }

  set(slot: number, value: T | undefined): void {
    (this.#pages[slot >>> PAGE_BITS] as (T | undefined)[])[slot & PAGE_MASK] = value;
  }

  addPage(): void {
    this.#pages.push(new Array<T | undefined>(PAGE_SIZE).fill(undefined));
  }
}

export const float64Column = (): NumberColumn => new NumberColumn((n) => new Float64Array(n));
export const int32Column = (): NumberColumn => new NumberColumn((n) => new Int32Array(n));
export const uint8Column = (): NumberColumn => new NumberColumn((n) => new Uint8Array(n));
