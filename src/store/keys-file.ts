import { readdir, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { setImmediate as nextTurn } from "node:timers/promises";
import writeFileAtomic from "write-file-atomic";
import type { KeyData } from "../core/key-record.ts";
import { decodeKeysFile, encodeEntry, KeysFileError } from "./keys-file-codec.ts";

// Encoding yields to the event loop between chunks so a save of 100,000 keys
// never holds up /next for long.
const ENCODE_CHUNK = 2_000;

/** keys.json on disk: read once at start, then replaced atomically on every save. */
export class KeysFile {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** Reads the keys; a missing file is created empty, an unreadable or invalid one is refused untouched. */
  async load(now: number, newId: () => string): Promise<KeyData[]> {
    await this.#removeStaleTempFiles();
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (error) {
      if (errorCode(error) !== "ENOENT") {
        throw new KeysFileError(`${this.path}: cannot read the file (${errorCode(error)})`);
      }
      await writeFileAtomic(this.path, "[]\n", { mode: 0o600 });
      return [];
    }
    return decodeKeysFile(text, this.path, now, newId);
  }

  /** Writes `keys` in one atomic replace: a crash leaves either the old file or the new one. */
  async save(keys: readonly KeyData[]): Promise<void> {
    const lines: string[] = [];
    for (let start = 0; start < keys.length; start += ENCODE_CHUNK) {
      if (start > 0) await nextTurn();
      const end = Math.min(keys.length, start + ENCODE_CHUNK);
      for (let i = start; i < end; i++) {
        lines.push(JSON.stringify(encodeEntry(keys[i] as KeyData)));
      }
    }
    const text = lines.length === 0 ? "[]\n" : `[\n  ${lines.join(",\n  ")}\n]\n`;
    await writeFileAtomic(this.path, text);
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

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : "unknown error";
}
