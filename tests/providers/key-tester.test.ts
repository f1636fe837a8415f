import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  type KeyTestOptions,
  type KeyTestResult,
  testKey,
} from "../../src/providers/key-tester.ts";
import { PRESETS, type ProviderPreset } from "../../src/providers/presets.ts";
import { closedPortUrl, silentServer } from "../cli/run-cli.ts";
import { type FakeProvider, startFakeProvider } from "./fake-provider.ts";

const OK = "sk-test-ok-0000000000000000";
const LIMITED = "sk-test-limited-seconds-0000";
const LIMITED_UNTIL = "sk-test-limited-date-000000";
const LIMITED_VAGUE = "sk-test-limited-vague-00000";
const LIMITED_GARBLED = "sk-test-limited-garbled-000";
const DOWN = "sk-test-down-00000000000000";
const FORBIDDEN = "sk-test-forbidden-000000000";
const NOT_FOUND = "sk-test-not-found-000000000";
const BAD_REQUEST = "sk-test-bad-request-0000000";
const REDIRECTED = "sk-test-redirected-00000000";
const UNKNOWN = "sk-test-unknown-00000000000";
const LIMITED_GEMINI = "sk-test-limited-gemini-0000";
const LIMITED_BOTH = "sk-test-limited-both-000000";

// Whole seconds: an HTTP-date has no milliseconds.
const NOW = Date.parse("2026-03-01T12:00:00.000Z");
const QUERY_KEY: ProviderPreset = { ...PRESETS.custom, auth: { kind: "query", name: "key" } };

let fake: FakeProvider;

before(async () => {
  fake = await startFakeProvider({
    [OK]: { answer: "ok" },
    [LIMITED]: { answer: "rate_limited", retryAfter: "30" },
    [LIMITED_UNTIL]: { answer: "rate_limited", retryAfter: new Date(NOW + 120_000).toUTCString() },
    [LIMITED_VAGUE]: { answer: "rate_limited" },
    [LIMITED_GARBLED]: { answer: "rate_limited", retryAfter: "1.5" },
    [LIMITED_GEMINI]: { answer: "rate_limited", retryDelay: "34.2s" },
    [LIMITED_BOTH]: { answer: "rate_limited", retryAfter: "5", retryDelay: "34s" },
    [DOWN]: { answer: "status", status: 503 },
    [FORBIDDEN]: { answer: "status", status: 403 },
    [NOT_FOUND]: { answer: "status", status: 404 },
    [BAD_REQUEST]: { answer: "status", status: 400 },
    [REDIRECTED]: { answer: "status", status: 302, headers: { location: "/elsewhere" } },
  });
});
after(() => fake.close());

/** Tests the key against the fake and checks the one rule every answer keeps: no key in the message. */
async function tested(
  secret: string,
  options: Partial<KeyTestOptions> = {},
): Promise<KeyTestResult> {
  const result = await testKey({
    provider: "openai",
    baseUrl: fake.base.openai,
    secret,
    now: () => NOW,
    ...options,
  });
  assert.ok(!result.message.includes(secret), result.message);
  return result;
}

function lastRequest() {
  const request = fake.requests.at(-1);
  assert.ok(request);
  return request;
}

describe("each preset sends the key the way its provider reads it", () => {
  test("openai: Authorization: Bearer on GET /models", async () => {
    assert.deepEqual(await tested(OK), {
      outcome: "ok",
      status: 200,
      retryAfterMs: null,
      message: `${new URL(fake.base.openai).host} accepted the key (HTTP 200)`,
    });
    const request = lastRequest();
    assert.equal(request.url, "/openai/v1/models");
    assert.equal(request.headers.authorization, `Bearer ${OK}`);
  });

  test("anthropic: x-api-key with anthropic-version, and no Authorization", async () => {
    const result = await tested(OK, { provider: "anthropic", baseUrl: fake.base.anthropic });
    assert.equal(result.outcome, "ok");
    const request = lastRequest();
    assert.equal(request.url, "/anthropic/v1/models");
    assert.equal(request.headers["x-api-key"], OK);
    assert.equal(request.headers["anthropic-version"], "2023-06-01");
    assert.equal(request.headers.authorization, undefined);
  });

  test("gemini: x-goog-api-key, and the key kept out of the URL", async () => {
    const result = await tested(OK, { provider: "gemini", baseUrl: fake.base.gemini });
    assert.equal(result.outcome, "ok");
    const request = lastRequest();
    assert.equal(request.url, "/gemini/v1beta/models");
    assert.equal(request.headers["x-goog-api-key"], OK);
    assert.equal(request.headers.authorization, undefined);
  });

  test("azure-openai: api-key on /openai/models?api-version=2024-10-21 of the resource", async () => {
    const result = await tested(OK, { provider: "azure-openai", baseUrl: `${fake.base.azure}/` });
    assert.equal(result.outcome, "ok");
    const request = lastRequest();
    assert.equal(request.url, "/azure/openai/models?api-version=2024-10-21");
    assert.equal(request.headers["api-key"], OK);
    assert.equal(request.headers.authorization, undefined);
  });

  test("a custom preset can take the key in the query", async () => {
    const result = await tested(OK, { provider: QUERY_KEY, baseUrl: fake.base.queryKey });
    assert.equal(result.outcome, "ok");
    assert.equal(lastRequest().url, `/query/v1/models?key=${OK}`);
  });
});

