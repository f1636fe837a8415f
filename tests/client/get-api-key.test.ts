import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, test } from "node:test";
import {
  createClient,
  getApiKey,
  type KeyMode,
  KeyUnavailableError,
} from "../../src/client/index.ts";

// ---------------------------------------------------------------------------------------------
// Contract stub.
//
// A small node:http server that speaks the wire contract of the real server (GET /next?mode=
// auto|random[&pool=NAME], Bearer token, 200 {api_key, id}, JSON errors with Retry-After, the
// real server's codes). It exists for what the real server cannot be made to do on demand:
// scripted replies (echoed tokens, malformed bodies, a 500 without a code), held responses,
// never answering, and counting requests. The same contract against the real server is tested
// in real-server.test.ts. Everything here goes through startKeyServer(), so it can be swapped.
// ---------------------------------------------------------------------------------------------

interface RecordedRequest {
  /** Path and query as sent, e.g. "/next?mode=auto". */
  url: string;
  authorization: string | undefined;
}

interface Reply {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface KeyServer {
  baseUrl: string;
  /** Every request that reached the server, in arrival order. */
  requests: RecordedRequest[];
  /** The next request gets this reply instead of a key (scripted failure). */
  replyNext(reply: Reply): void;
  /** Responses are held until the returned function is called. */
  hold(): () => void;
  /** Resolves once `count` requests have arrived (event-driven, no polling). */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

interface KeyServerOptions {
  /** Require `Authorization: Bearer <token>`. */
  token?: string;
  /** Accept requests but never answer (for timeouts). */
  neverAnswer?: boolean;
}

async function startKeyServer(options: KeyServerOptions = {}): Promise<KeyServer> {
  const requests: RecordedRequest[] = [];
  const scripted: Reply[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  let gate: Promise<void> | undefined;
  let issued = 0;

  const send = (res: ServerResponse, reply: Reply): void => {
    res.writeHead(reply.status, { "content-type": "application/json", ...reply.headers });
    res.end(JSON.stringify(reply.body));
  };

  const answer = (req: IncomingMessage): Reply => {
    const url = new URL(req.url ?? "/", "http://test");
    if (url.pathname !== "/next") {
      return { status: 404, body: { error: "not found", code: "not_found" } };
    }
    if (options.token !== undefined && req.headers.authorization !== `Bearer ${options.token}`) {
      return {
        status: 401,
        body: { error: "a valid bearer token is required", code: "unauthorized" },
      };
    }
    const mode = url.searchParams.get("mode");
    if (mode !== "auto" && mode !== "random") {
      return {
        status: 400,
        body: { error: 'mode must be "auto" or "random"', code: "invalid_mode" },
      };
    }
    const next = scripted.shift();
    if (next !== undefined) return next;
    issued += 1;
    return { status: 200, body: { api_key: `sk-test-${issued}`, id: `key-${issued}` } };
  };

  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", authorization: req.headers.authorization });
    for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    if (options.neverAnswer === true) return;
    const reply = answer(req);
    if (gate === undefined) send(res, reply);
    else void gate.then(() => send(res, reply));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    replyNext: (reply) => {
      scripted.push(reply);
    },
    hold: () => {
      let release!: () => void;
      gate = new Promise((resolve) => {
        release = resolve;
      });
      return () => {
        gate = undefined;
        release();
      };
    },
    waitForRequests: (count) =>
      requests.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => {
            waiters.push({ count, resolve });
          }),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** A port that was just listening and is now closed: connecting to it is refused. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, "close");
  return `http://127.0.0.1:${port}`;
}

/** Asserts that `promise` rejects with a KeyUnavailableError and returns it. */
async function rejection(promise: Promise<unknown>): Promise<KeyUnavailableError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyUnavailableError, `expected KeyUnavailableError, got ${error}`);
    return error;
  }
  assert.fail("expected the call to reject");
}

