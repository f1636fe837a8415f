import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

// Each case is a counterexample tests/fuzz/routes.fuzz.test.ts found (or, for
// the emptied pool, one its per-pool count model predicts), kept small.

async function post(server: TestServer, path: string, json?: unknown) {
  const res = await server.request(path, { method: "POST", ...(json ? { json } : {}) });
  return { status: res.status, body: await res.json() };
}

async function next(server: TestServer, query = "") {
  const res = await server.request(`/next${query}`);
  return { status: res.status, body: await res.json() };
}

async function stats(server: TestServer) {
  return (await server.request("/stats")).json();
}

describe("fuzz regressions", () => {
  it("a Disabled key stays Disabled when deactivated, and its cooldown does not bring it back", async () => {
    const clock = new FakeClock();
    const server = await startTestServer({ cooldown: "60" }, { clock: clock.now });
    try {
      const { body: key } = await post(server, "/add", { key: "sk-fz-regress-invalid-0" });
      assert.equal((await post(server, "/report", { id: key.id, outcome: "invalid" })).status, 200);
      const deactivated = await post(server, `/deactivate/${key.id}`);
      assert.deepEqual([deactivated.status, deactivated.body.status], [200, "Disabled"]);
      assert.equal(deactivated.body.available_at, null);
      clock.advance(61_000);
      assert.equal((await next(server)).body.code, "no_key_available");
      const back = await post(server, `/reactivate/${key.id}`);
      assert.equal(back.body.status, "Active", "only a reactivate brings it back");
      assert.equal((await next(server)).body.id, key.id);
    } finally {
      await server.stop();
    }
  });

  it("refuses an expires_at whose date or time does not exist instead of rolling it over", async () => {
    const server = await startTestServer();
    try {
      for (const expires_at of [
        "2026-02-30T00:00:00Z",
        "2026-04-31T12:00:00Z",
        "2026-01-15T24:00:00Z",
        "2025-02-29T00:00:00+01:00",
      ]) {
        const single = await post(server, "/add", { key: "sk-fz-regress-date-00", expires_at });
        assert.deepEqual([single.status, single.body.code], [400, "invalid_body"], expires_at);
        const bulk = await post(server, "/add_bulk", { keys: [], expires_at });
        assert.deepEqual([bulk.status, bulk.body.code], [400, "invalid_body"], expires_at);
      }
      assert.deepEqual(await (await server.request("/keys")).json(), []);
      const leapDay = await post(server, "/add", {
        key: "sk-fz-regress-date-00",
        expires_at: "2028-02-29T23:59:59.5+01:00",
      });
      assert.deepEqual(
        [leapDay.status, leapDay.body.expires_at],
        [201, "2028-02-29T22:59:59.500Z"],
      );
    } finally {
      await server.stop();
    }
  });

  it("/stats does not count an expired key as available before a /next meets it", async () => {
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const server = await startTestServer({}, { clock: clock.now });
    try {
      await post(server, "/add", { key: "sk-fz-regress-lasting-0" });
      await post(server, "/add", {
        key: "sk-fz-regress-expiring",
        expires_at: "2026-01-15T10:01:01Z",
      });
      clock.advance(3_600_000);
      const { available_keys, expired_keys, pools } = await stats(server);
      assert.deepEqual([available_keys, expired_keys], [1, 1]);
      assert.equal(pools.default.available_keys, 1);
    } finally {
      await server.stop();
    }
  });

  it("a pool emptied and refilled within the minute keeps its count against tpm", async () => {
    const clock = new FakeClock();
    const server = await startTestServer({ tpm: "2", rpm: "5" }, { clock: clock.now });
    try {
      const { body: first } = await post(server, "/add", {
        key: "sk-fz-team-000001",
        pool: "team",
      });
      assert.equal((await next(server, "?pool=team")).status, 200);
      assert.equal((await next(server, "?pool=team")).status, 200);
      await server.request(`/delete/${first.id}`, { method: "DELETE" });
      assert.equal((await next(server, "?pool=team")).body.code, "pool_not_found");
      await post(server, "/add", { key: "sk-fz-team-000002", pool: "team" });
      assert.equal((await next(server, "?pool=team")).body.code, "global_cap");
      assert.equal((await stats(server)).pools.team.dispensed_this_minute, 2);
      clock.advance(60_000);
      assert.equal((await next(server, "?pool=team")).status, 200, "a new minute, a new budget");
    } finally {
      await server.stop();
    }
  });
});
