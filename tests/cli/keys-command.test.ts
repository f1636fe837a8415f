import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { KeyJson } from "../../src/cli/admin-client.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { ADMIN, CLIENT, runCli } from "./run-cli.ts";

const KEY_A = "sk-alpha-aaaaaaaaaaaaaaaa";
const KEY_B = "sk-bravo-bbbbbbbbbbbbbbbb";
// Characters that mean something in a URL: the CLI must encode them to reach the key.
const ODD_KEY = "sk-odd/%2F?q=1#frag+&x";

let server: TestServer;
const admin = (...args: string[]) => runCli([...args, "--url", server.url, "--token", ADMIN]);

async function listed(): Promise<KeyJson[]> {
  const response = await server.request("/keys", { token: ADMIN });
  assert.equal(response.status, 200);
  return (await response.json()) as KeyJson[];
}

async function addDirectly(key: string): Promise<KeyJson> {
  const response = await server.request("/add", { method: "POST", token: ADMIN, json: { key } });
  assert.equal(response.status, 201);
  return (await response.json()) as KeyJson;
}

beforeEach(async () => {
  // A still clock: `available_at` of an available key is "now", which must not move mid-test.
  const clock = new FakeClock();
  server = await startTestServer(
    { adminToken: [ADMIN], clientToken: [CLIENT] },
    { clock: clock.now },
  );
});
afterEach(() => server.stop());

describe("keys add", () => {
  test("one key goes through /add and prints its id and preview, never the key", async () => {
    const result = await admin("keys", "add", KEY_A);
    assert.equal(result.code, 0, result.stderr);
    const [key] = await listed();
    assert.ok(key);
    assert.equal(result.stdout, `added ${key.id} (${key.preview})\n`);
    assert.ok(!result.stdout.includes(KEY_A));
  });

  test("a duplicate single key is the server saying no: exit 1 with its message and code", async () => {
    await addDirectly(KEY_A);
    const result = await admin("keys", "add", KEY_A);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /already in the pool \(duplicate_key, HTTP 409\)/);
    assert.ok(!result.stderr.includes(KEY_A));
    assert.equal((await listed()).length, 1);
  });

  test("several keys go through /add_bulk: exit 0, counts, and why each skipped one was skipped", async () => {
    const existing = await addDirectly(KEY_A);
    const result = await admin("keys", "add", KEY_B, KEY_A, "has space");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        "added 1, skipped 2",
        `skipped key #2: already in the pool as ${existing.id}`,
        "skipped key #3: invalid: a key may hold only printable ASCII characters (no spaces or control characters)",
        "",
      ].join("\n"),
    );
    assert.equal((await listed()).length, 2);
  });

  test("--json prints the server's /add_bulk answer", async () => {
    const result = await admin("keys", "add", KEY_A, KEY_B, "--json");
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout);
    assert.equal(answer.added_count, 2);
    assert.deepEqual(
      answer.added.map((item: KeyJson & { index: number }) => [item.index, item.id]),
      (await listed()).map((key, index) => [index, key.id]),
    );
  });
});

describe("keys list", () => {
  test("prints a table of id, preview, status, minute/day usage and last use", async () => {
    const a = await addDirectly(KEY_A);
    const b = await addDirectly(KEY_B);
    const next = await server.request("/next", { token: CLIENT });
    assert.equal(next.status, 200);
    await server.request(`/deactivate/${b.id}`, { method: "POST", token: ADMIN });
    const lastUsed = (await listed())[0]?.last_used;
    assert.ok(lastUsed);

    const result = await admin("keys", "list");
    assert.equal(result.code, 0, result.stderr);
    const rows = result.stdout
      .trimEnd()
      .split("\n")
      .map((line) => line.split(/ {2,}/));
    assert.deepEqual(rows, [
      ["ID", "PREVIEW", "STATUS", "MINUTE", "DAY", "LAST USED"],
      [a.id, a.preview, "Active", "1", "1", lastUsed],
      [b.id, b.preview, "Inactive", "0", "0", "never"],
    ]);
  });

  test("says so when the pool is empty", async () => {
    const result = await admin("keys", "list");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "no keys\n");
  });

  test("--json prints exactly what GET /keys answers", async () => {
    await addDirectly(KEY_A);
    await addDirectly(KEY_B);
    const result = await admin("keys", "list", "--json");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), await listed());
  });
});

describe("keys delete, deactivate, reactivate", () => {
  test("work by id and change the server's state", async () => {
    const key = await addDirectly(KEY_A);

    const deactivated = await admin("keys", "deactivate", key.id);
    assert.equal(deactivated.code, 0, deactivated.stderr);
    const [resting] = await listed();
    assert.equal(resting?.status, "Inactive");
    assert.equal(
      deactivated.stdout,
      `deactivated ${key.id} (${key.preview}) until ${resting.available_at}\n`,
    );

    const reactivated = await admin("keys", "reactivate", key.id);
    assert.equal(reactivated.code, 0, reactivated.stderr);
    assert.equal(reactivated.stdout, `reactivated ${key.id} (${key.preview})\n`);
    assert.equal((await listed())[0]?.status, "Active");

    const deleted = await admin("keys", "delete", key.id);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(deleted.stdout, `deleted ${key.id} (${key.preview})\n`);
    assert.deepEqual(await listed(), []);
  });

  test("work by the key string itself, URL-encoded", async () => {
    const key = await addDirectly(ODD_KEY);
    const deactivated = await admin("keys", "deactivate", ODD_KEY, "--json");
    assert.equal(deactivated.code, 0, deactivated.stderr);
    assert.equal(JSON.parse(deactivated.stdout).status, "Inactive");
    assert.equal((await listed())[0]?.status, "Inactive");

    const deleted = await admin("keys", "delete", ODD_KEY, "--json");
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(JSON.parse(deleted.stdout).id, key.id);
    assert.deepEqual(await listed(), []);
  });

  test("an unknown key is a 404: exit 1, the server's message, and the reference not echoed", async () => {
    await addDirectly(KEY_A);
    for (const command of ["delete", "deactivate", "reactivate"]) {
      const result = await admin("keys", command, "sk-not-in-the-pool-123456");
      assert.equal(result.code, 1, command);
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        "api-key-rotator: no key with that id (or key string) (key_not_found, HTTP 404)\n",
      );
    }
    assert.equal((await listed())[0]?.status, "Active");
  });
});
