import { randomBytes } from "node:crypto";
import { type FileHandle, open, realpath, rename, rm, stat } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Replaces the file at `path` with `chunks`, each written whole before the next is asked for:
 * into `<file>.<uint32>` in the same directory, fsynced, then renamed over the
 * file. A crash leaves either the old file or the new one, and at worst a temp
 * file that matches TEMP_FILE_SUFFIX.
 *
 * Why not write-file-atomic: it takes the whole content as one buffer, which at
 * 100,000 keys is 34 MB held (and grown by doubling to 68 MB) for every save;
 * streaming the chunks holds one chunk. The rest of what it does is kept: the
 * new file gets the old one's mode (and, when we run as root, its owner), a
 * symlinked path replaces the file the link points to, and a failed write
 * removes its temp file and leaves the old file as it was. One thing is added:
 * the directory is fsynced after the rename, so a save that has resolved (a
 * change that was acknowledged) survives a power cut, not only a crash.
 */
export async function replaceFile(
  path: string,
  chunks: AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>,
  modeIfNew: number,
): Promise<void> {
  const target = await realpath(path).catch(() => path);
  const previous = await stat(target).catch(() => undefined);
  const temp = `${target}.${randomBytes(4).readUInt32BE(0)}`;
  let file: FileHandle | undefined = await open(temp, "wx", 0o600);
  try {
    // chmod after open: open's mode is narrowed by the umask, the old file's mode is not.
    await file.chmod(previous ? previous.mode & 0o7777 : modeIfNew);
    if (previous && process.getuid?.() === 0) await file.chown(previous.uid, previous.gid);
    for await (const chunk of chunks) await writeAll(file, chunk);
    await file.sync();
    await file.close();
    file = undefined;
    await rename(temp, target);
  } catch (error) {
    await file?.close().catch(() => {});
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dirname(target));
}

// One write(2) may write less than it was given, when the disk fills up or the
// file reaches the size limit (RLIMIT_FSIZE); only the next write says why. A
// short last write, unnoticed, would be synced and renamed over a whole file.
async function writeAll(file: FileHandle, chunk: string | Uint8Array): Promise<void> {
  let bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
  while (bytes.byteLength > 0) {
    const { bytesWritten } = await file.write(bytes);
    bytes = bytes.subarray(bytesWritten);
  }
}

// Best effort: the new file is in place by now, and a rejection here would make
// the caller roll back a change that is already on disk. Some file systems
// refuse to fsync a directory; the rename is then as durable as they make it.
async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, "r").catch(() => null);
  await directory
    ?.sync()
    .catch(() => {})
    .finally(() => directory.close());
}

/** Matches the name of a temp file `replaceFile` made for `<file>`, after the file's own name. */
export const TEMP_FILE_SUFFIX = /\.\d{1,10}$/;
