import { type FileHandle, open, readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import writeFileAtomic from "write-file-atomic";
import { DuplicateKeyError } from "../core/key-pool.ts";
import type { KeyData } from "../core/key-record.ts";
import type { KeyCipher } from "./key-cipher.ts";
import {
  duplicateMessage,
  encodeEntry,
  KeysFileDecoder,
  KeysFileError,
} from "./keys-file-codec.ts";

// Encoding yields to the event loop between chunks so a save of 100,000 keys
// never holds up /next for long: a chunk this size takes about a millisecond.
const ENCODE_CHUNK = 500;
// Read a chunk at a time: holding a 100,000-key file whole cost 30 MB more at start.
const READ_CHUNK = 256 * 1024;
const SEPARATOR = ",\n  ";

/**
 * keys.json on disk: read once at start, then replaced atomically on every
 * save. With a cipher, key strings are kept encrypted in the file.
 */
export class KeysFile {
  readonly path: string;
  readonly #cipher: KeyCipher | null;
  // The last save's (or the loaded file's) size: the next save is about as big,
  // so its buffer rarely has to grow.
  #lastSize = 0;
  #spare: ByteBuffer | null = null;

  constructor(path: string, cipher: KeyCipher | null) {
    this.path = path;
    this.#cipher = cipher;
  }

  /**
   * Reads the file a chunk at a time and hands each key to `onKey` as it is
   * decoded. A missing file is created empty; an unreadable or invalid one is
   * refused untouched (the promise rejects at the first bad entry, after
   * `onKey` may have seen the ones before it). `onKey` refuses a key that
   * repeats an earlier one by throwing DuplicateKeyError; the refusal names the entry.
   */
  async load(now: number, newId: () => string, onKey: (key: KeyData) => void): Promise<void> {
    await this.#removeStaleTempFiles();
    let file: FileHandle;
    try {
      file = await open(this.path, "r");
    } catch (error) {
      if (errorCode(error) !== "ENOENT") throw cannotRead(this.path, error);
      await writeFileAtomic(this.path, "[]\n", { mode: 0o600 });
      return;
    }
    const decoder = new KeysFileDecoder(this.path, now, newId, this.#cipher);
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    let size = 0;
    let index = 0;
    try {
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, READ_CHUNK).catch((error: unknown) => {
          throw cannotRead(this.path, error);
        });
        if (bytesRead === 0) break;
        size += bytesRead;
        for (const key of decoder.push(chunk.subarray(0, bytesRead))) {
          handOver(onKey, key, this.path, index++);
        }
      }
      decoder.end();
    } finally {
      await file.close();
    }
    this.#lastSize = size;
  }

  /**
   * Writes `keys` in one atomic replace: a crash leaves either the old file or
   * the new one. `keys` is read a chunk at a time, between turns of the event loop.
   */
  async save(keys: Iterable<KeyData>): Promise<void> {
    // The last save's buffer, if no other save holds it: a new one each time
    // left a 30 MB buffer per save of 100,000 keys waiting for a full GC.
    const out = this.#spare ?? new ByteBuffer(this.#lastSize);
    this.#spare = null;
    try {
      await this.#write(keys, out);
    } finally {
      out.clear();
      this.#spare = out;
    }
  }

  // Each chunk goes into the buffer as UTF-8 at once. Joining the whole text
  // and handing write-file-atomic a string cost two long turns on 100,000
  // keys (the join, then the string's conversion inside fs.write).
  async #write(keys: Iterable<KeyData>, out: ByteBuffer): Promise<void> {
    let lines: string[] = [];
    let written = 0;
    const flush = () => {
      // Appended apart: one string made of the two would be copied flat first.
      out.append(written === 0 ? "[\n  " : SEPARATOR);
      out.append(lines.join(SEPARATOR));
      written += lines.length;
      lines = [];
    };
    for (const key of keys) {
      lines.push(JSON.stringify(encodeEntry(key, this.#cipher)));
      if (lines.length === ENCODE_CHUNK) {
        flush();
        await nextTurn();
      }
    }
    if (lines.length > 0) flush();
    out.append(written === 0 ? "[]\n" : "\n]\n");
    this.#lastSize = out.length;
    await writeFileAtomic(this.path, out.bytes());
  }

  // write-file-atomic writes `<file>.<uint32>` and renames it over the file; a
  // crash between the two leaves the temp file behind. The file itself is whole
  // either way, so leftovers are only litter (and may hold keys): remove them.
  async #removeStaleTempFiles(): Promise<void> {
    const dir = dirname(this.path);
    const pattern = new RegExp(`^${escapeRegExp(basename(this.path))}\\.\\d{1,10}$`);
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => pattern.test(name))
        .map((name) => rm(join(dir, name), { force: true })),
    );
  }
}

/** Bytes appended as UTF-8 into one buffer that grows by doubling. */
class ByteBuffer {
  #buffer: Buffer;
  #length = 0;

  constructor(expected: number) {
    // An eighth more than expected leaves room for keys added since.
    this.#buffer = Buffer.allocUnsafe(Math.max(64 * 1024, Math.ceil(expected * 1.125)));
  }

  get length(): number {
    return this.#length;
  }

  /** Empties it for reuse, keeping its memory. */
  clear(): void {
    this.#length = 0;
  }

  append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; count exactly only when that bound does not fit.
    let needed = this.#length + text.length * 3;
    if (needed > this.#buffer.length) needed = this.#length + Buffer.byteLength(text);
    if (needed > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    this.#length += this.#buffer.write(text, this.#length);
  }

  /** The bytes written so far (a view, not a copy). */
  bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function handOver(onKey: (key: KeyData) => void, key: KeyData, path: string, index: number): void {
  try {
    onKey(key);
  } catch (error) {
    if (!(error instanceof DuplicateKeyError)) throw error;
    throw new KeysFileError(`${path}: entry ${index}: ${duplicateMessage(error.field, key.id)}`);
  }
}

function cannotRead(path: string, error: unknown): KeysFileError {
  return new KeysFileError(`${path}: cannot read the file (${errorCode(error)})`);
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}
