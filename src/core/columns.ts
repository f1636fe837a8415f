// Fields of every key, indexed by the key's slot. Storage grows a page at a
// time: a pool that grows never copies what it holds (doubling would copy it
// all and leave the old arrays behind for the GC), and at most one page is
// ever unused.
const PAGE_BITS = 12;
export const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

/** A number of every slot. */
export interface NumberColumn {
  get(slot: number): number;
  set(slot: number, value: number): void;
}

/** One int32 a slot, in pages of its own. */
export class Int32Column implements NumberColumn {
  readonly #pages: Int32Array[] = [];

  get(slot: number): number {
    return (this.#pages[slot >>> PAGE_BITS] as Int32Array)[slot & PAGE_MASK] as number;
  }

  set(slot: number, value: number): void {
    (this.#pages[slot >>> PAGE_BITS] as Int32Array)[slot & PAGE_MASK] = value;
  }

  addPage(): void {
    this.#pages.push(new Int32Array(PAGE_SIZE));
  }
}

// A key's numbers side by side: at random, a dispense reaches the twelve it
// reads in one or two cache lines, where a typed array per field cost a line
// each. 128 bytes hold the key table's 126.
const RECORD_SHIFT = 7;
const RECORD_BYTES = 1 << RECORD_SHIFT;
// A record's length in elements of each size, as shifts.
const FLOAT64_SHIFT = RECORD_SHIFT - 3;
const INT32_SHIFT = RECORD_SHIFT - 2;

/**
 * Every slot's numbers, one record a slot. Fields are laid out in the order
 * they are asked for, each at its own size's alignment: ask for the ones a
 * dispense reads first, so that they share cache lines.
 */
export class NumberRecords {
  readonly #float64: Float64Array[] = [];
  readonly #int32: Int32Array[] = [];
  readonly #uint8: Uint8Array[] = [];
  #bytesLaidOut = 0;

  float64(): NumberColumn {
    return new Float64Field(this.#float64, this.#layOut(8) / 8);
  }

  int32(): NumberColumn {
    return new Int32Field(this.#int32, this.#layOut(4) / 4);
  }

  uint8(): NumberColumn {
    return new Uint8Field(this.#uint8, this.#layOut(1));
  }

  addPage(): void {
    const page = new ArrayBuffer(PAGE_SIZE * RECORD_BYTES);
    this.#float64.push(new Float64Array(page));
    this.#int32.push(new Int32Array(page));
    this.#uint8.push(new Uint8Array(page));
  }

  /** Copies the record of `fromSlot` in `from` (laid out as this) over the record of `toSlot`. */
  copyRecord(from: NumberRecords, fromSlot: number, toSlot: number): void {
    // By int32, not float64: two int32 fields read as one double may look like a NaN, whose bits
    // a double copy need not keep.
    const source = from.#int32[fromSlot >>> PAGE_BITS] as Int32Array;
    const target = this.#int32[toSlot >>> PAGE_BITS] as Int32Array;
    const start = (fromSlot & PAGE_MASK) << INT32_SHIFT;
    const at = (toSlot & PAGE_MASK) << INT32_SHIFT;
    for (let i = 0; i < RECORD_BYTES >> 2; i++) target[at + i] = source[start + i] as number;
  }

  /** The new field's byte offset in every record. */
  #layOut(bytes: number): number {
    const offset = Math.ceil(this.#bytesLaidOut / bytes) * bytes;
    if (offset + bytes > RECORD_BYTES) throw new Error(`a record holds ${RECORD_BYTES} bytes`);
    this.#bytesLaidOut = offset + bytes;
    return offset;
  }
}

// One class per element size, each shift a constant: a class shared by the
// three kinds of typed array made a warm dispense 20-30 ns slower (15%).
// `offset` is in elements of the field's size.

class Float64Field implements NumberColumn {
  readonly #pages: Float64Array[];
  readonly #offset: number;

  constructor(pages: Float64Array[], offset: number) {
    this.#pages = pages;
    this.#offset = offset;
  }

  get(slot: number): number {
    const page = this.#pages[slot >>> PAGE_BITS] as Float64Array;
    return page[((slot & PAGE_MASK) << FLOAT64_SHIFT) + this.#offset] as number;
  }

  set(slot: number, value: number): void {
    const page = this.#pages[slot >>> PAGE_BITS] as Float64Array;
    page[((slot & PAGE_MASK) << FLOAT64_SHIFT) + this.#offset] = value;
  }
}

class Int32Field implements NumberColumn {
  readonly #pages: Int32Array[];
  readonly #offset: number;

  constructor(pages: Int32Array[], offset: number) {
    this.#pages = pages;
    this.#offset = offset;
  }

  get(slot: number): number {
    const page = this.#pages[slot >>> PAGE_BITS] as Int32Array;
    return page[((slot & PAGE_MASK) << INT32_SHIFT) + this.#offset] as number;
  }

  set(slot: number, value: number): void {
    const page = this.#pages[slot >>> PAGE_BITS] as Int32Array;
    page[((slot & PAGE_MASK) << INT32_SHIFT) + this.#offset] = value;
  }
}

class Uint8Field implements NumberColumn {
  readonly #pages: Uint8Array[];
  readonly #offset: number;

  constructor(pages: Uint8Array[], offset: number) {
    this.#pages = pages;
    this.#offset = offset;
  }

  get(slot: number): number {
    const page = this.#pages[slot >>> PAGE_BITS] as Uint8Array;
    return page[((slot & PAGE_MASK) << RECORD_SHIFT) + this.#offset] as number;
  }

  set(slot: number, value: number): void {
    const page = this.#pages[slot >>> PAGE_BITS] as Uint8Array;
    page[((slot & PAGE_MASK) << RECORD_SHIFT) + this.#offset] = value;
  }
}

// Pointers side by side as well: a dispense reads a key's id, key string and limits.
const VALUE_SHIFT = 2;
const VALUES_PER_RECORD = 1 << VALUE_SHIFT;

/** Every slot's references (strings, shared objects), one record of four a slot. */
export class ValueRecords {
  readonly #pages: unknown[][] = [];
  #fields = 0;

  field<T>(): ValueColumn<T> {
    if (this.#fields === VALUES_PER_RECORD)
      throw new Error(`a record holds ${VALUES_PER_RECORD} values`);
    return new ValueColumn<T>(this.#pages, this.#fields++);
  }

  addPage(): void {
    this.#pages.push(new Array<unknown>(PAGE_SIZE * VALUES_PER_RECORD).fill(undefined));
  }

  /** Copies the references of `fromSlot` in `from` over those of `toSlot`. */
  copyRecord(from: ValueRecords, fromSlot: number, toSlot: number): void {
    const source = from.#pages[fromSlot >>> PAGE_BITS] as unknown[];
    const target = this.#pages[toSlot >>> PAGE_BITS] as unknown[];
    const start = (fromSlot & PAGE_MASK) << VALUE_SHIFT;
    const at = (toSlot & PAGE_MASK) << VALUE_SHIFT;
    for (let i = 0; i < VALUES_PER_RECORD; i++) target[at + i] = source[start + i];
  }
}

export class ValueColumn<T> {
  readonly #pages: unknown[][];
  readonly #offset: number;

  constructor(pages: unknown[][], offset: number) {
    this.#pages = pages;
    this.#offset = offset;
  }

  get(slot: number): T {
    const page = this.#pages[slot >>> PAGE_BITS] as unknown[];
    return page[((slot & PAGE_MASK) << VALUE_SHIFT) + this.#offset] as T;
  }

  set(slot: number, value: T | undefined): void {
    const page = this.#pages[slot >>> PAGE_BITS] as unknown[];
    page[((slot & PAGE_MASK) << VALUE_SHIFT) + this.#offset] = value;
  }
}
