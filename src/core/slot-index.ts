import { Int32Column, PAGE_SIZE } from "./columns.ts";

// Per process, so that nobody can choose ids or keys that all land in one run of the table.
const SEED = Math.floor(Math.random() * 2 ** 32);
const MIN_CAPACITY = 16;

// V8 keeps a string's own hash in the string, for Maps; ours is computed anew on
// every lookup. Adding a key looks each of its two strings up in both indexes
// of every pool, one after the other: remembering the last two hashes spares
// six of the eight computations a load makes per key. Undefined until a first
// lookup: a string sentinel would hand its stand-in hash to that string.
let lastText: string | undefined;
let lastHash = 0;
let previousText: string | undefined;
let previousHash = 0;

function stringHash(text: string): number {
  if (text === lastText) return lastHash;
  if (text === previousText) return previousHash;
  previousText = lastText;
  previousHash = lastHash;
  lastText = text;
  lastHash = computeHash(text);
  return lastHash;
}

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser so that the low bits mix too. */
function computeHash(text: string): number {
  let hash = SEED;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) | 0;
}

/**
 * Finds a slot by a string the key table holds for it (an id, a key string).
 * A Map would do it, but at 100,000 keys each of the pool's two maps is a
 * 3.7 MB table in V8's large-object space, rebuilt twice as large whenever it
 * fills, and the outgrown tables wait there for a full GC. Here a key costs 4
 * bytes for its hash and 8 to 16 in an int32 open-addressing table (linear
 * probing, at most half full): 1 MB at 100,000 keys, outside the JS heap.
 */
export class SlotIndex {
  readonly #textOf: (slot: number) => string;
  readonly #hashes = new Int32Column();
  #hashCapacity = 0;
  /** Slot + 1 at each position; 0 is empty. */
  #table = new Int32Array(MIN_CAPACITY);
  #size = 0;

  /** `textOf` reads the string a slot is indexed by, while the slot is in the index. */
  constructor(textOf: (slot: number) => string) {
    this.#textOf = textOf;
  }

  get size(): number {
    return this.#size;
  }

  get(text: string): number | undefined {
    const at = this.#find(text, stringHash(text));
    return at < 0 ? undefined : (this.#table[at] as number) - 1;
  }

  has(text: string): boolean {
    return this.#find(text, stringHash(text)) >= 0;
  }

  /** Indexes `slot` under `text`, which must not be indexed yet. */
  add(text: string, slot: number): void {
    while (slot >= this.#hashCapacity) {
      this.#hashes.addPage();
      this.#hashCapacity += PAGE_SIZE;
    }
    const hash = stringHash(text);
    this.#hashes.set(slot, hash);
    if (2 * (this.#size + 1) > this.#table.length) this.#grow();
    this.#place(slot, hash);
    this.#size++;
  }

  delete(text: string): void {
    let hole = this.#find(text, stringHash(text));
    if (hole < 0) return;
    const table = this.#table;
    const mask = table.length - 1;
    // Backward-shift deletion: pull later entries of the run into the hole, so no tombstones.
    for (let at = (hole + 1) & mask; table[at] !== 0; at = (at + 1) & mask) {
      const home = this.#hashes.get((table[at] as number) - 1) & mask;
      const staysPut = hole <= at ? hole < home && home <= at : hole < home || home <= at;
      if (staysPut) continue;
      table[hole] = table[at] as number;
      hole = at;
    }
    table[hole] = 0;
    this.#size--;
  }

  #find(text: string, hash: number): number {
    const table = this.#table;
    const mask = table.length - 1;
    for (let at = hash & mask; ; at = (at + 1) & mask) {
      const entry = table[at] as number;
      if (entry === 0) return -1;
      const slot = entry - 1;
      if (this.#hashes.get(slot) === hash && this.#textOf(slot) === text) return at;
    }
  }

  #place(slot: number, hash: number): void {
    const table = this.#table;
    const mask = table.length - 1;
    let at = hash & mask;
    while (table[at] !== 0) at = (at + 1) & mask;
    table[at] = slot + 1;
  }

  #grow(): void {
    const old = this.#table;
    this.#table = new Int32Array(old.length * 2);
    for (const entry of old) if (entry !== 0) this.#place(entry - 1, this.#hashes.get(entry - 1));
  }
}