describe("a key the provider refuses is invalid", () => {
  const cases: [string, KeyTestOptions["provider"], keyof FakeProvider["base"], number][] = [
    ["openai", "openai", "openai", 401],
    ["anthropic", "anthropic", "anthropic", 401],
    ["azure-openai", "azure-openai", "azure", 401],
    // Gemini says 400 API_KEY_INVALID, not 401.
    ["gemini", "gemini", "gemini", 400],
    ["custom with the key in the query", QUERY_KEY, "queryKey", 401],
  ];
  for (const [name, provider, base, status] of cases) {
    test(`${name}: HTTP ${status}`, async () => {
      const result = await tested(UNKNOWN, { provider, baseUrl: fake.base[base] });
      assert.equal(result.outcome, "invalid");
      assert.equal(result.status, status);
      assert.match(result.message, new RegExp(`rejected the key \\(HTTP ${status}\\)$`));
    });
  }

  test("403 too", async () => {
    const result = await tested(FORBIDDEN);
    assert.deepEqual([result.outcome, result.status], ["invalid", 403]);
  });

  test("a 400 from a provider without Gemini's marker is not taken for a bad key", async () => {
    const result = await tested(BAD_REQUEST);
    assert.deepEqual([result.outcome, result.status], ["error", 400]);
  });
});

describe("429 is rate_limited, with the provider's Retry-After", () => {
  test("in seconds", async () => {
    const result = await tested(LIMITED);
    assert.deepEqual(
      [result.outcome, result.status, result.retryAfterMs],
      ["rate_limited", 429, 30_000],
    );
    assert.match(result.message, /rate limiting the key \(HTTP 429\); retry in 30 s$/);
  });

  test("as an HTTP-date, counted from now", async () => {
    const result = await tested(LIMITED_UNTIL);
    assert.deepEqual([result.outcome, result.retryAfterMs], ["rate_limited", 120_000]);
  });

  test("Gemini's RetryInfo in the body when there is no header, rounded up to the ms", async () => {
    const result = await tested(LIMITED_GEMINI, { provider: "gemini", baseUrl: fake.base.gemini });
    assert.deepEqual([result.outcome, result.retryAfterMs], ["rate_limited", 34_200]);
    assert.match(result.message, /retry in 35 s$/);
  });

  test("the header first when both are sent", async () => {
    const result = await tested(LIMITED_BOTH, { provider: "gemini", baseUrl: fake.base.gemini });
    assert.deepEqual([result.outcome, result.retryAfterMs], ["rate_limited", 5_000]);
  });

  test("absent or unreadable: null", async () => {
    for (const secret of [LIMITED_VAGUE, LIMITED_GARBLED]) {
      const result = await tested(secret);
      assert.deepEqual([result.outcome, result.retryAfterMs], ["rate_limited", null]);
      assert.match(result.message, /\(HTTP 429\)$/);
    }
  });
});

describe("anything else is error", () => {
  test("5xx: a failure on the provider's side", async () => {
    const result = await tested(DOWN);
    assert.deepEqual([result.outcome, result.status], ["error", 503]);
    assert.match(result.message, /answered HTTP 503: a failure on its side$/);
  });

  test("another 4xx says which status the provider answered", async () => {
    const result = await tested(NOT_FOUND);
    assert.deepEqual([result.outcome, result.status], ["error", 404]);
    assert.match(result.message, /answered HTTP 404, which says nothing about the key/);
  });

  test("a redirect is not followed: the key goes nowhere else", async () => {
    const before = fake.requests.length;
    const result = await tested(REDIRECTED);
    assert.deepEqual([result.outcome, result.status], ["error", 302]);
    assert.equal(fake.requests.length, before + 1);
  });

  test("no answer within the timeout", async () => {
    const silent = await silentServer();
    try {
      const result = await tested(OK, { provider: QUERY_KEY, baseUrl: silent.url, timeoutMs: 50 });
      assert.deepEqual(result, {
        outcome: "error",
        status: null,
        retryAfterMs: null,
        message: `no answer from ${new URL(silent.url).host} within 0.05 s`,
      });
    } finally {
      await silent.close();
    }
  });

  test("nothing listening: the cause's code, never the URL that holds the key", async () => {
    const url = await closedPortUrl();
    const result = await tested(OK, { provider: QUERY_KEY, baseUrl: url });
    assert.deepEqual([result.outcome, result.status], ["error", null]);
    assert.equal(result.message, `cannot reach ${new URL(url).host}: ECONNREFUSED`);
  });
});

test("a preset without a base URL throws instead of reporting the key", async () => {
  await assert.rejects(testKey({ provider: "azure-openai", secret: OK }), {
    name: "ProviderConfigError",
    message: "azure-openai has no default base URL; set base_url",
  });
});
