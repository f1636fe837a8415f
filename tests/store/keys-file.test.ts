import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { runUntilExit } from "../helpers/server-process.ts";
import { makeTempDir, startTestServer } from "../helpers/test-server.ts";

// As the seed (Rust, chrono) writes it: no ids, no windows, nanosecond timestamps.
const SEED_FILE = `[
  {
    "key": "seed-key-active-000001",
    "status": "Active",
    "usage": { "requests_this_minute": 2, "requests_this_day": 49 },
    "last_used": "2026-01-15T10:00:05.123456789Z",
    "created_at": "2023-11-04T12:00:00Z",
    "deactivated_at": null
  },
  {
    "key": "seed-key-inactive-00002",
    "status": "Inactive",
    "usage": { "requests_this_minute": 0, "requests_this_day": 3 },
    "last_used": "2026-01-14T09:00:00Z",
    "created_at": "2023-11-04T12:00:00Z",
    "deactivated_at": "2026-01-15T09:58:00+00:00"
  },
  { "key": "seed-key-minimal-00003" }
]`;

describe("a keys.json written by the seed service", () => {
  it("loads unchanged: statuses, counters of the current window, dates", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, "keys.json"), SEED_FILE);
    const clock = new FakeClock("2026-01-15T10:00:30.000Z");
    const server = await startTestServer({ rpm: "2", rpd: "50" }, { clock: clock.now }, dir);
    try {
      const keys = await (await server.request("/keys")).json();
      assert.deepEqual(
        keys.map((k: { status: string; usage: unknown; last_used: string | null }) => [
          k.status,
          k.usage,
          k.last_used,
        ]),
        [
          [
            "Active",
            { requests_this_minute: 2, requests_this_day: 49 },
            "2026-01-15T10:00:05.123Z",
          ],
          // counted on the 14th: today's count starts again
          [
            "Inactive",
            { requests_this_minute: 0, requests_this_day: 0 },
            "2026-01-14T09:00:00.000Z",
          ],
          ["Active", { requests_this_minute: 0, requests_this_day: 0 }, null],
        ],
      );
      assert.equal(keys[1].available_at, "2026-01-15T10:03:00.000Z");
      // the first key is at its rpm for this minute, the second rests: only the third is served
      const next = await (await server.request("/next")).json();
      assert.equal(next.api_key, "seed-key-minimal-00003");
    } finally {
      await server.stop();
    }
  });
});

/**
 * About 1 MB: entries of uneven length with non-ASCII fields, so entries and
 * multi-byte characters straddle the ends of reads and writes.
 */
function unevenEntries(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `id-${i}`,
    key: `sk-${String(i).padStart(6, "0")}-${"x".repeat(i % 97)}`,
    status: i % 3 === 0 ? "Inactive" : "Active",
    usage: { requests_this_minute: 0, requests_this_day: i % 5 },
    last_used: null,
    created_at: "2026-01-01T00:00:00.000Z",
    deactivated_at: i % 3 === 0 ? "2026-01-15T09:59:00.000Z" : null,
    note: "ключ 🔑".repeat(i % 7),
  }));
}

describe("a keys.json larger than one read", () => {
  it("loads every key whole, however the entries fall across the file's read chunks", async () => {
    const dir = await makeTempDir();
    // Four reads of 256 KB.
    const entries = unevenEntries(3000);
    await writeFile(join(dir, "keys.json"), JSON.stringify(entries, null, 2));
    const clock = new FakeClock("2026-01-15T10:00:30.000Z");
    const server = await startTestServer({}, { clock: clock.now }, dir);
    try {
      const keys: { id: string; status: string }[] = await (await server.request("/keys")).json();
      assert.deepEqual(
        keys.map((k) => [k.id, k.status]),
        entries.map((e) => [e.id, e.status]),
      );
      const found = await server.request(`/keys/${entries[2999]?.key}/test`, { method: "POST" });
      assert.notEqual(found.status, 404, "the last key is found by its string");
    } finally {
      await server.stop();
    }
  });
});

interface SavedEntry {
  id: string;
  key: string;
  last_used: string | null;
  usage: { requests_this_day: number };
}

describe("a save larger than one write", () => {
  it("writes every key whole, though each write reuses the last one's buffer", async () => {
    const dir = await makeTempDir();
    const path = join(dir, "keys.json");
    // The save writes 64 KB at a time: several writes.
    const entries = unevenEntries(3000);
    await writeFile(path, JSON.stringify(entries));
    const clock = new FakeClock("2026-01-15T10:00:30.000Z");
    const server = await startTestServer({}, { clock: clock.now }, dir);
    let dispensed: string[];
    try {
      dispensed = await Promise.all(
        Array.from(
          { length: 20 },
          async () => (await (await server.request("/next")).json()).api_key,
        ),
      );
    } finally {
      await server.stop();
    }
    const saved: SavedEntry[] = JSON.parse(await readFile(path, "utf8"));
    const byId = (a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id);
    assert.deepEqual(
      saved.map(({ id, key }) => ({ id, key })).sort(byId),
      entries.map(({ id, key }) => ({ id, key })).sort(byId),
    );
    assert.equal(new Set(dispensed).size, 20);
    const countsBefore = new Map(entries.map((e) => [e.key, e.usage.requests_this_day]));
    for (const entry of saved) {
      const used = dispensed.includes(entry.key);
      assert.equal(entry.last_used, used ? "2026-01-15T10:00:30.000Z" : null);
      // A key never used counted nothing today: its first dispense counts 1.
      assert.equal(entry.usage.requests_this_day, used ? 1 : countsBefore.get(entry.key));
    }
  });
});

