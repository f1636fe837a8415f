import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const T0 = "2026-01-15T10:00:00.000Z";

async function serverWithKeys(keys: string[], clock: FakeClock, flags = {}, dir?: string) {
  const server = await startTestServer(
    { rpm: "1000", rpd: "100000", cooldown: "60", ...flags },
    { clock: clock.now },
    dir,
  );
  const res = await server.request("/add_bulk", { method: "POST", json: { keys } });
  const ids: string[] = (await res.json()).added.map((k: { id: string }) => k.id);
  return { server, ids };
}

async function next(server: TestServer) {
  const res = await server.request("/next");
  return { status: res.status, retryAfter: res.headers.get("retry-after"), body: await res.json() };
}

async function report(server: TestServer, json: Record<string, unknown>) {
  const res = await server.request("/report", { method: "POST", json });
  return { status: res.status, body: await res.json() };
}

type ListedKey = Record<string, unknown> & { id: string; outcomes: Record<string, number> };

async function keyById(server: TestServer, id: string): Promise<ListedKey> {
  const keys: ListedKey[] = await (await server.request("/keys")).json();
  return keys.find((k) => k.id === id) as ListedKey;
}

describe("outcome reports", () => {
  it("rate_limited with retry_after rests the key until then, then probes it half-open", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-a-000000"], clock);
    const [id] = ids as [string];
    try {
      assert.equal(
        (await report(server, { id, outcome: "rate_limited", retry_after: 20 })).status,
        200,
      );
      const resting = await next(server);
      assert.equal(resting.status, 503);
      assert.equal(resting.retryAfter, "20");
      assert.equal((await keyById(server, id)).rest_until, "2026-01-15T10:00:20.000Z");

      clock.set("2026-01-15T10:00:20.000Z");
      const probe = await next(server);
      assert.equal(probe.status, 200);
      assert.equal(probe.body.probe, true);
      // while the probe's outcome is awaited, the key is not handed out again
      assert.equal((await next(server)).status, 503);
      await report(server, { id, outcome: "ok" });
      const back = await next(server);
      assert.deepEqual([back.status, back.body.probe], [200, false]);
      assert.equal((await next(server)).status, 200, "full rotation again");
    } finally {
      await server.stop();
    }
  });

  it("without retry_after rests for the cooldown, doubling while probes fail, reset by ok", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-b-000000"], clock, { cooldown: "10" });
    const [id] = ids as [string];
    const restSeconds = async () => Number((await next(server)).retryAfter);
    try {
      await report(server, { id, outcome: "rate_limited" });
      assert.equal(await restSeconds(), 10);
      clock.advance(10_000);
      assert.equal((await next(server)).body.probe, true);
      await report(server, { id, outcome: "rate_limited" });
      assert.equal(await restSeconds(), 20, "a failed probe rests twice as long");
      clock.advance(20_000);
      await next(server);
      await report(server, { id, outcome: "rate_limited" });
      assert.equal(await restSeconds(), 40);
      clock.advance(40_000);
      await next(server);
      await report(server, { id, outcome: "ok" });
      await report(server, { id, outcome: "rate_limited" });
      assert.equal(await restSeconds(), 10, "an ok resets the backoff");
    } finally {
      await server.stop();
    }
  });

  it("a probe nobody reports on counts as good after the probe timeout", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-c-000000"], clock);
    try {
      await report(server, { id: ids[0], outcome: "rate_limited", retry_after: 5 });
      clock.advance(5_000);
      assert.equal((await next(server)).body.probe, true);
      const waiting = await next(server);
      assert.equal(waiting.status, 503);
      assert.equal(waiting.retryAfter, "60", "the default probe timeout");
      clock.advance(60_000);
      const back = await next(server);
      assert.deepEqual([back.status, back.body.probe], [200, false]);
    } finally {
      await server.stop();
    }
  });

  it("invalid disables the key: no cooldown brings it back, a restart neither; reactivate does", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-d-000000"], clock);
    const [id] = ids as [string];
    await report(server, { id, outcome: "invalid" });
    clock.advance(7 * 86_400_000);
    const refused = await next(server);
    assert.deepEqual([refused.status, refused.retryAfter], [503, "60"]);
    assert.equal((await keyById(server, id)).status, "Disabled");
    await server.close();

    const again = await startTestServer({ cooldown: "60" }, { clock: clock.now }, server.dir);
    try {
      assert.equal((await keyById(again, id)).status, "Disabled");
      assert.equal((await again.request("/next")).status, 503);
      assert.equal((await again.request(`/reactivate/${id}`, { method: "POST" })).status, 200);
      assert.equal((await again.request("/next")).status, 200);
    } finally {
      await again.stop();
    }
  });

  it("errors rest the key after three in a row; an ok in between clears the streak", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-e-000000"], clock);
    const [id] = ids as [string];
    try {
      await report(server, { id, outcome: "error" });
      await report(server, { id, outcome: "error" });
      await report(server, { id, outcome: "ok" });
      await report(server, { id, outcome: "error" });
      await report(server, { id, outcome: "error" });
      assert.equal((await next(server)).status, 200, "a streak of two");
      assert.equal((await keyById(server, id)).error_streak, 2);
      await report(server, { id, outcome: "error" });
      const resting = await next(server);
      assert.deepEqual([resting.status, resting.retryAfter], [503, "30"]);
      const key = await keyById(server, id);
      assert.deepEqual(key.outcomes, { ok: 1, rate_limited: 0, invalid: 0, error: 5 });
    } finally {
      await server.stop();
    }
  });

  it("a shared quota rests the whole pool until the earliest retry, and /stats says so", async () => {
    const clock = new FakeClock(T0);
    const keys = [
      "sk-shared-1-00000",
      "sk-shared-2-00000",
      "sk-shared-3-00000",
      "sk-shared-4-00000",
    ];
    const { server, ids } = await serverWithKeys(keys, clock);
    try {
      await report(server, { id: ids[0], outcome: "rate_limited", retry_after: 30 });
      assert.equal((await next(server)).status, 200, "one key limited: the others serve");
      clock.advance(2_000);
      await report(server, { id: ids[1], outcome: "rate_limited", retry_after: 25 });
      const refused = await next(server);
      assert.equal(refused.status, 503);
      assert.equal(refused.body.code, "pool_rate_limited");
      assert.equal(refused.retryAfter, "25", "until the earliest Retry-After of the reports");
      const stats = await (await server.request("/stats")).json();
      assert.equal(stats.pools.default.resting_until, "2026-01-15T10:00:27.000Z");
      assert.equal(stats.pools.default.outcomes.rate_limited, 2);
      clock.set("2026-01-15T10:00:27.000Z");
      assert.equal((await next(server)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it("reports by key string work; unknown keys are 404 and malformed reports 400, changing nothing", async () => {
    const clock = new FakeClock(T0);
    const { server, ids } = await serverWithKeys(["sk-report-f-000000"], clock);
    try {
      assert.equal(
        (await report(server, { key: "sk-report-f-000000", outcome: "ok" })).status,
        200,
      );
      assert.equal(
        (await report(server, { id: "nope", outcome: "ok" })).body.code,
        "key_not_found",
      );
      for (const bad of [
        {},
        { outcome: "ok" },
        { id: ids[0], key: "sk-report-f-000000", outcome: "ok" },
        { id: ids[0], outcome: "great" },
        { id: ids[0], outcome: "rate_limited", retry_after: -1 },
        { id: ids[0], outcome: "rate_limited", retry_after: "10" },
        { id: 5, outcome: "ok" },
      ]) {
        const answer = await report(server, bad);
        assert.deepEqual(
          [answer.status, answer.body.code],
          [400, "invalid_report"],
          JSON.stringify(bad),
        );
      }
      const key = await keyById(server, ids[0] as string);
      assert.deepEqual(key.outcomes, { ok: 1, rate_limited: 0, invalid: 0, error: 0 });
      assert.equal((await next(server)).status, 200);
    } finally {
      await server.stop();
    }
  });

  it("needs a client (or admin) token when client tokens are configured", async () => {
    const server = await startTestServer({ clientToken: ["client-token-0123456789"] });
    try {
      const res = await server.request("/report", {
        method: "POST",
        json: { id: "x", outcome: "ok" },
      });
      assert.equal(res.status, 401);
      const authed = await server.request("/report", {
        method: "POST",
        json: { id: "x", outcome: "ok" },
        token: "client-token-0123456789",
      });
      assert.equal(authed.status, 404);
    } finally {
      await server.stop();
    }
  });
});
