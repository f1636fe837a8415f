import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, type TestContext, test } from "node:test";
import {
  createClient,
  KeyUnavailableError,
  type Outcome,
  ReportError,
  RotatorError,
  withApiKey,
} from "../../src/client/index.ts";
import { classifyError, classifyResult } from "../../src/client/outcome.ts";

const TOKEN = "client-token-for-reports-01";

// ---------------------------------------------------------------------------------------------
// Dispenser stub.
//
// Speaks the contract the real server is gaining (GET /next?mode&pool&wait, POST /report) until
// it does; tests against the real server come with it. Keys are handed out least recently used
// first among those not resting or disabled, the way the real server does, so which key comes
// back shows whether the client asked again and whether the report reached the server. Key
// "sk-X" has id "id-X". Everything goes through startDispenser(), so it can be swapped.
// ---------------------------------------------------------------------------------------------

interface ReportBody {
  id: string;
  outcome: Outcome;
  retry_after?: number;
}

interface Dispenser {
  baseUrl: string;
  /** Path and query of every GET /next, in arrival order. */
  nextUrls: string[];
  /** Every report the stub accepted, as sent, in arrival order. */
  reports: ReportBody[];
  /** Authorization and content-type of every POST /report. */
  reportHeaders: { authorization: string | undefined; contentType: string | undefined }[];
  close(): Promise<void>;
}

async function startDispenser(
  keys: readonly string[],
  options: { failReports?: boolean } = {},
): Promise<Dispenser> {
  const entries = keys.map((key, order) => ({
    key,
    id: key.replace("sk-", "id-"),
    lastUsed: order - keys.length, // never used: in the order given
    state: "active" as "active" | "resting" | "disabled",
  }));
  let clock = 0;
  const nextUrls: string[] = [];
  const reports: ReportBody[] = [];
  const reportHeaders: Dispenser["reportHeaders"] = [];

  const send = (res: ServerResponse, status: number, body: unknown, headers = {}): void => {
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify(body));
  };

  const next = (req: IncomingMessage, res: ServerResponse): void => {
    nextUrls.push(req.url ?? "");
    const pool = new URL(req.url ?? "/", "http://stub").searchParams.get("pool") ?? "default";
    const entry = entries
      .filter((e) => e.state === "active")
      .sort((a, b) => a.lastUsed - b.lastUsed)[0];
    if (entry === undefined) {
      send(
        res,
        503,
        { error: "no key", code: "no_key_available", retry_after: 60 },
        {
          "retry-after": "60",
        },
      );
      return;
    }
    clock += 1;
    entry.lastUsed = clock;
    send(res, 200, { api_key: entry.key, id: entry.id, pool, probe: false });
  };

  const report = (req: IncomingMessage, res: ServerResponse, text: string): void => {
    reportHeaders.push({
      authorization: req.headers.authorization,
      contentType: req.headers["content-type"],
    });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      send(res, 401, { error: "a valid bearer token is required", code: "unauthorized" });
      return;
    }
    if (options.failReports === true) {
      send(res, 500, { error: "store unavailable", code: "internal_error" });
      return;
    }
    const body = JSON.parse(text) as ReportBody;
    const outcomes = ["ok", "rate_limited", "invalid", "error"];
    if (!outcomes.includes(body.outcome) || typeof body.id !== "string") {
      send(res, 400, { error: "malformed report", code: "invalid_report" });
      return;
    }
    const entry = entries.find((e) => e.id === body.id);
    if (entry === undefined) {
      send(res, 404, { error: "no such key", code: "key_not_found" });
      return;
    }
    reports.push(body);
    if (body.outcome === "rate_limited") entry.state = "resting";
    if (body.outcome === "invalid") entry.state = "disabled";
    send(res, 200, { id: entry.id, status: entry.state });
  };

  const server = createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    const path = new URL(req.url ?? "/", "http://stub").pathname;
    if (req.method === "GET" && path === "/next") next(req, res);
    else if (req.method === "POST" && path === "/report") report(req, res, text);
    else send(res, 404, { error: "not found", code: "not_found" });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    nextUrls,
    reports,
    reportHeaders,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/**
 * A metered API that judges the Bearer key: sk-A is rate limited (Retry-After: 7), sk-B is
 * refused (401), sk-C works. `seen` lists the keys it was called with, in order.
 */