describe("a keys.json that cannot be trusted", () => {
  const bad: [string, string, RegExp][] = [
    ["empty", "", /the file is empty/],
    ["truncated", '[{"key": "sk-truncated-000001", "status": "Act', /not valid JSON/],
    [
      "not an array",
      '{"key": "sk-object-0000001"}',
      /expected a JSON array of keys, found an object/,
    ],
    [
      "a bad status",
      '[{"key": "sk-good-000000001"}, {"key": "sk-bad-status-0001", "status": "Paused"}]',
      /entry 1: field "status"/,
    ],
    [
      // The splitter hands each entry over with its byte offset in the file (30: after "}, ").
      "an entry that is not JSON, after a good one",
      '[{"key": "sk-good-000000001"}, {"key": tru}]',
      /not valid JSON in the entry at position 30\b/,
    ],
    [
      // Entries are decoded as the split reaches them, so the first fault in the file is named.
      "a bad entry before JSON that breaks off",
      '[{"key": "sk-bad-status-0001", "status": "Paused"}, }]',
      /entry 0: field "status"/,
    ],
    [
      "a bad date",
      '[{"key": "sk-bad-date-000001", "created_at": "yesterday"}]',
      /entry 0: field "created_at"/,
    ],
    [
      "an impossible date",
      '[{"key": "sk-bad-date-000001", "last_used": "2026-13-45T99:00:00Z"}]',
      /entry 0: field "last_used": must be an RFC 3339 timestamp of a real date/,
    ],
    [
      "a date that does not exist",
      '[{"key": "sk-bad-date-000001", "created_at": "2026-02-30T10:00:00Z"}]',
      /entry 0: field "created_at": must be an RFC 3339 timestamp of a real date/,
    ],
    [
      "a time past midnight",
      '[{"key": "sk-bad-date-000001", "last_used": "2026-01-15T24:00:00Z"}]',
      /entry 0: field "last_used": must be an RFC 3339 timestamp of a real date/,
    ],
    [
      "a duplicate key",
      '[{"key": "sk-duplicate-00001"}, {"key": "sk-other-00000001"}, {"key": "sk-duplicate-00001"}]',
      /entry 2: the same key appears earlier/,
    ],
    [
      // The CLI's keys-file commands name the same entry (tests/cli/keys-file-convert.test.ts).
      "a duplicate key before a bad entry",
      '[{"key": "sk-duplicate-00001"}, {"key": "sk-duplicate-00001"}, {"key": "has a space"}]',
      /entry 1: the same key appears earlier/,
    ],
    [
      "a duplicate key in another pool",
      '[{"key": "sk-duplicate-00001", "pool": "a"}, {"key": "sk-duplicate-00001", "pool": "b"}]',
      /entry 1: the same key appears earlier/,
    ],
    [
      "a duplicate id",
      '[{"id": "same", "key": "sk-first-0000001"}, {"id": "same", "key": "sk-second-000001"}]',
      /entry 1: id "same" appears earlier/,
    ],
    [
      "a key string that is another key's id",
      '[{"id": "sk-taken-as-id-001", "key": "sk-first-0000001"}, {"key": "sk-taken-as-id-001"}]',
      /entry 1: the same key appears earlier/,
    ],
    [
      "a negative counter",
      '[{"key": "sk-negative-000001", "usage": {"requests_this_day": -1}}]',
      /entry 0/,
    ],
    [
      "more errors in a row than a key can count",
      '[{"key": "sk-streak-0000001", "error_streak": 2147483648}]',
      /entry 0: field "error_streak": .*2147483647/,
    ],
    [
      "an invalid key",
      '[{"key": "has a space"}]',
      /entry 0: field "key": a key may hold only printable/,
    ],
  ];

  for (const [name, content, message] of bad) {
    it(`${name}: refused at start, naming the file and entry, and left byte-identical`, async () => {
      const dir = await makeTempDir();
      const file = join(dir, "keys.json");
      await writeFile(file, content);
      const result = await runUntilExit(["--keys-file", file]);
      assert.equal(result.code, 1);
      assert.match(result.stderr, new RegExp(`${file.replaceAll("/", "\\/")}: `));
      assert.match(result.stderr, message);
      assert.equal(/sk-[a-z-]*0\d/.test(result.stderr), false, "no key in the message");
      assert.equal(await readFile(file, "utf8"), content);
    });
  }

  it("a missing file is created empty, private to its owner", async () => {
    const dir = await makeTempDir();
    const server = await startTestServer({}, {}, dir);
    await server.stop();
    assert.equal(await readFile(join(dir, "keys.json"), "utf8"), "[]\n");
    const { statSync } = await import("node:fs");
    assert.equal(statSync(join(dir, "keys.json")).mode & 0o777, 0o600);
  });
});
