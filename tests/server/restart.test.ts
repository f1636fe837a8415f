import assert from "node:assert/strict";
import { watch } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { type ServerProcess, spawnServer } from "../helpers/server-process.ts";
import { makeTempDir, request, startTestServer } from "../helpers/test-server.ts";

describe("restarts", () => {
  it("keep this day's counters: a restart never lets a key past rpd", async () => {
    const dir = await makeTempDir();
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const flags = { rpm: "10", rpd: "3" };
    const first = await startTestServer(flags, { clock: clock.now }, dir);
    await first.request("/add", { method: "POST", json: { key: "sk-restart-0000001" } });
    for (let i = 0; i < 3; i++) assert.equal((await first.request("/next")).status, 200);
    await first.close();
    // The counters are in last_used's minute and day, so the file leaves the windows to it.
    const [saved] = JSON.parse(await readFile(join(dir, "keys.json"), "utf8"));
    assert.deepEqual(saved.usage, { requests_this_minute: 3, requests_this_day: 3 });
    assert.equal(saved.last_used, "2026-01-15T10:00:00.000Z");

    clock.set("2026-01-15T18:00:00.000Z");
    const second = await startTestServer(flags, { clock: clock.now }, dir);
    try {
      assert.equal((await second.request("/next")).status, 503);
      const [key] = await (await second.request("/keys")).json();
      assert.deepEqual(key.usage, { requests_this_minute: 0, requests_this_day: 3 });
      clock.set("2026-01-16T00:00:00.000Z");
      assert.equal((await second.request("/next")).status, 200);
    } finally {
      await second.close();
    }
  });

  it("keep this minute's counters and the global cap", async () => {
    const dir = await makeTempDir();
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const flags = { rpm: "1", tpm: "2" };
    const first = await startTestServer(flags, { clock: clock.now }, dir);
    await first.request("/add_bulk", {
      method: "POST",
      json: { keys: ["sk-cap-00000000001", "sk-cap-00000000002", "sk-cap-00000000003"] },
    });
    await first.request("/next");
    await first.request("/next");
    await first.close();
    clock.advance(30_000);
    const second = await startTestServer(flags, { clock: clock.now }, dir);
    try {
      assert.equal((await second.request("/next")).status, 429);
    } finally {
      await second.close();
    }
  });
});

// The seed service's keys.json: no ids, no windows.
const SEED_FILE = JSON.stringify([
  {
    key: "sk-seed-format-000001",
    status: "Active",
    usage: { requests_this_minute: 0, requests_this_day: 0 },
    last_used: null,
    created_at: "2026-01-01T00:00:00Z",
    deactivated_at: null,
  },
]);

async function listedIds(url: string): Promise<string[]> {
  const keys: { id: string }[] = await (await request(url, "/keys")).json();
  return keys.map((key) => key.id);
}

describe("the process", () => {
  it("writes the ids it gave a seed service's keys at start, not after a change or an interval", {
    timeout: 20_000,
  }, async (t) => {
    const dir = await makeTempDir();
    const file = join(dir, "keys.json");
    await writeFile(file, SEED_FILE);
    const watcher = watch(dir);
    // Rejects when the test times out, so the server below is still killed.
    const replaced = new Promise<void>((resolve, reject) => {
      watcher.on("change", (_event, name) => {
        if (name === "keys.json") resolve();
      });
      t.signal.addEventListener("abort", () => reject(t.signal.reason));
    });
    const first = await spawnServer(["--keys-file", file, "--save-interval", "3600"]);
    let second: ServerProcess | undefined;
    try {
      const shown = await listedIds(first.url);
      await replaced;
      first.child.kill("SIGKILL");
      assert.equal(await first.exited, "SIGKILL");
      second = await spawnServer(["--keys-file", file]);
      assert.deepEqual(await listedIds(second.url), shown);
    } finally {
      first.child.kill("SIGKILL");
      second?.child.kill("SIGKILL");
      watcher.close();
    }
  });

  it("keeps every acknowledged add across kill -9 right after the answer", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "keys.json");
    const acknowledged: string[] = [];
    for (let round = 0; round < 5; round++) {
      const server = await spawnServer(["--keys-file", file]);
      const key = `sk-kill-nine-${round}-000000`;
      const res = await request(server.url, "/add", { method: "POST", json: { key } });
      assert.equal(res.status, 201);
      acknowledged.push(key);
      server.child.kill("SIGKILL");
      assert.equal(await server.exited, "SIGKILL");
      const onDisk = JSON.parse(await readFile(file, "utf8")).map((k: { key: string }) => k.key);
      assert.deepEqual(onDisk, acknowledged);
    }
  });

  it("on SIGTERM finishes, saves the counters and exits 0", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "keys.json");
    const server = await spawnServer(["--keys-file", file, "--save-interval", "3600"]);
    await request(server.url, "/add", { method: "POST", json: { key: "sk-sigterm-000001" } });
    for (let i = 0; i < 2; i++) assert.equal((await request(server.url, "/next")).status, 200);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    const [key] = JSON.parse(await readFile(file, "utf8"));
    assert.equal(key.usage.requests_this_minute + key.usage.requests_this_day, 4);
  });

  it("on SIGINT also exits 0", async () => {
    const server = await spawnServer(["--keys-file", join(await makeTempDir(), "keys.json")]);
    server.child.kill("SIGINT");
    assert.equal(await server.exited, 0);
  });
});
