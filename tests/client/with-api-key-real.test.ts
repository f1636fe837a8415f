import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { createClient } from "../../src/client/index.ts";
import { startTestServer } from "../helpers/test-server.ts";

const CLIENT_TOKEN = "client-token-with-api-key-0001";
const LIMITED = "sk-with-limited-000001";
const REVOKED = "sk-with-revoked-000001";
const GOOD = "sk-with-good-000000001";

/** An OpenAI-style provider: 429 with Retry-After for one key, 401 for another, 200 for the rest. */
async function fakeProvider() {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const key = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    seen.push(key);
    res.setHeader("content-type", "application/json");
    if (key === LIMITED) {
      res.writeHead(429, { "retry-after": "7" }).end('{"error":{"type":"rate_limit_exceeded"}}');
    } else if (key === REVOKED) {
      res.writeHead(401).end('{"error":{"code":"invalid_api_key"}}');
    } else {
      res.end('{"object":"list","data":[]}');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/models`;
  return { url, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

describe("withApiKey against the real dispenser", () => {
  it("rotates past a rate-limited key and a revoked key to a good one in one call, reporting each", async () => {
    const dispenser = await startTestServer({ clientToken: [CLIENT_TOKEN], rpm: "100" });
    const provider = await fakeProvider();
    try {
      await dispenser.request("/add_bulk", {
        method: "POST",
        json: { keys: [LIMITED, REVOKED, GOOD] },
      });
      const client = createClient({ baseUrl: dispenser.url, token: CLIENT_TOKEN });
      const res = await client.withApiKey(
        (key) => fetch(provider.url, { headers: { authorization: `Bearer ${key}` } }),
        {
          retries: 2,
        },
      );
      assert.equal(res.status, 200);
      assert.deepEqual(provider.seen, [LIMITED, REVOKED, GOOD]);

      const keys = await (await dispenser.request("/keys")).json();
      const byPreview = (i: number) =>
        keys[i] as { status: string; rest_until: string | null; outcomes: Record<string, number> };
      assert.deepEqual(byPreview(0).outcomes, { ok: 0, rate_limited: 1, invalid: 0, error: 0 });
      assert.ok(byPreview(0).rest_until, "the 429 key rests");
      assert.equal(byPreview(1).status, "Disabled");
      assert.deepEqual(byPreview(2).outcomes, { ok: 1, rate_limited: 0, invalid: 0, error: 0 });
      // the rested and disabled keys are out of rotation: the next key is the good one
      const next = await (await dispenser.request("/next", { token: CLIENT_TOKEN })).json();
      assert.equal(next.api_key, GOOD);
    } finally {
      await dispenser.stop();
      await provider.close();
    }
  });
});

describe("withApiKey when the caller cancels", () => {
  it("rethrows the abort and reports nothing: a cancelled call says nothing against the key", async () => {
    const dispenser = await startTestServer({ clientToken: [CLIENT_TOKEN], rpm: "100" });
    // A provider that never answers: only the caller's abort ends the call.
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/v1/models`;
    try {
      await dispenser.request("/add", { method: "POST", json: { key: GOOD } });
      const client = createClient({ baseUrl: dispenser.url, token: CLIENT_TOKEN });
      const cancel = new AbortController();
      const call = client.withApiKey((key) =>
        fetch(url, { headers: { authorization: `Bearer ${key}` }, signal: cancel.signal }),
      );
      cancel.abort();
      await assert.rejects(call, { name: "AbortError" });

      // A class named like the SDKs' abort error is recognised the same way.
      class APIUserAbortError extends Error {}
      await assert.rejects(
        client.withApiKey(() => {
          throw new APIUserAbortError("Request was aborted.");
        }),
        APIUserAbortError,
      );
      const [key] = await (await dispenser.request("/keys")).json();
      assert.deepEqual(key.outcomes, { ok: 0, rate_limited: 0, invalid: 0, error: 0 });

      // A timeout is the provider's failure, not the caller's choice: it is reported as an error.
      await assert.rejects(
        client.withApiKey((k) =>
          fetch(url, {
            headers: { authorization: `Bearer ${k}` },
            signal: AbortSignal.timeout(50),
          }),
        ),
        { name: "TimeoutError" },
      );
      const [after] = await (await dispenser.request("/keys")).json();
      assert.deepEqual(after.outcomes, { ok: 0, rate_limited: 0, invalid: 0, error: 1 });
    } finally {
      hanging.closeAllConnections();
      await new Promise((resolve) => hanging.close(resolve));
      await dispenser.stop();
    }
  });
});
