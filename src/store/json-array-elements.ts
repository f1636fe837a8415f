/**
 * Splits a JSON array, fed as UTF-8 chunks, into its elements' texts without
 * parsing the whole document at once. JSON.parse over a 100,000-key keys.json
 * built every entry before the first could be used; that heap of short-lived
 * objects, and the file held whole in memory, grew the process by more than
 * the keys themselves.
 *
 * The split only finds where each element ends (brackets and strings at depth
 * 0); every element text is then checked by JSON.parse. The document is
 * `[` + elements joined by `,` + `]`, so when every element parses, the whole
 * document is valid JSON, and when it is not, one of them fails.
 */

/** Takes an element's text and its byte offset in the document (for error positions). */
export type OnElement = (text: string, offset: number) => void;

/** Where and why the document is not a JSON array; `position` is a byte offset. */
export class JsonArrayError extends Error {
  override name = "JsonArrayError";
  readonly position: number;

  constructor(message: string, position: number) {
    super(message);
    this.position = position;
  }
}

/** The document is something else than an array, or nothing at all. */
export class NotAnArrayError extends Error {
  override name = "NotAnArrayError";
  /** What the document holds instead, judged from its first character: "an object", …, "nothing". */
  readonly found: string;

  constructor(found: string) {
    super(`expected a JSON array, found ${found}`);
    this.found = found;
  }
}

const FOUND: Record<string, string> = {
  "{": "an object",
  '"': "a string",
  t: "a boolean",
  f: "a boolean",
  n: "null",
};

function whatStartsWith(byte: number): string {
  const char = String.fromCharCode(byte);
  return FOUND[char] ?? (/[-0-9]/.test(char) ? "a number" : "text that is not JSON");
}

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
// Shared with entry-encoder.ts, which writes what this reads.
export const QUOTE = 0x22;
export const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

type Phase = "before-array" | "first-element" | "in-element" | "after-array";

function indexOrEnd(chunk: Buffer, byte: number, from: number): number {
  const at = chunk.indexOf(byte, from);
  return at < 0 ? chunk.length : at;
}

const isSpace = (byte: number | undefined) =>
  byte === SPACE || byte === TAB || byte === LF || byte === CR;

export class JsonArraySplitter {
  #phase: Phase = "before-array";
  #depth = 0;
  #inString = false;
  #escaped = false;
  /** The current element's bytes from earlier chunks (copies: a chunk's buffer may be reused). */
  #pending: Buffer[] = [];
  #elementOffset = 0;
  /** Bytes of the document before the current chunk. */
  #consumed = 0;

  /**
   * Hands `onElement` each element `chunk` completes, in order, as soon as it
   * ends. Collecting a chunk's elements first (about 850 of them) kept them
   * all alive whenever a scavenge came mid-chunk, so V8 sometimes decided that
   * the site making them made long-lived objects: then every later element
   * went straight to the old space, and at 100,000 keys about 9 MB of garbage
   * stayed there after start-up (3 start-ups in 40 on a busy machine;
   * bench/README.md). After a throw, from `onElement` or a bad byte, the
   * splitter is spent.
   */
  push(chunk: Buffer, onElement: OnElement): void {
    let start = 0;
    // Where the chunk's next backslash is, found once per stretch: searching
    // afresh for every string would scan to the chunk's end each time.
    let nextBackslash = -1;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i] as number;
      switch (this.#phase) {
        case "before-array":
          if (isSpace(byte)) continue;
          if (byte !== OPEN_ARRAY) throw new NotAnArrayError(whatStartsWith(byte));
          this.#phase = "first-element";
          continue;
        case "first-element":
          if (isSpace(byte)) continue;
          if (byte === CLOSE_ARRAY) {
            this.#phase = "after-array";
            continue;
          }
          this.#phase = "in-element";
          this.#elementOffset = this.#consumed + i;
          start = i;
          break;
        case "after-array":
          if (isSpace(byte)) continue;
          throw new JsonArrayError("unexpected text after the array", this.#consumed + i);
      }
      if (this.#inString && !this.#escaped && byte !== QUOTE && byte !== BACKSLASH) {
        // Most of a keys.json is inside strings: jump to the next quote or backslash.
        if (nextBackslash < i) nextBackslash = indexOrEnd(chunk, BACKSLASH, i);
        i = Math.min(indexOrEnd(chunk, QUOTE, i), nextBackslash) - 1;
        continue;
      }
      if (!this.#endsElement(byte, this.#consumed + i)) continue;
      onElement(this.#elementText(chunk, start, i), this.#elementOffset);
      if (byte === CLOSE_ARRAY) {
        this.#phase = "after-array";
      } else {
        start = i + 1;
        this.#elementOffset = this.#consumed + start;
      }
    }
    if (this.#phase === "in-element" && start < chunk.length) {
      this.#pending.push(Buffer.from(chunk.subarray(start)));
    }
    this.#consumed += chunk.length;
  }

  /** The document ended: throws unless it closed its array. */
  end(): void {
    if (this.#phase === "before-array") throw new NotAnArrayError("nothing");
    if (this.#phase !== "after-array") {
      throw new JsonArrayError("the array does not end (truncated)", this.#consumed);
    }
  }

  /** Whether `byte`, inside an element, is the `,` or `]` that ends it. */
  #endsElement(byte: number, position: number): boolean {
    if (this.#inString) {
      if (this.#escaped) this.#escaped = false;
      else if (byte === BACKSLASH) this.#escaped = true;
      else if (byte === QUOTE) this.#inString = false;
      return false;
    }
    if (byte === QUOTE) this.#inString = true;
    else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) this.#depth++;
    else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      if (this.#depth > 0) this.#depth--;
      else if (byte === CLOSE_ARRAY) return true;
      else throw new JsonArrayError("a } closes nothing", position);
    } else if (byte === COMMA) return this.#depth === 0;
    return false;
  }

  #elementText(chunk: Buffer, start: number, end: number): string {
    if (this.#pending.length === 0) return chunk.toString("utf8", start, end);
    const text = Buffer.concat([...this.#pending, chunk.subarray(start, end)]).toString("utf8");
    this.#pending = [];
    return text;
  }
}
