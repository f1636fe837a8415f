import assert from "node:assert/strict";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { PersistError } from "../../src/store/key-store.ts";
import { request } from "../helpers/test-server.ts";
import { type FakeProvider, startFakeProvider } from "./fake-provider.ts";
import { ADMIN_TOKEN, type KeyTestApp, type StoredKey, startKeyTestApp } from "./key-test-app.ts";

const GOOD: StoredKey = { id: "key-good", secret: "sk-route-good-000000000000", pool: "openai" };
const BAD: StoredKey = { id: "key-bad", secret: "sk-route-bad-0000000000000", pool: "openai" };
const LIMITED: StoredKey = {
  id: "key-limited",
  secret: "sk-route-limited-000000000",
  pool: "openai",
};
const CLAUDE: StoredKey = { id: "key-claude", secret: "sk-ant-route-000000000000", pool: "claude" };
const LOOSE: StoredKey = { id: "key-loose", secret: "sk-route-loose-00000000000", pool: "default" };
const AZURE: StoredKey = { id: "key-azure", secret: "route-azure-0000000000000", pool: "azure" };
const KEYS = [GOOD, BAD, LIMITED, CLAUDE, LOOSE, AZURE];

let fake: FakeProvider;
let app: KeyTestApp;

before(async () => {
  fake = await startFakeProvider({
    [GOOD.secret]: { answer: "ok" },
    [LIMITED.secret]: { answer: "rate_limited", retryAfter: "30" },
    [CLAUDE.secret]: { answer: "ok" },
  });
});
after(() => fake.close());

beforeEach(async () => {
  app = await startKeyTestApp(KEYS, {
    openai: { provider: "openai", baseUrl: fake.base.openai },
    claude: { provider: "anthropic", baseUrl: fake.base.anthropic },
    // No base_url: azure-openai has no default.
    azure: { provider: "azure-openai" },
  });
});
afterEach(() => app.close());

async function testRoute(ref: string) {
  const response = await request(app.url, `/keys/${encodeURIComponent(ref)}/test`, {
    method: "POST",
    token: ADMIN_TOKEN,
  });
  const text = await response.text();
  for (const key of KEYS) assert.ok(!text.includes(key.secret), text);
  return { status: response.status, body: JSON.parse(text) };
}

describe("the provider's answer is tested, recorded and returned", () => {
  test("200 from the provider: ok", async () => {
    const host = new URL(fake.base.openai).host;
    assert.deepEqual(await testRoute(GOOD.id), {
      status: 200,
      body: {
        id: GOOD.id,
        outcome: "ok",
        status: 200,
        retry_after: null,
        message: `${host} accepted the key (HTTP 200)`,
      },
    });
    assert.deepEqual(app.reports, [[GOOD.id, "ok", null]]);
    assert.equal(fake.requests.at(-1)?.headers.authorization, `Bearer ${GOOD.secret}`);
  });

  test("401 from the provider: invalid, still a 200 answer (the test itself worked)", async () => {
    const { status, body } = await testRoute(BAD.id);
    assert.equal(status, 200);
    assert.deepEqual([body.outcome, body.status, body.retry_after], ["invalid", 401, null]);
    assert.deepEqual(app.reports, [[BAD.id, "invalid", null]]);
  });

  test("429 with Retry-After: rate_limited, the wait recorded in ms and answered in seconds", async () => {
    const { body } = await testRoute(LIMITED.id);
    assert.deepEqual([body.outcome, body.status, body.retry_after], ["rate_limited", 429, 30]);
    assert.deepEqual(app.reports, [[LIMITED.id, "rate_limited", 30_000]]);
  });

  test("the pool's provider decides how the key is sent", async () => {
    const { body } = await testRoute(CLAUDE.id);
    assert.equal(body.outcome, "ok");
    const seen = fake.requests.at(-1);
    assert.equal(seen?.url, "/anthropic/v1/models");
    assert.equal(seen?.headers["x-api-key"], CLAUDE.secret);
  });

  test("a key string works as the reference, as on every :key route", async () => {
    const { body } = await testRoute(GOOD.secret);
    assert.deepEqual([body.id, body.outcome], [GOOD.id, "ok"]);
    assert.deepEqual(app.reports, [[GOOD.id, "ok", null]]);
  });
});

describe("refusals: nothing is sent to a provider and nothing is recorded", () => {
  const refusals: [string, string, number, Record<string, unknown>][] = [
    ["an unknown key", "no-such-key", 404, { code: "key_not_found" }],
    ["a key whose pool has no provider", LOOSE.id, 409, { code: "no_provider", pool: "default" }],
    [
      "a provider that cannot make a request",
      AZURE.id,
      409,
      {
        code: "provider_misconfigured",
        pool: "azure",
        error: "azure-openai has no default base URL; set base_url",
      },
    ],
  ];
  for (const [name, ref, status, expected] of refusals) {
    test(name, async () => {
      const before = fake.requests.length;
      const answer = await testRoute(ref);
      assert.equal(answer.status, status);
      assert.deepEqual({ ...answer.body, ...expected }, answer.body);
      assert.equal(fake.requests.length, before);
      assert.deepEqual(app.reports, []);
    });
  }
});

test("a report that cannot be saved is the answer: 503 persist_failed", async () => {
  const failing = await startKeyTestApp(
    KEYS,
    {
      openai: { provider: "openai", baseUrl: fake.base.openai },
    },
    async () => {
      throw new PersistError("could not save keys.json");
    },
  );
  try {
    const response = await request(failing.url, `/keys/${GOOD.id}/test`, {
      method: "POST",
      token: ADMIN_TOKEN,
    });
    assert.equal(response.status, 503);
    assert.equal((await response.json()).code, "persist_failed");
  } finally {
    await failing.close();
  }
});
