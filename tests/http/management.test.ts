import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const KEY = "sk-management-000001";

async function keysOnDisk(server: TestServer): Promise<{ key: string; status: string }[]> {
  return JSON.parse(await readFile(server.keysFile, "utf8"));
}

describe("management routes", () => {
  const clock = new FakeClock("2026-01-15T10:00:00.000Z");
  let server: TestServer;
  let id: string;
  before(async () => {
    server = await startTestServer({ cooldown: "60" }, { clock: clock.now });
  });
  after(() => server.stop());

  it("POST /add answers 201 with the key's id and preview, never the key, and it is on disk", async () => {
    const res = await server.request("/add", { method: "POST", json: { key: KEY } });
    assert.equal(res.status, 201);
    const body = await res.json();
    id = body.id;
    assert.equal(body.preview, "sk-ma…01"); // a 20-character key shows 5 + 2
    assert.equal(body.status, "Active");
    assert.equal(JSON.stringify(body).includes(KEY), false);
    assert.deepEqual(
      (await keysOnDisk(server)).map((k) => k.key),
      [KEY],
    );
  });

  it("POST /add of a key already there answers 409 with the existing id", async () => {
    const res = await server.request("/add", { method: "POST", json: { key: KEY } });
    assert.equal(res.status, 409);
    assert.deepEqual(await res.json(), {
      error: "that key is already in the pool",
      code: "duplicate_key",
      id,
    });
  });

  it("POST /add_bulk reports each item as added, invalid or duplicate, in order", async () => {
    const res = await server.request("/add_bulk", {
      method: "POST",
      json: {
        keys: ["sk-bulk-aaaaaaaa", "has space", KEY, "sk-bulk-aaaaaaaa", 42, "sk-bulk-bbbbbbbb"],
      },
    });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.added_count, 2);
    assert.deepEqual(
      body.added.map((k: { index: number }) => k.index),
      [0, 5],
    );
    const added0 = body.added[0].id;
    assert.deepEqual(
      body.skipped.map((s: { index: number; reason: string }) => [s.index, s.reason]),
      [
        [1, "invalid"],
        [2, "duplicate"],
        [3, "duplicate"],
        [4, "invalid"],
      ],
    );
    assert.equal(body.skipped[1].id, id);
    assert.equal(body.skipped[2].id, added0);
    assert.equal((await keysOnDisk(server)).length, 3);
  });

  it("GET /keys lists every key with usage, times and a preview, never a secret", async () => {
    await server.request("/next");
    const res = await server.request("/keys");
    assert.equal(res.status, 200);
    const keys = await res.json();
    assert.equal(keys.length, 3);
    assert.deepEqual(Object.keys(keys[0]).sort(), [
      "available_at",
      "created_at",
      "deactivated_at",
      "error_streak",
      "expires_at",
      "half_open",
      "id",
      "last_used",
      "limits",
      "outcomes",
      "pool",
      "preview",
      "rest_until",
      "status",
      "usage",
    ]);
    assert.deepEqual(keys[0].usage, { requests_this_minute: 1, requests_this_day: 1 });
    assert.equal(keys[0].last_used, "2026-01-15T10:00:00.000Z");
    const text = JSON.stringify(keys);
    for (const secret of [KEY, "sk-bulk-aaaaaaaa", "sk-bulk-bbbbbbbb"]) {
      assert.equal(text.includes(secret), false);
    }
  });

  it("POST /deactivate/:id sets Inactive and deactivated_at, on disk before the answer", async () => {
    const res = await server.request(`/deactivate/${id}`, { method: "POST" });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.status, "Inactive");
    assert.equal(body.deactivated_at, "2026-01-15T10:00:00.000Z");
    assert.equal(body.available_at, "2026-01-15T10:01:00.000Z");
    assert.equal((await keysOnDisk(server))[0]?.status, "Inactive");
  });

  it("POST /reactivate/:key accepts the URL-encoded key string as well as the id", async () => {
    const res = await server.request(`/reactivate/${encodeURIComponent(KEY)}`, { method: "POST" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).status, "Active");
    assert.equal((await keysOnDisk(server))[0]?.status, "Active");
  });

  it("GET /stats gives totals by status, dispensed counts and the global cap", async () => {
    await server.request(`/deactivate/${id}`, { method: "POST" });
    const stats = await (await server.request("/stats")).json();
    const { pools, ...totals } = stats;
    assert.deepEqual(totals, {
      total_keys: 3,
      active_keys: 2,
      inactive_keys: 1,
      disabled_keys: 0,
      expired_keys: 0,
      available_keys: 2,
      dispensed_this_minute: 1,
      dispensed_today: 1,
      global_cap: { limit: 125000, remaining: 124999 },
      limits: { rpm: 2, rpd: 50, tpm: 125000, cooldown_seconds: 60 },
    });
    assert.deepEqual(Object.keys(pools), ["default"]);
    assert.equal(pools.default.total_keys, 3);
    assert.equal(pools.default.resting_until, null);
  });

  it("DELETE /delete/:id removes the key from memory and disk", async () => {
    const res = await server.request(`/delete/${id}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).id, id);
    assert.equal(
      (await keysOnDisk(server)).some((k) => k.key === KEY),
      false,
    );
    assert.equal((await server.request(`/delete/${id}`, { method: "DELETE" })).status, 404);
  });

  it("answers 404 for an unknown key on every :key route without echoing the reference", async () => {
    const secretLooking = "sk-not-in-the-pool-123";
    for (const [method, path] of [
      ["DELETE", "/delete"],
      ["POST", "/deactivate"],
      ["POST", "/reactivate"],
    ] as const) {
      const res = await server.request(`${path}/${secretLooking}`, { method });
      assert.equal(res.status, 404);
      const text = await res.text();
      assert.equal(JSON.parse(text).code, "key_not_found");
      assert.equal(text.includes(secretLooking), false);
    }
  });

  it("GET /healthz answers ok", async () => {
    const res = await server.request("/healthz");
    assert.deepEqual([res.status, await res.json()], [200, { status: "ok" }]);
  });
});

describe("bad input changes nothing and gets a JSON error", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  const cases: [string, () => Promise<Response>, number, string][] = [
    ["no body", () => server.request("/add", { method: "POST" }), 415, "unsupported_media_type"],
    [
      "a form body",
      () =>
        server.request("/add", {
          method: "POST",
          body: "key=sk-form-00000000",
          headers: { "content-type": "application/x-www-form-urlencoded" },
        }),
      415,
      "unsupported_media_type",
    ],
    [
      "broken JSON",
      () =>
        server.request("/add", {
          method: "POST",
          body: '{"key": "sk-broken-000000',
          headers: { "content-type": "application/json" },
        }),
      400,
      "invalid_json",
    ],
    [
      "a JSON array",
      () => server.request("/add", { method: "POST", json: [] }),
      400,
      "invalid_body",
    ],
    [
      "no key field",
      () => server.request("/add", { method: "POST", json: {} }),
      400,
      "invalid_key",
    ],
    [
      "a numeric key",
      () => server.request("/add", { method: "POST", json: { key: 7 } }),
      400,
      "invalid_key",
    ],
    [
      "an empty key",
      () => server.request("/add", { method: "POST", json: { key: "" } }),
      400,
      "invalid_key",
    ],
    [
      "a key with a newline",
      () => server.request("/add", { method: "POST", json: { key: "sk-abc\n" } }),
      400,
      "invalid_key",
    ],
    [
      "an over-long key",
      () => server.request("/add", { method: "POST", json: { key: "k".repeat(513) } }),
      400,
      "invalid_key",
    ],
    [
      "a body over 1 MB",
      () => server.request("/add", { method: "POST", json: { key: "k".repeat(1_100_000) } }),
      413,
      "body_too_large",
    ],
    [
      "keys not an array",
      () => server.request("/add_bulk", { method: "POST", json: { keys: "sk-one-000000000" } }),
      400,
      "invalid_body",
    ],
    [
      "more than 10,000 keys",
      () =>
        server.request("/add_bulk", {
          method: "POST",
          json: { keys: Array.from({ length: 10_001 }, (_, i) => `k${i}`) },
        }),
      400,
      "too_many_keys",
    ],
    [
      "a wrong method",
      () => server.request("/next", { method: "POST" }),
      405,
      "method_not_allowed",
    ],
    [
      "an unknown method",
      () => server.request("/add", { method: "PROPFIND" }),
      405,
      "method_not_allowed",
    ],
    ["an unknown route", () => server.request("/nope"), 404, "not_found"],
    [
      "a form-posting web page",
      () =>
        server.request("/add", {
          method: "POST",
          json: { key: "sk-csrf-000000000" },
          headers: { origin: "https://evil.example" },
        }),
      403,
      "cross_site_request",
    ],
    [
      "a cross-site fetch without Origin",
      () =>
        server.request("/deactivate/whatever", {
          method: "POST",
          headers: { "sec-fetch-site": "cross-site" },
        }),
      403,
      "cross_site_request",
    ],
  ];

  for (const [name, send, status, code] of cases) {
    it(`${name}: ${status} ${code}`, async () => {
      const res = await send();
      assert.equal(res.status, status);
      assert.match(res.headers.get("content-type") ?? "", /application\/json/);
      const body = await res.json();
      assert.equal(body.code, code);
      assert.equal(typeof body.error, "string");
      const keys = await (await server.request("/keys")).json();
      assert.deepEqual(keys, []);
    });
  }

  it("does not quote the body of broken JSON in its error", async () => {
    const res = await server.request("/add", {
      method: "POST",
      body: '{"key": sk-unquoted-secret-99}',
      headers: { "content-type": "application/json" },
    });
    assert.equal((await res.text()).includes("unquoted-secret"), false);
  });
});
