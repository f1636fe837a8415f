import assert from "node:assert/strict";
import { mkdirSync, rmSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { KeyJson } from "../../src/cli/admin-client.ts";
import { makeTempDir, startTestServer, type TestServer } from "../helpers/test-server.ts";
import { ADMIN, CLIENT, runCli } from "./run-cli.ts";

let server: TestServer;
let dir: string;

const importKeys = (file: string, input?: string, ...flags: string[]) =>
  runCli(["keys", "import", file, "--url", server.url, "--token", ADMIN, ...flags], { input });

async function listed(): Promise<KeyJson[]> {
  return (await (await server.request("/keys", { token: ADMIN })).json()) as KeyJson[];
}

/** The keys the server saved: it writes keys.json before answering a management call. */
async function storedKeys(): Promise<string[]> {
  const entries = JSON.parse(await readFile(server.keysFile, "utf8")) as { key: string }[];
  return entries.map((entry) => entry.key);
}

const numbered = (count: number) =>
  Array.from({ length: count }, (_, i) => `sk-import-${String(i).padStart(6, "0")}-abcdef`);

beforeEach(async () => {
  dir = await makeTempDir();
  server = await startTestServer({ adminToken: [ADMIN], clientToken: [CLIENT] });
});
afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

test("a file of one key a line: blank lines, CRLF and surrounding spaces are ignored", async () => {
  const added = await server.request("/add", {
    method: "POST",
    token: ADMIN,
    json: { key: "sk-already-there-000000" },
  });
  const existing = ((await added.json()) as KeyJson).id;
  const file = join(dir, "keys.txt");
  await writeFile(
    file,
    "sk-first-1111111111111111\r\n\n   sk-second-222222222222222  \r\n\t\nsk-already-there-000000\nsk-bad\u0001key\n",
  );
  const result = await importKeys(file);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    [
      "added 2, skipped 2",
      `skipped line 5: already in the pool as ${existing}`,
      "skipped line 6: invalid: a key may hold only printable ASCII characters (no spaces or control characters)",
      "",
    ].join("\n"),
  );
  assert.deepEqual(await storedKeys(), [
    "sk-already-there-000000",
    "sk-first-1111111111111111",
    "sk-second-222222222222222",
  ]);
});

test("a file holding a JSON array of strings", async () => {
  const file = join(dir, "keys.json");
  await writeFile(file, JSON.stringify(["sk-json-one-1111111111", "", "sk-json-two-2222222222"]));
  const result = await importKeys(file);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(
    result.stdout,
    "added 2, skipped 1\nskipped key #2: invalid: a key must not be empty\n",
  );
  assert.deepEqual(await storedKeys(), ["sk-json-one-1111111111", "sk-json-two-2222222222"]);
});

test("- reads the keys from stdin; --json prints the server's answer", async () => {
  const result = await importKeys(
    "-",
    "sk-stdin-one-111111111\nsk-stdin-two-222222222\n",
    "--json",
  );
  assert.equal(result.code, 0, result.stderr);
  const answer = JSON.parse(result.stdout);
  const keys = await listed();
  assert.equal(answer.added_count, 2);
  assert.deepEqual(
    answer.added.map((item: KeyJson & { line: number }) => [item.line, item.id]),
    keys.map((key, index) => [index + 1, key.id]),
  );
  assert.deepEqual(await storedKeys(), ["sk-stdin-one-111111111", "sk-stdin-two-222222222"]);
});

test("more keys than one /add_bulk call takes are sent in chunks, positions counted across them", async () => {
  const keys = numbered(10_001);
  const file = join(dir, "many.txt");
  // The last line repeats the first: it is in the second chunk and must be reported as line 10002.
  await writeFile(file, [...keys, keys[0]].join("\n"));
  const result = await importKeys(file, undefined, "--json");
  assert.equal(result.code, 0, result.stderr);
  const answer = JSON.parse(result.stdout);
  const pool = await listed();
  assert.equal(answer.added_count, 10_001);
  assert.equal(pool.length, 10_001);
  assert.equal(answer.added[10_000].index, 10_000);
  assert.equal(answer.added[10_000].line, 10_001);
  assert.deepEqual(answer.skipped, [
    { index: 10_001, line: 10_002, reason: "duplicate", id: pool[0]?.id },
  ]);
});

test("when a later chunk is refused, it says how much was sent before and exits 1", async () => {
  const own = await makeTempDir();
  const keysFile = join(own, "keys.json");
  let ids = 0;
  // The first key of the second chunk turns keys.json into a directory, so that save fails.
  const newId = () => {
    ids += 1;
    if (ids === 10_001) {
      rmSync(keysFile);
      mkdirSync(keysFile);
    }
    return `id-${ids}`;
  };
  await server.stop();
  server = await startTestServer({ adminToken: [ADMIN], keysFile }, { newId }, own);
  try {
    const file = join(dir, "many.txt");
    await writeFile(file, numbered(10_500).join("\n"));
    const result = await importKeys(file);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /the first 10000 keys were sent \(added 10000, skipped 0\); the rest were not\n.*\(persist_failed, HTTP 503\)\n$/,
    );
    assert.equal((await listed()).length, 10_000);
  } finally {
    await rm(keysFile, { recursive: true, force: true });
  }
});

test("unreadable, empty or malformed input is a usage error (exit 2) and nothing is sent", async () => {
  const empty = join(dir, "empty.txt");
  await writeFile(empty, "\n  \n");
  const badJson = join(dir, "bad.json");
  await writeFile(badJson, '["sk-secret-in-bad-json-0000", ');
  const notStrings = join(dir, "numbers.json");
  await writeFile(notStrings, '["sk-fine-0000000000000", 42]');
  const cases: [string, string | undefined, RegExp][] = [
    [join(dir, "missing.txt"), undefined, /cannot read .*missing\.txt \(ENOENT\)/],
    [empty, undefined, /no keys in .*empty\.txt/],
    ["-", "", /no keys in stdin/],
    [badJson, undefined, /bad\.json starts with "\[" but is not valid JSON/],
    [notStrings, undefined, /numbers\.json: item 2 of the JSON array is not a string/],
  ];
  for (const [file, input, message] of cases) {
    const result = await importKeys(file, input);
    assert.equal(result.code, 2, file);
    assert.match(result.stderr, message);
    assert.ok(!result.stderr.includes("sk-"), result.stderr);
  }
  assert.deepEqual(await listed(), []);
});
