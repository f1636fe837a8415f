// The client against the real server (src/server.ts) on an ephemeral port: the wire contract
// end to end. Scenarios the real server cannot be made to produce on demand (a server that
// never answers, echoed tokens, malformed bodies, held responses) are in get-api-key.test.ts.
//
// The server hands out keys least recently used first, so which key comes back shows whether
// the client asked the server again or answered from its cache.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createClient, KeyUnavailableError } from "../../src/client/index.ts";
import type { ServeFlags } from "../../src/config.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const KEYS = ["sk-real-alpha-0000", "sk-real-bravo-0000", "sk-real-charlie-00"];
const CLIENT_TOKEN = "client-token-for-tests-0001";

/** The real server with `keys` added and a clock of its own (for deterministic Retry-After). */
async function realServer(
  flags: ServeFlags,
  keys: readonly string[],
  clock = new FakeClock("2026-01-15T10:00:30.000Z"),
): Promise<TestServer> {
  const server = await startTestServer(flags, { clock: clock.now });
  if (keys.length > 0) {
    const res = await server.request("/add_bulk", { method: "POST", json: { keys } });
    assert.equal(res.status, 200);
  }
  return server;
}

async function rejection(promise: Promise<unknown>): Promise<KeyUnavailableError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyUnavailableError, `expected KeyUnavailableError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to reject");
}

const generous = { rpm: "1000", rpd: "100000", tpm: "100000" } satisfies ServeFlags;

describe("client against the real server", () => {
  test("getKey returns the key and its id; the cache window is 500 ms", async (t) => {
    const server = await realServer(generous, KEYS);
    t.after(() => server.stop());
    let now = 0;
    const client = createClient({ baseUrl: server.url, now: () => now });

    const first = await client.getKey();
    assert.equal(first.apiKey, KEYS[0]);
    assert.match(first.id, /^[A-Za-z0-9_-]{12}$/);
    now = 499;
    assert.equal(await client.getApiKey(), KEYS[0]);
    now = 500;
    assert.equal(await client.getApiKey(), KEYS[1]);
  });

  test("50 concurrent calls take one key from the server", async (t) => {
    const server = await realServer(generous, KEYS);
    t.after(() => server.stop());
    let now = 0;
    const client = createClient({ baseUrl: server.url, now: () => now });

    const keys = await Promise.all(Array.from({ length: 50 }, () => client.getApiKey()));
    assert.deepEqual(new Set(keys), new Set([KEYS[0]]));
    now = 500;
    assert.equal(await client.getApiKey(), KEYS[1]); // KEYS[0] was handed out exactly once
  });

  test("cacheMs: 0 asks the server every time; modes have separate entries", async (t) => {
    const server = await realServer(generous, KEYS);
    t.after(() => server.stop());
    const uncached = createClient({ baseUrl: server.url, cacheMs: 0 });
    assert.deepEqual(
      [await uncached.getApiKey(), await uncached.getApiKey(), await uncached.getApiKey()],
      KEYS,
    );

    const cached = createClient({ baseUrl: server.url, now: () => 0 });
    const auto = await cached.getApiKey("auto");
    const random = await cached.getApiKey("random");
    assert.equal(auto, KEYS[0]);
    assert.ok(KEYS.includes(random));
    assert.equal(await cached.getApiKey("auto"), auto);
    assert.equal(await cached.getApiKey("random"), random);
  });

  test("the client token is accepted; a wrong or missing one is a 401", async (t) => {
    const server = await realServer({ ...generous, clientToken: [CLIENT_TOKEN] }, KEYS);
    t.after(() => server.stop());

    const good = createClient({ baseUrl: server.url, token: CLIENT_TOKEN });
    assert.equal(await good.getApiKey(), KEYS[0]);

    for (const token of ["wrong-token-for-tests-0001", ""]) {
      const error = await rejection(createClient({ baseUrl: server.url, token }).getApiKey());
      assert.equal(error.status, 401);
      assert.equal(error.code, "unauthorized");
      assert.equal(error.retryAfter, undefined);
      if (token !== "") assert.doesNotMatch(error.message, new RegExp(token));
    }
  });

  test("503 on an empty pool carries retryAfter; the failure is not cached", async (t) => {
    const server = await realServer(generous, []);
    t.after(() => server.stop());
    const client = createClient({ baseUrl: server.url, now: () => 0 });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 503);
    assert.equal(error.code, "no_key_available");
    assert.equal(error.retryAfter, 60);
    assert.match(error.message, /no key is available right now/);

    const added = await server.request("/add_bulk", { method: "POST", json: { keys: KEYS } });
    assert.equal(added.status, 200);
    assert.equal(await client.getApiKey(), KEYS[0]);
  });

  test("429 at the global cap carries retryAfter from Retry-After", async (t) => {
    const server = await realServer({ rpm: "10", tpm: "1" }, KEYS); // clock at hh:mm:30
    t.after(() => server.stop());
    const client = createClient({ baseUrl: server.url, cacheMs: 0 });

    assert.equal(await client.getApiKey(), KEYS[0]);
    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 429);
    assert.equal(error.code, "global_cap");
    assert.equal(error.retryAfter, 30);
    assert.equal(await client.getApiKey("auto", { fallbackKey: "sk-fallback" }), "sk-fallback");
  });

  test("an unknown mode is a 400", async (t) => {
    const server = await realServer(generous, KEYS);
    t.after(() => server.stop());

    const error = await rejection(
      createClient({ baseUrl: server.url }).getApiKey("fast" as "auto"),
    );
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_mode");
  });
});
