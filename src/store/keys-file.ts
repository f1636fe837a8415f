import { type FileHandle, open, readdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { DuplicateKeyError } from "../core/key-pool.ts";
import type { KeyData } from "../core/key-record.ts";
import { EntryEncoder } from "./entry-encoder.ts";
import { replaceFile, TEMP_FILE_SUFFIX } from "./file-replacer.ts";
import type { KeyCipher } from "./key-cipher.ts";
import { KeysFileDecoder, KeysFileError, repeatedEntryError } from "./keys-file-codec.ts";

// Each chunk is written before the next is encoded, and the event loop turns
// while it is written, so a save of 100,000 keys never holds up /next for
// long: encoding a chunk this size takes well under a millisecond.
const CHUNK_BYTES = 64 * 1024;
// Read a chunk at a time: holding a 100,000-key file whole cost 30 MB more at start.
const READ_CHUNK = 256 * 1024;
const SEPARATOR = ",\n  ";
// A new keys.json is its owner's alone: it holds the keys. An existing one keeps its mode.
const FILE_MODE = 0o600;

/**
 * keys.json on disk: read once at start, then replaced atomically on every
 * save. With a cipher, key strings are kept encrypted in the file.
 */
export class KeysFile {
  readonly path: string;
  readonly #cipher: KeyCipher | null;

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
      await replaceFile(this.path, ["[]\n"], FILE_MODE);
      return;
    }
    const decoder = new KeysFileDecoder(this.path, now, newId, this.#cipher);
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    let index = 0;
    try {
      for (;;) {
        const { bytesRead } = await file.read(chunk, 0, READ_CHUNK).catch((error: unknown) => {
          throw cannotRead(this.path, error);
        });
        if (bytesRead === 0) break;
        decoder.push(chunk.subarray(0, bytesRead), (key) =>
          handOver(onKey, key, this.path, index++),
        );
      }
      decoder.end();
    } finally {
      await file.close();
    }
  }

  /**
   * Writes `keys` in one atomic replace: a crash leaves either the old file or
   * the new one. `keys` is read a chunk at a time, and each chunk is written
   * before the next is encoded, so a save holds one chunk, not the file, and
   * /next is served between chunks.
   */
  async save(keys: Iterable<KeyData>): Promise<void> {
    await replaceFile(this.path, this.#encode(keys), FILE_MODE);
  }

  // Each chunk shares the encoder's buffer, which replaceFile has written out
  // before it asks for the next one.
  *#encode(keys: Iterable<KeyData>): Generator<Uint8Array> {
    // A chunk is taken once it reaches CHUNK_BYTES, so its last entry runs past: room for it.
    const out = new EntryEncoder(CHUNK_BYTES * 2);
    let written = 0;
    this.#cipher?.beginSave();
    for (const key of keys) {
      out.ascii(written++ === 0 ? "[\n  " : SEPARATOR);
      out.entry(key, this.#cipher);
      if (out.byteLength >= CHUNK_BYTES) yield out.take();
    }
    this.#cipher?.endSave();
    out.ascii(written === 0 ? "[]\n" : "\n]\n");
    yield out.take();
  }

  // A crash between writing the temp file and renaming it leaves the temp file behind. The file itself is whole
  // either way, so leftovers are only litter (and may hold keys): remove them.
  async #removeStaleTempFiles(): Promise<void> {
    const dir = dirname(this.path);
    const pattern = new RegExp(`^${escapeRegExp(basename(this.path))}${TEMP_FILE_SUFFIX.source}`);
    const names = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(
      names
        .filter((name) => pattern.test(name))
        .map((name) => rm(join(dir, name), { force: true })),
    );
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
    throw repeatedEntryError(path, index, error.field, key.id);
  }
}

function cannotRead(path: string, error: unknown): KeysFileError {
  return new KeysFileError(`${path}: cannot read the file (${errorCode(error)})`);
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}