/** A manual clock: tests move time forward explicitly, nothing sleeps. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let time = start;
  return {
    now: () => time,
    advance: (ms) => {
      time += ms;
    },
  };
}

describe("cache", () => {
  test("two calls within 500 ms make one request; a call at 500 ms makes a second", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const clock = manualClock();
    const client = createClient({ baseUrl: server.baseUrl, now: clock.now });

    const first = await client.getApiKey();
    assert.equal(first, "sk-test-1");
    clock.advance(499);
    assert.equal(await client.getApiKey(), first);
    assert.equal(server.requests.length, 1);

    clock.advance(1);
    assert.equal(await client.getApiKey(), "sk-test-2");
    assert.equal(server.requests.length, 2);
  });

  test("50 concurrent calls share exactly one request", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const clock = manualClock();
    const client = createClient({ baseUrl: server.baseUrl, now: clock.now });

    const keys = await Promise.all(Array.from({ length: 50 }, () => client.getApiKey()));

    assert.equal(server.requests.length, 1);
    assert.deepEqual(new Set(keys), new Set(["sk-test-1"]));
  });

  test("a call made while the request is already at the server joins it", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });
    const release = server.hold();

    const first = client.getApiKey();
    await server.waitForRequests(1);
    const second = client.getKey();
    release();

    assert.equal(await first, "sk-test-1");
    assert.deepEqual(await second, { apiKey: "sk-test-1", id: "key-1" });
    assert.equal(server.requests.length, 1);
  });

  test("cacheMs: 0 makes every call, even concurrent ones, its own request", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, cacheMs: 0, now: manualClock().now });

    assert.equal(await client.getApiKey(), "sk-test-1");
    assert.equal(await client.getApiKey(), "sk-test-2");
    const concurrent = await Promise.all([client.getApiKey(), client.getApiKey()]);

    assert.equal(server.requests.length, 4);
    assert.deepEqual(new Set(concurrent), new Set(["sk-test-3", "sk-test-4"]));
  });

  test("each (mode, pool) has its own entry; pool is sent only when given", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });

    const auto = await client.getApiKey("auto");
    const random = await client.getApiKey("random");
    const pooled = await client.getApiKey("auto", { pool: "eu west" });
    assert.equal(new Set([auto, random, pooled]).size, 3);

    assert.equal(await client.getApiKey(), auto);
    assert.equal(await client.getApiKey("random"), random);
    assert.equal(await client.getApiKey("auto", { pool: "eu west" }), pooled);
    assert.deepEqual(
      server.requests.map((r) => r.url),
      ["/next?mode=auto", "/next?mode=random", "/next?mode=auto&pool=eu%20west"],
    );
  });

  test("each client has its own cache", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const clock = manualClock();
    const a = createClient({ baseUrl: server.baseUrl, now: clock.now });
    const b = createClient({ baseUrl: server.baseUrl, now: clock.now });

    assert.notEqual(await a.getApiKey(), await b.getApiKey());
    assert.equal(server.requests.length, 2);
  });

  test("clearCache() forgets cached keys", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });

    await client.getApiKey();
    client.clearCache();
    assert.equal(await client.getApiKey(), "sk-test-2");
    assert.equal(server.requests.length, 2);
  });

  test("errors are never cached: a 503 then a success makes two requests", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });
    server.replyNext({
      status: 503,
      headers: { "retry-after": "1" },
      body: { error: "no key available", code: "no_key_available", retry_after: 1 },
    });

    await rejection(client.getApiKey());
    assert.equal(await client.getApiKey(), "sk-test-1");
    assert.equal(server.requests.length, 2);
  });

  test("a shared failure reaches every waiter and the next call asks again", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });
    server.replyNext({
      status: 503,
      body: { error: "no key available", code: "no_key_available" },
    });

    const results = await Promise.allSettled([client.getApiKey(), client.getApiKey()]);
    assert.deepEqual(
      results.map((r) => r.status),
      ["rejected", "rejected"],
    );
    assert.equal(server.requests.length, 1);
    assert.equal(await client.getApiKey(), "sk-test-1");
    assert.equal(server.requests.length, 2);
  });
});

describe("errors", () => {
  test("429 maps to status, code, message and retryAfter from the header", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });
    server.replyNext({
      status: 429,
      headers: { "retry-after": "7" },
      body: {
        error: "the per-minute cap across all keys is reached",
        code: "global_cap",
        retry_after: 30,
      },
    });

    const error = await rejection(client.getApiKey());
    assert.equal(error.name, "KeyUnavailableError");
    assert.equal(error.status, 429);
    assert.equal(error.code, "global_cap");
    assert.equal(error.retryAfter, 7);
    assert.match(error.message, /the per-minute cap across all keys is reached/);
  });

  test("503 maps to status, code and retryAfter", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });
    server.replyNext({
      status: 503,
      headers: { "retry-after": "12" },
      body: { error: "no key available", code: "no_key_available", retry_after: 12 },
    });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 503);
    assert.equal(error.code, "no_key_available");
    assert.equal(error.retryAfter, 12);
    assert.match(error.message, /no key available/);
  });

  test("without a Retry-After header, retryAfter comes from the body", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });
    server.replyNext({
      status: 503,
      body: { error: "no key available", code: "no_key_available", retry_after: 3 },
    });

    assert.equal((await rejection(client.getApiKey())).retryAfter, 3);
  });

  test("401 for a wrong token; the token is not in the message", async (t) => {
    const server = await startKeyServer({ token: "right-token" });
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, token: "wrong-token-4242" });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 401);
    assert.equal(error.code, "unauthorized");
    assert.equal(error.retryAfter, undefined);
    assert.doesNotMatch(error.message, /wrong-token-4242/);
    assert.doesNotMatch(String(error.stack), /wrong-token-4242/);
  });

  test("a server message echoing the token is redacted", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, token: "tok-echoed-99" });
    server.replyNext({
      status: 401,
      body: { error: "bad token tok-echoed-99", code: "unauthorized" },
    });

    const error = await rejection(client.getApiKey());
    assert.doesNotMatch(error.message, /tok-echoed-99/);
    assert.match(error.message, /\[redacted\]/);
  });

  test("400 for a bad mode", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });

    const error = await rejection(client.getApiKey("sideways" as KeyMode));
    assert.equal(error.status, 400);
    assert.equal(error.code, "invalid_mode");
    assert.equal(server.requests[0]?.url, "/next?mode=sideways");
  });

  test("an error body without a code gets code http_error", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });
    server.replyNext({ status: 500, body: "oops" });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 500);
    assert.equal(error.code, "http_error");
  });

  test("a 200 without api_key/id is bad_response and does not quote the body", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });
    server.replyNext({ status: 200, body: { apiKey: "sk-leaky-secret" } });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 200);
    assert.equal(error.code, "bad_response");
    assert.doesNotMatch(error.message, /sk-leaky-secret/);
  });

  test("a closed port is a network_error with status 0", async () => {
    const client = createClient({ baseUrl: await closedPortUrl() });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 0);
    assert.equal(error.code, "network_error");
    assert.equal(error.retryAfter, undefined);
    assert.ok(error.cause !== undefined);
  });

  // The node:test timeout only makes a broken client fail fast instead of hanging.
  test("a server that never answers is a timeout with status 0", { timeout: 3000 }, async (t) => {
    const server = await startKeyServer({ neverAnswer: true });
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, timeoutMs: 50 });

    const error = await rejection(client.getApiKey());
    assert.equal(error.status, 0);
    assert.equal(error.code, "timeout");
    assert.equal(server.requests.length, 1);
  });

  test("the caller's signal stops only that caller's wait", { timeout: 3000 }, async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });
    const release = server.hold();
    const controller = new AbortController();

    const patient = client.getApiKey();
    const impatient = client.getApiKey("auto", { signal: controller.signal, fallbackKey: "fb" });
    controller.abort();

    const error = await rejection(impatient);
    assert.equal(error.code, "aborted");
    assert.equal(error.status, 0);
    release();
    assert.equal(await patient, "sk-test-1");
    assert.equal(server.requests.length, 1);
  });

  test("an already aborted signal rejects without a request", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });

    const error = await rejection(client.getApiKey("auto", { signal: AbortSignal.abort() }));
    assert.equal(error.code, "aborted");
    assert.equal(server.requests.length, 0);
  });
});

describe("fallbackKey", () => {
  test("is returned on failure only when given, and is not cached", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });
    const noKey: Reply = { status: 503, body: { error: "no key", code: "no_key_available" } };

    server.replyNext(noKey);
    await rejection(client.getApiKey());

    server.replyNext(noKey);
    assert.equal(await client.getApiKey("auto", { fallbackKey: "sk-fallback" }), "sk-fallback");

    assert.equal(await client.getApiKey(), "sk-test-1");
    assert.equal(server.requests.length, 3);
  });

  test("is not used when the server gives a key", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl });

    assert.equal(await client.getApiKey("auto", { fallbackKey: "sk-fallback" }), "sk-test-1");
  });

  test("covers network errors too", async () => {
    const client = createClient({ baseUrl: await closedPortUrl() });

    assert.equal(await client.getApiKey("auto", { fallbackKey: "sk-fallback" }), "sk-fallback");
  });
});

describe("configuration", () => {
  test("the token is sent as a Bearer header, and no header without a token", async (t) => {
    const server = await startKeyServer({ token: "client-token-1" });
    t.after(() => server.close());

    const withToken = createClient({ baseUrl: server.baseUrl, token: "client-token-1" });
    assert.equal(await withToken.getApiKey(), "sk-test-1");
    const withoutToken = createClient({ baseUrl: server.baseUrl, token: "" });
    await rejection(withoutToken.getApiKey());

    assert.deepEqual(
      server.requests.map((r) => r.authorization),
      ["Bearer client-token-1", undefined],
    );
  });

  test("getKey resolves to { apiKey, id } and shares the cache with getApiKey", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const client = createClient({ baseUrl: server.baseUrl, now: manualClock().now });

    assert.deepEqual(await client.getKey("random"), { apiKey: "sk-test-1", id: "key-1" });
    assert.equal(await client.getApiKey("random"), "sk-test-1");
    assert.equal(server.requests.length, 1);
  });

  test("an injected fetch is used for the request", async (t) => {
    const server = await startKeyServer();
    t.after(() => server.close());
    const seen: string[] = [];
    const client = createClient({
      baseUrl: `${server.baseUrl}/`,
      fetch: (url, init) => {
        seen.push(url);
        return fetch(url, init);
      },
    });

    assert.equal(await client.getApiKey(), "sk-test-1");
    assert.deepEqual(seen, [`${server.baseUrl}/next?mode=auto`]);
  });

  test("bad options are rejected up front without echoing the URL", async () => {
    assert.throws(
      () => createClient({ baseUrl: "not a url ::secret" }),
      (error: unknown) => {
        assert.ok(error instanceof TypeError);
        assert.doesNotMatch(error.message, /secret/);
        return true;
      },
    );
    assert.throws(() => createClient({ baseUrl: "ftp://example.com" }), TypeError);
    assert.throws(() => createClient({ baseUrl: "http://user:pw@example.com" }), TypeError);
    assert.throws(() => createClient({ cacheMs: -1 }), RangeError);
    assert.throws(() => createClient({ timeoutMs: 0 }), RangeError);
    // The module-level function rejects instead of throwing synchronously.
    await assert.rejects(getApiKey("auto", { baseUrl: "nope" }), TypeError);
  });

  test("module-level getApiKey: one client per (baseUrl, token)", async (t) => {
    const one = await startKeyServer({ token: "tok-shared" });
    const two = await startKeyServer({ token: "tok-shared" });
    t.after(() => Promise.all([one.close(), two.close()]));
    const shared = { token: "tok-shared" };

    assert.equal(await getApiKey("auto", { ...shared, baseUrl: one.baseUrl }), "sk-test-1");
    assert.equal(await getApiKey("auto", { ...shared, baseUrl: two.baseUrl }), "sk-test-1");
    assert.equal(one.requests.length, 1);
    assert.equal(two.requests.length, 1);
    assert.equal(two.requests[0]?.authorization, "Bearer tok-shared");

    // Same server, other token: a separate client, so no cached key is handed out for it.
    const error = await rejection(getApiKey("auto", { baseUrl: two.baseUrl, token: "tok-other" }));
    assert.equal(error.status, 401);
    assert.equal(two.requests.length, 2);
  });

  // The only test that touches the module's default client: it must run with the env set.
  test("env: API_KEY_ROTATOR_URL / API_KEY_ROTATOR_TOKEN and the localhost:8080 default", async (t) => {
    const server = await startKeyServer({ token: "env-token-7" });
    const saved = {
      url: process.env.API_KEY_ROTATOR_URL,
      token: process.env.API_KEY_ROTATOR_TOKEN,
    };
    t.after(async () => {
      restoreEnv("API_KEY_ROTATOR_URL", saved.url);
      restoreEnv("API_KEY_ROTATOR_TOKEN", saved.token);
      await server.close();
    });

    delete process.env.API_KEY_ROTATOR_URL;
    delete process.env.API_KEY_ROTATOR_TOKEN;
    assert.equal(createClient().baseUrl, "http://localhost:8080");

    process.env.API_KEY_ROTATOR_URL = server.baseUrl;
    process.env.API_KEY_ROTATOR_TOKEN = "env-token-7";
    assert.equal(createClient().baseUrl, server.baseUrl);
    assert.equal(await createClient().getApiKey(), "sk-test-1");
    assert.equal(await getApiKey(), "sk-test-2");
    assert.deepEqual(
      server.requests.map((r) => r.authorization),
      ["Bearer env-token-7", "Bearer env-token-7"],
    );
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