async function startProvider(): Promise<{
  url: string;
  seen: string[];
  close: () => Promise<void>;
}> {
  const seen: string[] = [];
  const server = createServer((req, res) => {
    const key = (req.headers.authorization ?? "").replace("Bearer ", "");
    seen.push(key);
    const [status, headers] =
      key === "sk-A" ? [429, { "retry-after": "7" }] : key === "sk-C" ? [200, {}] : [401, {}];
    res.writeHead(status, { "content-type": "application/json", ...headers });
    res.end(JSON.stringify({ status }));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/chat/completions`,
    seen,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}

/** Both stubs and a client of the dispenser, all closed after the test. */
async function setup(
  t: TestContext,
  keys: readonly string[],
  options: { failReports?: boolean; cacheMs?: number; now?: () => number } = {},
) {
  const dispenser = await startDispenser(keys, options);
  const provider = await startProvider();
  t.after(() => Promise.all([dispenser.close(), provider.close()]));
  const client = createClient({
    baseUrl: dispenser.baseUrl,
    token: TOKEN,
    cacheMs: options.cacheMs ?? 0,
    now: options.now ?? (() => 0),
  });
  const callProvider = (key: string): Promise<Response> =>
    fetch(provider.url, { headers: { authorization: `Bearer ${key}` } });
  return { dispenser, provider, client, callProvider };
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

describe("withApiKey", () => {
  test("rotates past a 429 key and a 401 key to a good one, reporting each", async (t) => {
    const { dispenser, provider, client, callProvider } = await setup(t, ["sk-A", "sk-B", "sk-C"]);

    const res = await withApiKey(callProvider, { client });

    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 200 });
    assert.deepEqual(provider.seen, ["sk-A", "sk-B", "sk-C"]);
    assert.deepEqual(dispenser.reports, [
      { id: "id-A", outcome: "rate_limited", retry_after: 7 },
      { id: "id-B", outcome: "invalid" },
      { id: "id-C", outcome: "ok" },
    ]);
    for (const headers of dispenser.reportHeaders) {
      assert.deepEqual(headers, {
        authorization: `Bearer ${TOKEN}`,
        contentType: "application/json",
      });
    }
  });

  test("when the retries run out, the last Response is returned", async (t) => {
    const { dispenser, provider, client, callProvider } = await setup(t, ["sk-A", "sk-B", "sk-C"]);

    const res = await client.withApiKey(callProvider, { retries: 1 });

    assert.equal(res.status, 401);
    assert.deepEqual(provider.seen, ["sk-A", "sk-B"]);
    assert.deepEqual(
      dispenser.reports.map((r) => r.outcome),
      ["rate_limited", "invalid"],
    );
  });

  test("retries: 0 returns the first answer without asking for another key", async (t) => {
    const { dispenser, provider, client, callProvider } = await setup(t, ["sk-A", "sk-C"]);

    const res = await client.withApiKey(callProvider, { retries: 0 });

    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    assert.deepEqual(provider.seen, ["sk-A"]);
    assert.equal(dispenser.nextUrls.length, 1);
    assert.deepEqual(dispenser.reports, [{ id: "id-A", outcome: "rate_limited", retry_after: 7 }]);
  });

  test("with no other key left, the last answer is returned with its body intact", async (t) => {
    const { dispenser, client, callProvider } = await setup(t, ["sk-A"]);

    const res = await client.withApiKey(callProvider);

    assert.equal(res.status, 429);
    assert.deepEqual(await res.json(), { status: 429 });
    assert.equal(dispenser.nextUrls.length, 2); // the retry's request was answered 503
  });

  test("without a key at all, the dispenser's KeyUnavailableError is thrown", async (t) => {
    const { client } = await setup(t, []);
    let called = false;

    await assert.rejects(
      client.withApiKey(() => {
        called = true;
      }),
      (error: unknown) => error instanceof KeyUnavailableError && error.status === 503,
    );
    assert.equal(called, false);
  });

  test("a thrown network error is reported as error and rethrown, without a retry", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-C"]);
    const target = await closedPortUrl();
    let thrown: unknown;

    await assert.rejects(
      client.withApiKey(async (key) => {
        try {
          return await fetch(target, { headers: { authorization: `Bearer ${key}` } });
        } catch (error) {
          thrown = error;
          throw error;
        }
      }),
      (error: unknown) => error === thrown && thrown !== undefined,
    );
    assert.deepEqual(dispenser.reports, [{ id: "id-A", outcome: "error" }]);
    assert.equal(dispenser.nextUrls.length, 1);
  });

  test("an SDK error with status 429 and headers is rate_limited; the next key is tried", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B"]);
    const used: { key: string; id: string; attempt: number }[] = [];

    const result = await client.withApiKey((key, use) => {
      used.push({ key, ...use });
      if (use.attempt === 0) {
        throw Object.assign(new Error("Rate limit reached"), {
          status: 429,
          headers: new Headers({ "retry-after": "3" }),
        });
      }
      return "completion";
    });

    assert.equal(result, "completion");
    assert.deepEqual(used, [
      { key: "sk-A", id: "id-A", attempt: 0 },
      { key: "sk-B", id: "id-B", attempt: 1 },
    ]);
    assert.deepEqual(dispenser.reports, [
      { id: "id-A", outcome: "rate_limited", retry_after: 3 },
      { id: "id-B", outcome: "ok" },
    ]);
  });

  test("an error with response.status 401 is invalid; a 400 error is ok and rethrown", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B", "sk-C"]);
    const badRequest = Object.assign(new Error("Bad request"), { status: 400 });

    await assert.rejects(
      client.withApiKey((_key, { attempt }) => {
        if (attempt === 0)
          throw Object.assign(new Error("Unauthorized"), { response: { status: 401 } });
        throw badRequest;
      }),
      (error: unknown) => error === badRequest,
    );
    assert.deepEqual(dispenser.reports, [
      { id: "id-A", outcome: "invalid" },
      { id: "id-B", outcome: "ok" },
    ]);
    assert.equal(dispenser.nextUrls.length, 2);
  });

  test("a retry bypasses the cache, and its key replaces the cached one", async (t) => {
    // The clock never moves: without the bypass, the retry would get sk-A from the cache again.
    const { dispenser, provider, client, callProvider } = await setup(t, ["sk-A", "sk-C"], {
      cacheMs: 500,
      now: () => 1000,
    });
    assert.equal((await client.getKey()).apiKey, "sk-A");

    const res = await client.withApiKey(callProvider);

    assert.equal(res.status, 200);
    assert.deepEqual(provider.seen, ["sk-A", "sk-C"]);
    assert.equal(await client.getApiKey(), "sk-C");
    assert.equal(dispenser.nextUrls.length, 2);
  });

  test("a Response dropped for a retry has its body cancelled", async (t) => {
    const { client } = await setup(t, ["sk-A", "sk-B"]);
    let cancelled = false;
    const body = new ReadableStream({
      cancel: () => {
        cancelled = true;
      },
    });

    const res = await client.withApiKey((_key, { attempt }) =>
      attempt === 0 ? new Response(body, { status: 429 }) : new Response("fine"),
    );

    assert.equal(await res.text(), "fine");
    assert.equal(cancelled, true);
  });

  test("a failed report does not change the result and reaches onReportError", async (t) => {
    const { client, callProvider } = await setup(t, ["sk-C"], { failReports: true });
    const reportErrors: unknown[] = [];

    const res = await client.withApiKey(callProvider, {
      onReportError: (error) => reportErrors.push(error),
    });

    assert.equal(res.status, 200);
    assert.equal(reportErrors.length, 1);
    assert.ok(reportErrors[0] instanceof ReportError);
    assert.equal(reportErrors[0].status, 500);
  });

  test("a failed report (and a throwing hook) does not replace fn's error", async (t) => {
    const { client } = await setup(t, ["sk-C"], { failReports: true });
    const failure = new Error("provider down");

    await assert.rejects(
      client.withApiKey(
        () => {
          throw failure;
        },
        {
          onReportError: () => {
            throw new Error("hook failed");
          },
        },
      ),
      (error: unknown) => error === failure,
    );
  });

  test("pool, wait and mode reach the dispenser's query string", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B"]);

    await client.withApiKey(() => "done", { pool: "openai", wait: 5, mode: "random" });
    await client.getApiKey("auto", { pool: "eu west", wait: 2 });
    await client.getApiKey("auto", { wait: 0 });

    assert.deepEqual(dispenser.nextUrls, [
      "/next?mode=random&pool=openai&wait=5",
      "/next?mode=auto&pool=eu%20west&wait=2",
      "/next?mode=auto",
    ]);
  });

  test("retries must be a whole number >= 0, wait a finite number >= 0; nothing is asked then", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A"]);

    await assert.rejects(
      client.withApiKey(() => 1, { retries: -1 }),
      RangeError,
    );
    await assert.rejects(
      client.withApiKey(() => 1, { retries: 1.5 }),
      RangeError,
    );
    for (const wait of [-1, Number.NaN, Number.POSITIVE_INFINITY, 3e9]) {
      await assert.rejects(
        client.withApiKey(() => 1, { wait }),
        RangeError,
        String(wait),
      );
      await assert.rejects(client.getKey("auto", { wait }), RangeError, String(wait));
    }
    assert.equal(dispenser.nextUrls.length, 0);
  });

  test("a wait in fractions of a second goes to the server to the millisecond", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A"]);
    await client.getKey("auto", { wait: 0.25, fresh: true });
    await client.getKey("auto", { wait: 1e-7, fresh: true });
    await client.getKey("auto", { wait: 2.0004, fresh: true });
    assert.deepEqual(
      dispenser.nextUrls.map((url) => new URL(url, "http://x").searchParams.get("wait")),
      ["0.25", null, "2"],
    );
  });
});

describe("wait and fresh", () => {
  test("a call with wait is served from a fresh cached key", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B"], {
      cacheMs: 500,
      now: () => 1000,
    });

    assert.equal(await client.getApiKey(), "sk-A");
    assert.equal(await client.getApiKey("auto", { wait: 10 }), "sk-A");
    // A bad wait fails even when a key is cached, as it does when none is.
    await assert.rejects(client.getApiKey("auto", { wait: -1 }), RangeError);
    assert.equal(dispenser.nextUrls.length, 1);
  });

  test("calls with wait never share a request with calls without", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B", "sk-C", "sk-D"], {
      cacheMs: 500,
      now: () => 1000,
    });

    // Each pair is started together, so the second call could join the first's request.
    const first = await Promise.all([
      client.getApiKey("auto"),
      client.getApiKey("auto", { wait: 5 }),
    ]);
    const second = await Promise.all([
      client.getApiKey("random", { wait: 5 }),
      client.getApiKey("random"),
    ]);

    assert.equal(new Set([...first, ...second]).size, 4);
    assert.deepEqual(dispenser.nextUrls.toSorted(), [
      "/next?mode=auto",
      "/next?mode=auto&wait=5",
      "/next?mode=random",
      "/next?mode=random&wait=5",
    ]);
  });

  test("fresh asks even with a request in flight, and an older answer does not replace its key", async () => {
    let time = 0;
    const answers: ((key: string) => void)[] = [];
    const client = createClient({
      baseUrl: "http://dispenser.invalid",
      now: () => time,
      fetch: () =>
        new Promise((resolve) => {
          answers.push((key) => resolve(Response.json({ api_key: key, id: `id-${key}` })));
        }),
    });

    const shared = client.getKey();
    time = 100;
    const fresh = client.getKey("auto", { fresh: true });
    assert.equal(answers.length, 2);
    answers[1]?.("sk-fresh");
    assert.equal((await fresh).apiKey, "sk-fresh");
    answers[0]?.("sk-older");
    assert.equal((await shared).apiKey, "sk-older");

    time = 200;
    assert.equal(await client.getApiKey(), "sk-fresh");
    assert.equal(answers.length, 2);
  });

  test("a waiting call's timeout is timeoutMs plus the wait", async (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const signals: AbortSignal[] = [];
    const client = createClient({
      baseUrl: "http://dispenser.invalid",
      timeoutMs: 50,
      // Never answers; fails only when the client gives up.
      fetch: (_url, init) => {
        const signal = init.signal as AbortSignal;
        signals.push(signal);
        return new Promise((_resolve, reject) => {
          signal.addEventListener("abort", () => reject(new Error("aborted")));
        });
      },
    });

    const plain = client.getKey("auto");
    const waiting = client.getKey("random", { wait: 2 });
    t.mock.timers.tick(50);
    const plainError = await plain.catch((error: unknown) => error);
    assert.ok(plainError instanceof KeyUnavailableError && plainError.code === "timeout");

    t.mock.timers.tick(1999);
    assert.equal(signals[1]?.aborted, false);
    t.mock.timers.tick(1);
    const waitingError = await waiting.catch((error: unknown) => error);
    assert.ok(waitingError instanceof KeyUnavailableError);
    assert.equal(waitingError.code, "timeout");
    assert.match(waitingError.message, /2050 ms/);
  });
});

describe("report", () => {
  test("POSTs JSON with the Bearer token; retry_after only when given", async (t) => {
    const { dispenser, client } = await setup(t, ["sk-A", "sk-B"]);

    await client.report("id-A", "rate_limited", { retryAfter: 7 });
    await client.report("id-B", "error");

    assert.deepEqual(dispenser.reports, [
      { id: "id-A", outcome: "rate_limited", retry_after: 7 },
      { id: "id-B", outcome: "error" },
    ]);
    assert.deepEqual(dispenser.reportHeaders[1], {
      authorization: `Bearer ${TOKEN}`,
      contentType: "application/json",
    });
  });

  test("refusals reject with ReportError carrying the server's code, never the token", async (t) => {
    const { dispenser } = await setup(t, ["sk-A"]);
    const client = createClient({ baseUrl: dispenser.baseUrl, token: TOKEN });

    const unknown = await client.report("id-Z", "ok").catch((error: unknown) => error);
    assert.ok(unknown instanceof ReportError && unknown instanceof RotatorError);
    assert.ok(!(unknown instanceof KeyUnavailableError));
    assert.equal(unknown.status, 404);
    assert.equal(unknown.code, "key_not_found");
    assert.doesNotMatch(unknown.message, new RegExp(TOKEN));

    const malformed = await client
      .report("id-A", "fine" as Outcome)
      .catch((error: unknown) => error);
    assert.ok(malformed instanceof ReportError);
    assert.equal(malformed.code, "invalid_report");

    const wrongToken = createClient({ baseUrl: dispenser.baseUrl, token: "wrong-token-4242" });
    const refused = await wrongToken.report("id-A", "ok").catch((error: unknown) => error);
    assert.ok(refused instanceof ReportError);
    assert.equal(refused.status, 401);
    assert.doesNotMatch(`${refused.message} ${refused.stack}`, /wrong-token-4242/);
  });

  test("an unreachable server is a ReportError network_error with status 0", async () => {
    const client = createClient({ baseUrl: await closedPortUrl() });

    const error = await client.report("id-A", "ok").catch((e: unknown) => e);
    assert.ok(error instanceof ReportError);
    assert.equal(error.code, "network_error");
    assert.equal(error.status, 0);
  });
});

describe("classification", () => {
  const response = (status: number, headers: Record<string, string> = {}) =>
    new Response(null, { status, headers });

  test("a returned Response by its status; anything else returned is ok", () => {
    const table: [number, Outcome][] = [
      [200, "ok"],
      [204, "ok"],
      [304, "ok"],
      [400, "ok"],
      [404, "ok"],
      [422, "ok"],
      [401, "invalid"],
      [403, "invalid"],
      [429, "rate_limited"],
      [500, "error"],
      [503, "error"],
    ];
    for (const [status, outcome] of table) {
      assert.equal(classifyResult(response(status)).outcome, outcome, `HTTP ${status}`);
    }
    assert.equal(classifyResult(Response.error()).outcome, "error");
    for (const value of ["text", undefined, null, { status: 500 }]) {
      assert.deepEqual(classifyResult(value), { outcome: "ok" });
    }
  });

  test("Retry-After in seconds or as an HTTP-date, against the given clock", () => {
    const now = Date.parse("2026-01-15T10:00:00.500Z");
    const at = (header: string) =>
      classifyResult(response(429, { "retry-after": header }), now).retryAfter;

    assert.equal(at("7"), 7);
    assert.equal(at("Thu, 15 Jan 2026 10:01:00 GMT"), 60);
    assert.equal(at("Thu, 15 Jan 2026 09:00:00 GMT"), 0);
    assert.equal(at("soon"), undefined);
    assert.equal(at("1.5"), undefined, "not a date, though Date.parse reads one in it");
    assert.deepEqual(classifyResult(response(429)), {
      outcome: "rate_limited",
      retryAfter: undefined,
    });
  });

  test("a thrown error by its status or response.status, else error", () => {
    assert.deepEqual(classifyError(new TypeError("fetch failed")), { outcome: "error" });
    assert.deepEqual(classifyError("a string"), { outcome: "error" });
    assert.deepEqual(classifyError({ status: 503 }), { outcome: "error" });
    assert.deepEqual(classifyError({ status: 0 }), { outcome: "error" });
    assert.deepEqual(classifyError({ response: { status: 403 } }), { outcome: "invalid" });
    assert.deepEqual(classifyError({ status: 404 }), { outcome: "ok" });
    // Plain-object headers, as some SDK versions have them, in any case.
    assert.deepEqual(classifyError({ status: 429, headers: { "Retry-After": "12" } }), {
      outcome: "rate_limited",
      retryAfter: 12,
    });
    assert.deepEqual(
      classifyError({ response: { status: 429, headers: new Headers({ "retry-after": "4" }) } }),
      { outcome: "rate_limited", retryAfter: 4 },
    );
  });

  test("a 429 error with no Retry-After: Gemini's RetryInfo in the message, rounded up", () => {
    // @google/genai's ApiError: the status, and the provider's JSON body as its message.
    const body = {
      error: {
        code: 429,
        status: "RESOURCE_EXHAUSTED",
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "33.4s" }],
      },
    };
    const error = Object.assign(new Error(JSON.stringify(body)), { name: "ApiError", status: 429 });
    assert.deepEqual(classifyError(error), { outcome: "rate_limited", retryAfter: 34 });
    // The header, when there is one, wins.
    const both = Object.assign(new Error(JSON.stringify(body)), {
      status: 429,
      headers: { "retry-after": "5" },
    });
    assert.deepEqual(classifyError(both), { outcome: "rate_limited", retryAfter: 5 });
    assert.deepEqual(classifyError(Object.assign(new Error("quota"), { status: 429 })), {
      outcome: "rate_limited",
      retryAfter: undefined,
    });
  });
});
