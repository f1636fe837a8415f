import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

async function addKey(server: TestServer, key: string): Promise<string> {
  const res = await server.request("/add", { method: "POST", json: { key } });
  return (await res.json()).id;
}

/** Resolves once `count` requests wait in the default pool's line. */
async function lineReaches(server: TestServer, count: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (server.waiting("default") !== count) {
    if (Date.now() > deadline) throw new Error(`line never reached ${count}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe("GET /next?wait=", () => {
  it("holds requests while no key is free and serves them in arrival order as keys free up", async () => {
    const server = await startTestServer({ rpm: "1" }, { clock: new FakeClock().now });
    try {
      const answers: string[] = [];
      const waiting = ["first", "second", "third"].map(async (who, i) => {
        await lineReaches(server, i);
        const res = await server.request("/next?wait=20");
        answers.push(`${who}:${(await res.json()).api_key}`);
        return res.status;
      });
      await lineReaches(server, 3);
      await addKey(server, "sk-wait-a-00000000");
      await lineReaches(server, 2);
      await addKey(server, "sk-wait-b-00000000");
      await lineReaches(server, 1);
      await addKey(server, "sk-wait-c-00000000");
      assert.deepEqual(await Promise.all(waiting), [200, 200, 200]);
      assert.deepEqual(answers, [
        "first:sk-wait-a-00000000",
        "second:sk-wait-b-00000000",
        "third:sk-wait-c-00000000",
      ]);
    } finally {
      await server.stop();
    }
  });

  it("a waiting client that disconnects leaves the line at once, and the key goes to the next", async () => {
    const server = await startTestServer({ rpm: "1" }, { clock: new FakeClock().now });
    try {
      const url = new URL("/next?wait=20", server.url);
      const quitter = httpRequest(url);
      quitter.on("error", () => {});
      quitter.end();
      await lineReaches(server, 1);
      const stayer = server.request("/next?wait=20");
      await lineReaches(server, 2);
      quitter.destroy();
      await lineReaches(server, 1);
      const id = await addKey(server, "sk-wait-d-00000000");
      const res = await stayer;
      assert.equal((await res.json()).id, id);
      const [key] = await (await server.request("/keys")).json();
      assert.equal(key.usage.requests_this_minute, 1, "dispensed once, to the one still there");
    } finally {
      await server.stop();
    }
  });

  it("when the wait ends with no key, answers the usual 503 with Retry-After", async () => {
    const clock = new FakeClock("2026-01-15T10:00:45.000Z");
    const server = await startTestServer({ rpm: "1" }, { clock: clock.now });
    try {
      await addKey(server, "sk-wait-e-00000000");
      await server.request("/next");
      const res = await server.request("/next?wait=0.05");
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "15");
      assert.equal(server.waiting("default"), 0);
    } finally {
      await server.stop();
    }
  });

  it("wakes a waiter when time alone frees a key (a rest ending)", async () => {
    const server = await startTestServer({ rpm: "100" });
    try {
      const id = await addKey(server, "sk-wait-f-00000000");
      await server.request("/report", {
        method: "POST",
        json: { id, outcome: "rate_limited", retry_after: 0.2 },
      });
      const res = await server.request("/next?wait=10");
      assert.equal(res.status, 200);
      assert.equal((await res.json()).probe, true);
    } finally {
      await server.stop();
    }
  });

  it("refuses a wait that is not a number of seconds", async () => {
    const server = await startTestServer();
    try {
      for (const bad of ["wait=-1", "wait=soon", "wait=1e3", "wait=1&wait=2"]) {
        const res = await server.request(`/next?${bad}`);
        assert.deepEqual([res.status, (await res.json()).code], [400, "invalid_wait"], bad);
      }
    } finally {
      await server.stop();
    }
  });

  it("is bounded by --max-wait (an hour asked, none allowed: answered at once)", async () => {
    const server = await startTestServer({ maxWait: "0" });
    try {
      const res = await server.request("/next?wait=3600");
      assert.equal(res.status, 503);
    } finally {
      await server.stop();
    }
  });
});
