import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { makeTempDir, startTestServer } from "../helpers/test-server.ts";
import { startFakeProvider } from "../providers/fake-provider.ts";

const GOOD = "sk-provider-good-0001";
const REVOKED = "sk-provider-revoked-01";
const LIMITED = "sk-provider-limited-01";

describe("POST /keys/:key/test against the pool's provider", () => {
  it("calls the provider with the key and records 200, 401 and 429 as a report would", async () => {
    const provider = await startFakeProvider({
      [GOOD]: { answer: "ok" },
      [REVOKED]: { answer: "invalid" },
      [LIMITED]: { answer: "rate_limited", retryAfter: "42" },
    });
    const dir = await makeTempDir();
    const config = join(dir, "pools.json");
    await writeFile(
      config,
      JSON.stringify({ pools: { openai: { provider: "openai", base_url: provider.base.openai } } }),
    );
    const server = await startTestServer({ config }, {}, dir);
    try {
      const add = await server.request("/add_bulk", {
        method: "POST",
        json: { keys: [GOOD, REVOKED, LIMITED], pool: "openai" },
      });
      const ids: string[] = (await add.json()).added.map((k: { id: string }) => k.id);
      const answers = [];
      for (const id of ids) {
        const res = await server.request(`/keys/${id}/test`, { method: "POST" });
        answers.push([res.status, (await res.json()).outcome]);
      }
      assert.deepEqual(answers, [
        [200, "ok"],
        [200, "invalid"],
        [200, "rate_limited"],
      ]);
      assert.deepEqual(
        provider.requests.map((r) => r.headers.authorization),
        [`Bearer ${GOOD}`, `Bearer ${REVOKED}`, `Bearer ${LIMITED}`],
      );
      const keys = await (await server.request("/keys?pool=openai")).json();
      assert.deepEqual(
        keys.map((k: { status: string; outcomes: { ok: number } }) => [k.status, k.outcomes.ok]),
        [
          ["Active", 1],
          ["Disabled", 0],
          ["Active", 0],
        ],
      );
      assert.ok(keys[2].rest_until, "the rate-limited key rests");
      const next = await (await server.request("/next?pool=openai")).json();
      assert.equal(next.api_key, GOOD);
    } finally {
      await server.stop();
      await provider.close();
    }
  });

  it("answers 409 for a key whose pool names no provider, and 404 for an unknown key", async () => {
    const server = await startTestServer();
    try {
      const add = await server.request("/add", { method: "POST", json: { key: GOOD } });
      const { id } = await add.json();
      const res = await server.request(`/keys/${id}/test`, { method: "POST" });
      assert.deepEqual([res.status, (await res.json()).code], [409, "no_provider"]);
      assert.equal((await server.request("/keys/nope/test", { method: "POST" })).status, 404);
    } finally {
      await server.stop();
    }
  });
});
