import assert from "node:assert/strict";
import { chmod, chown, lstat, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { replaceFile, TEMP_FILE_SUFFIX } from "../../src/store/file-replacer.ts";
import { makeTempDir } from "../helpers/test-server.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";

async function tempFilesIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => TEMP_FILE_SUFFIX.test(name));
}

describe("replaceFile", () => {
  it("writes each chunk to disk before asking for the next", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "keys.json");
    await writeFile(path, "old");
    const seenOnDisk: string[] = [];
    async function* chunks() {
      yield "first,";
      const [temp] = await tempFilesIn(dir);
      assert.ok(temp, "a temp file is being written");
      seenOnDisk.push(await readFile(join(dir, temp), "utf8"));
      assert.equal(await readFile(path, "utf8"), "old", "the file is untouched until the rename");
      yield "second";
    }
    await replaceFile(path, chunks(), 0o600);
    assert.deepEqual(seenOnDisk, ["first,"]);
    assert.equal(await readFile(path, "utf8"), "first,second");
    assert.deepEqual(await tempFilesIn(dir), []);
  });

  it("keeps the old file and removes its temp file when the chunks fail", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "keys.json");
    await writeFile(path, "old");
    async function* failing() {
      yield "partial";
      throw new Error("encoding failed");
    }
    await assert.rejects(replaceFile(path, failing(), 0o600), /encoding failed/);
    assert.equal(await readFile(path, "utf8"), "old");
    assert.deepEqual(await tempFilesIn(dir), []);
  });

  it("gives a new file the mode asked for, whatever the umask", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "new.json");
    const umask = process.umask(0o077);
    try {
      await replaceFile(path, ["[]\n"], 0o640);
    } finally {
      process.umask(umask);
    }
    assert.equal((await stat(path)).mode & 0o777, 0o640);
  });

  it("keeps an existing file's mode", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "keys.json");
    await writeFile(path, "old");
    await chmod(path, 0o644);
    await replaceFile(path, ["new"], 0o600);
    assert.equal((await stat(path)).mode & 0o777, 0o644);
  });

  // Like the disk-fault tests (mount), this one needs root, as the suite runs in CI.
  it("keeps an existing file's owner when it runs as root", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "keys.json");
    await writeFile(path, "old");
    await chown(path, 4321, 4322);
    await replaceFile(path, ["new"], 0o600);
    const { uid, gid } = await stat(path);
    assert.deepEqual([uid, gid], [4321, 4322]);
  });

  it("replaces the file a symlink points to, keeping the link", async () => {
    const dir = await makeTempDir();
    const real = join(dir, "real.json");
    const link = join(dir, "keys.json");
    await writeFile(real, "old");
    await symlink(real, link);
    await replaceFile(link, ["new"], 0o600);
    assert.equal(await readFile(real, "utf8"), "new");
    assert.ok((await lstat(link)).isSymbolicLink());
  });
});

describe("replaceFile on a disk that fills up during a write", () => {
  // 16 pages of 4 KB: the old file takes one, and the new file's second chunk finds room for
  // only part of itself, so write(2) writes less than it was given instead of failing.
  const disk = useTmpfs("64k");

  it("fails on a short write and keeps the old file, rather than renaming a cut-off file", async () => {
    const path = join(disk.path, "keys.json");
    await writeFile(path, "old");
    const chunks = ["a".repeat(40_000), "b".repeat(40_000)];
    await assert.rejects(replaceFile(path, chunks, 0o600), { code: "ENOSPC" });
    assert.equal(await readFile(path, "utf8"), "old");
    assert.deepEqual(await tempFilesIn(disk.path), []);
  });
});
