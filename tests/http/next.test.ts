import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ServeFlags } from "../../src/config.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const KEYS = ["sk-alpha-00000000", "sk-bravo-00000000", "sk-charlie-000000"];

async function serverWith(
  flags: ServeFlags,
  keys: string[],
  clock: FakeClock,
): Promise<TestServer> {
  const server = await startTestServer(flags, { clock: clock.now });
  if (keys.length > 0) {
    const res = await server.request("/add_bulk", { method: "POST", json: { keys } });
    assert.equal(res.status, 200);
  }
  return server;
}

async function next(server: TestServer, mode?: string) {
  const res = await server.request(mode ? `/next?mode=${mode}` : "/next");
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

describe("GET /next", () => {
  const clock = new FakeClock("2026-01-15T10:00:10.000Z");
  let server: TestServer;
  before(async () => {
    server = await serverWith({ rpm: "2", rpd: "5", tpm: "100" }, KEYS, clock);
  });
  after(() => server.stop());

  it("hands out keys least recently used first, with their ids", async () => {
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await next(server)).body.api_key);
    assert.deepEqual(got, [KEYS[0], KEYS[1], KEYS[2], KEYS[0]]);
    const { body } = await next(server, "auto");
    assert.equal(body.api_key, KEYS[1]);
    assert.match(body.id, /^[A-Za-z0-9_-]{12}$/);
  });

  it("answers 503 with Retry-After to the next minute once every key is at its rpm", async () => {
    await next(server); // KEYS[2] reaches 2 this minute: all three are now at rpm
    const refused = await next(server);
    assert.equal(refused.status, 503);
    assert.equal(refused.retryAfter, "50");
    assert.deepEqual(refused.body, {
      error: "no key is available right now",
      code: "no_key_available",
      retry_after: 50,
    });
  });

  it("serves again from the next UTC minute", async () => {
    clock.set("2026-01-15T10:01:00.000Z");
    assert.equal((await next(server)).status, 200);
  });

  it("refuses an unknown mode, a repeated mode and an empty mode with 400", async () => {
    for (const query of ["mode=fast", "mode=auto&mode=random", "mode="]) {
      const res = await server.request(`/next?${query}`);
      assert.equal(res.status, 400, query);
      assert.equal((await res.json()).code, "invalid_mode");
    }
  });

  it("HEAD is refused and spends no key", async () => {
    const before = await (await server.request("/stats")).json();
    const res = await server.request("/next", { method: "HEAD" });
    assert.equal(res.status, 405);
    const after = await (await server.request("/stats")).json();
    assert.equal(after.dispensed_today, before.dispensed_today);
  });

  it("marks the answer as not cacheable", async () => {
    clock.set("2026-01-15T10:02:00.000Z");
    const res = await server.request("/next");
    assert.equal(res.headers.get("cache-control"), "no-store");
  });
});

describe("GET /next limits at their boundaries", () => {
  it("gives each key exactly rpd per UTC day, then serves again after midnight", async () => {
    const clock = new FakeClock("2026-01-15T23:50:00.000Z");
    const server = await serverWith({ rpm: "10", rpd: "3" }, [KEYS[0] as string], clock);
    try {
      for (let i = 0; i < 3; i++) {
        clock.advance(60_000);
        assert.equal((await next(server)).status, 200);
      }
      clock.set("2026-01-15T23:59:59.000Z");
      const refused = await next(server);
      assert.equal(refused.status, 503);
      assert.equal(refused.retryAfter, "1");
      clock.set("2026-01-16T00:00:00.000Z");
      assert.equal((await next(server)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it("answers 429 once the global cap is reached, before 503, with Retry-After to the next minute", async () => {
    const clock = new FakeClock("2026-01-15T10:00:30.500Z");
    const server = await serverWith({ rpm: "1", tpm: "2" }, KEYS, clock);
    try {
      assert.equal((await next(server)).status, 200);
      assert.equal((await next(server)).status, 200);
      const capped = await next(server);
      assert.equal(capped.status, 429);
      assert.equal(capped.retryAfter, "30");
      assert.deepEqual(capped.body, {
        error: "the per-minute cap across all keys is reached",
        code: "global_cap",
        retry_after: 30,
      });
      clock.set("2026-01-15T10:01:00.000Z");
      assert.equal((await next(server)).status, 200);
      assert.equal((await next(server)).status, 200);
      // both cap and keys exhausted: the cap is reported
      assert.equal((await next(server)).status, 429);
    } finally {
      await server.stop();
    }
  });

  it("answers 503 with Retry-After 60 on an empty pool", async () => {
    const server = await serverWith({}, [], new FakeClock());
    try {
      const refused = await next(server);
      assert.equal(refused.status, 503);
      assert.equal(refused.retryAfter, "60");
    } finally {
      await server.stop();
    }
  });

  it("spreads mode=random over the eligible keys", async () => {
    const clock = new FakeClock();
    const server = await serverWith({ rpm: "1000", rpd: "1000", tpm: "10000" }, KEYS, clock);
    try {
      const counts = new Map<string, number>();
      for (let i = 0; i < 300; i++) {
        const { body } = await next(server, "random");
        counts.set(body.api_key, (counts.get(body.api_key) ?? 0) + 1);
      }
      assert.equal(counts.size, 3);
      for (const [key, n] of counts) assert.ok(n > 60 && n < 140, `${key}: ${n} of 300`);
    } finally {
      await server.stop();
    }
  });

  it("never hands out a deactivated key, and brings it back when the cooldown ends", async () => {
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const server = await serverWith({ rpm: "100", cooldown: "300" }, [KEYS[0] as string], clock);
    try {
      const { id } = (await next(server)).body;
      assert.equal((await server.request(`/deactivate/${id}`, { method: "POST" })).status, 200);
      clock.set("2026-01-15T10:04:59.999Z");
      const resting = await next(server);
      assert.equal(resting.status, 503);
      assert.equal(resting.retryAfter, "1");
      clock.set("2026-01-15T10:05:00.000Z");
      assert.equal((await next(server)).body.id, id);
      const [listed] = await (await server.request("/keys")).json();
      assert.equal(listed.status, "Active");
      assert.equal(listed.deactivated_at, null);
    } finally {
      await server.stop();
    }
  });
});

describe("concurrent GET /next", () => {
  it("500 concurrent calls against 5 keys with rpm=3 give exactly 15 keys and 485 answers of 503", async () => {
    const keys = Array.from({ length: 5 }, (_, i) => `sk-concurrent-${i}-0000`);
    const server = await serverWith({ rpm: "3", rpd: "1000" }, keys, new FakeClock());
    try {
      const statuses = await Promise.all(
        Array.from({ length: 500 }, () => server.request("/next").then((res) => res.status)),
      );
      assert.equal(statuses.filter((s) => s === 200).length, 15);
      assert.equal(statuses.filter((s) => s === 503).length, 485);
      const listed: { usage: { requests_this_minute: number } }[] = await (
        await server.request("/keys")
      ).json();
      assert.deepEqual(
        listed.map((k) => k.usage.requests_this_minute),
        [3, 3, 3, 3, 3],
      );
    } finally {
      await server.stop();
    }
  });
});
