import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "../../src/logger.ts";
import { LogCapture } from "../helpers/log-capture.ts";
import { makeTempDir, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { useTmpfs } from "../helpers/tmpfs.ts";

const FAILED = /saving keys failed/;
const RESUMED = /saving keys works again/;

async function serverIn(dir: string, log: LogCapture): Promise<TestServer> {
  const server = await startTestServer(
    { saveInterval: "1", rpm: "1000", rpd: "1000" },
    { logger: createLogger("info", log) },
    dir,
  );
  assert.equal(
    (await server.request("/add", { method: "POST", json: { key: "sk-disk-original-01" } })).status,
    201,
  );
  return server;
}

/** While the disk refuses writes: serving goes on, changes are refused and rolled back, the file stays. */
async function assertRefusesChanges(server: TestServer, log: LogCapture, errno: string) {
  const before = await readFile(server.keysFile, "utf8");
  const add = await server.request("/add", { method: "POST", json: { key: "sk-disk-refused-02" } });
  assert.equal(add.status, 503);
  const body = await add.json();
  assert.equal(body.code, "persist_failed");
  assert.match(
    body.error,
    new RegExp(`could not save .*keys\\.json \\(${errno}\\); the change was not made`),
  );
  assert.equal(JSON.stringify(body).includes("sk-disk-refused-02"), false);

  const [original] = await (await server.request("/keys")).json();
  const deactivate = await server.request(`/deactivate/${original.id}`, { method: "POST" });
  assert.equal(deactivate.status, 503);

  const keys = await (await server.request("/keys")).json();
  assert.deepEqual(
    keys.map((k: { preview: string; status: string }) => k.status),
    ["Active"],
    "both changes rolled back",
  );
  assert.equal((await server.request("/next")).status, 200, "still serving");
  assert.equal(await readFile(server.keysFile, "utf8"), before, "old keys.json intact");
  assert.equal(log.count(FAILED), 1, "logged once for the episode");
}

async function assertResumes(server: TestServer, log: LogCapture) {
  await log.waitFor(RESUMED);
  const add = await server.request("/add", { method: "POST", json: { key: "sk-disk-after-03" } });
  assert.equal(add.status, 201);
  const onDisk = JSON.parse(await readFile(server.keysFile, "utf8"));
  assert.deepEqual(
    onDisk.map((k: { key: string }) => k.key),
    ["sk-disk-original-01", "sk-disk-after-03"],
  );
  assert.ok(onDisk[0].usage.requests_this_day >= 1, "counters saved once the disk is back");
}

describe("when the disk fails", () => {
  const disk = useTmpfs("256k");

  it("read-only: serves, refuses changes with 503, keeps the file, logs once, resumes by itself", async () => {
    const dir = join(disk.path, "ro");
    execFileSync("mkdir", [dir]);
    const log = new LogCapture();
    const server = await serverIn(dir, log);
    try {
      execFileSync("mount", ["-o", "remount,ro", disk.path]);
      try {
        await assertRefusesChanges(server, log, "EROFS");
      } finally {
        execFileSync("mount", ["-o", "remount,rw", disk.path]);
      }
      await assertResumes(server, log);
    } finally {
      await server.close();
    }
  });

  it("full: serves, refuses changes with 503, keeps the file, logs once, resumes by itself", async () => {
    const dir = join(disk.path, "full");
    execFileSync("mkdir", [dir]);
    const log = new LogCapture();
    const server = await serverIn(dir, log);
    const filler = join(disk.path, "filler");
    try {
      // dd stops with an error when the tmpfs is full, which is the point.
      try {
        execFileSync("dd", ["if=/dev/zero", `of=${filler}`, "bs=4k"], { stdio: "ignore" });
      } catch {}
      await assertRefusesChanges(server, log, "ENOSPC");
      await rm(filler);
      await assertResumes(server, log);
    } finally {
      await server.close();
    }
  });
});

describe("a seed service's keys.json on a read-only disk", () => {
  const disk = useTmpfs("256k");

  it("starts; the ids it gave the keys are written once the disk is back", async () => {
    const dir = join(disk.path, "seed");
    execFileSync("mkdir", [dir]);
    await writeFile(join(dir, "keys.json"), JSON.stringify([{ key: "sk-disk-seed-format-01" }]));
    execFileSync("mount", ["-o", "remount,ro", disk.path]);
    let readOnly = true;
    const makeWritable = () => {
      if (readOnly) execFileSync("mount", ["-o", "remount,rw", disk.path]);
      readOnly = false;
    };
    const log = new LogCapture();
    let server: TestServer | undefined;
    try {
      server = await startTestServer(
        { saveInterval: "1" },
        { logger: createLogger("info", log) },
        dir,
      );
      // Nothing is dispensed or changed: the ids alone are what there is to write.
      await log.waitFor(FAILED);
      makeWritable();
      const [{ id }] = await (await server.request("/keys")).json();
      await log.waitFor(RESUMED);
      const [entry] = JSON.parse(await readFile(server.keysFile, "utf8"));
      assert.equal(entry.id, id);
    } finally {
      makeWritable();
      await server?.close();
    }
  });
});

describe("when the directory disappears", () => {
  it("serves, refuses changes with 503, logs once, and resumes when it is back", async () => {
    const parent = await makeTempDir();
    const dir = join(parent, "data");
    execFileSync("mkdir", [dir]);
    const log = new LogCapture();
    const server = await serverIn(dir, log);
    try {
      await rename(dir, `${dir}-away`);
      const add = await server.request("/add", {
        method: "POST",
        json: { key: "sk-disk-refused-02" },
      });
      assert.equal(add.status, 503);
      assert.match((await add.json()).error, /\(ENOENT\)/);
      assert.equal((await server.request("/next")).status, 200);
      await rename(`${dir}-away`, dir);
      await assertResumes(server, log);
      assert.equal(log.count(FAILED), 1);
    } finally {
      await server.close();
      await rm(parent, { recursive: true, force: true });
    }
  });
});

describe("a temp file left by a crashed write", () => {
  it("is ignored and removed at start", async () => {
    const dir = await makeTempDir();
    // With an id, so that nothing at start has reason to write keys.json.
    const file = '[{"id": "stale-temp", "key": "sk-stale-temp-0001"}]';
    await writeFile(join(dir, "keys.json"), file);
    const stale = join(dir, "keys.json.3735928559");
    await writeFile(stale, '[{"key": "sk-half-written');
    const server = await startTestServer({}, {}, dir);
    try {
      const keys = await (await server.request("/keys")).json();
      assert.equal(keys.length, 1);
      await assert.rejects(readFile(stale), { code: "ENOENT" });
      assert.equal(await readFile(join(dir, "keys.json"), "utf8"), file);
    } finally {
      await server.stop();
    }
  });
});
