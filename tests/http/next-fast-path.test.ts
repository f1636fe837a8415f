import assert from "node:assert/strict";
import { createServer, get, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { nextFastPath } from "../../src/http/next-fast-path.ts";
import { createLogger } from "../../src/logger.ts";
import type { KeyStore } from "../../src/store/key-store.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { LogCapture } from "../helpers/log-capture.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const KEYS = ["sk-fast-a-0000000", "sk-fast-b-0000000", "sk-fast-c-0000000"];
const CLIENT = "client-token-0123456789abcdef";
const ADMIN = "admin-token-0123456789abcdef";

interface RawAnswer {
  readonly status: number;
  /** Every header as sent, in order, with Date's value blanked. */
  readonly headers: string[];
  readonly body: string;
}

// The path as written, '#' and all: a URL object would drop the fragment.
function rawGet(baseUrl: string, path: string, headers: Record<string, string> = {}) {
  const { hostname, port } = new URL(baseUrl);
  return new Promise<RawAnswer>((resolve, reject) => {
    get({ hostname, port, path, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () => {
        const headers = res.rawHeaders.map((value, i, all) =>
          i % 2 === 1 && all[i - 1] === "Date" ? "(date)" : value,
        );
        resolve({ status: res.statusCode ?? 0, headers, body });
      });
    }).on("error", reject);
  });
}

/** One GET to `listener`, served on an ephemeral port that is closed afterwards. */
async function getOnce(listener: RequestListener, path: string): Promise<RawAnswer> {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    return await rawGet(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, path);
  } finally {
    server.close();
  }
}

/** The same answer with the key and its id taken out, to compare two dispenses. */
function withoutKey(answer: RawAnswer): RawAnswer {
  const { api_key, id, ...rest } = JSON.parse(answer.body);
  assert.ok(KEYS.includes(api_key));
  assert.match(id, /^[A-Za-z0-9_-]{12}$/);
  return { ...answer, body: JSON.stringify(rest) };
}

describe("GET /next outside Koa answers exactly as Koa's route", () => {
  const clock = new FakeClock("2026-01-15T10:00:10.000Z");
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ rpm: "1", tpm: "4" }, { clock: clock.now });
    const res = await server.request("/add_bulk", { method: "POST", json: { keys: KEYS } });
    assert.equal(res.status, 200);
  });
  after(() => server.stop());

  // `/next/` is the same route to Koa's router, and too unusual for the path outside it.
  it("with a key: status, headers in order and body", async () => {
    const outside = await rawGet(server.url, "/next");
    const inKoa = await rawGet(server.url, "/next/");
    assert.equal(outside.status, 200);
    assert.deepEqual(withoutKey(outside), withoutKey(inKoa));
    assert.ok(outside.headers.includes("no-store"));
  });

  it("with every key at its rpm: 503 and Retry-After", async () => {
    await rawGet(server.url, "/next");
    const outside = await rawGet(server.url, "/next");
    assert.equal(outside.status, 503);
    assert.match(outside.body, /"code":"no_key_available","retry_after":50/);
    assert.deepEqual(outside, await rawGet(server.url, "/next/"));
  });

  it("over the cap across all keys: 429 and Retry-After", async () => {
    clock.set("2026-01-15T10:01:00.000Z");
    const more = ["sk-fast-d-0000000", "sk-fast-e-0000000"];
    const res = await server.request("/add_bulk", { method: "POST", json: { keys: more } });
    assert.equal(res.status, 200);
    for (let i = 0; i < 4; i++) assert.equal((await rawGet(server.url, "/next")).status, 200);
    const outside = await rawGet(server.url, "/next");
    assert.equal(outside.status, 429);
    assert.match(outside.body, /"code":"global_cap","retry_after":60/);
    assert.deepEqual(outside, await rawGet(server.url, "/next/"));
  });
});

async function usage(server: TestServer) {
  return (await server.store.list()).map((key) => [key.requestsThisDay, key.lastUsed]);
}

describe("what GET /next leaves to Koa", () => {
  let store: TestServer;
  let server: Server;
  let url: string;
  const toKoa: RequestListener = (_req, res) => {
    res.writeHead(299).end();
  };

  before(async () => {
    store = await startTestServer({ rpm: "1000", rpd: "1000", tpm: "1000" });
    const res = await store.request("/add", { method: "POST", json: { key: KEYS[0] } });
    assert.equal(res.status, 201);
    const clientAccepts = (authorization: string | undefined) =>
      authorization === `Bearer ${CLIENT}` || authorization === `Bearer ${ADMIN}`;
    const options = {
      store: store.store,
      maxWaitMs: 5_000,
      clientAccepts,
      logger: createLogger("silent"),
    };
    server = createServer(nextFastPath(options, toKoa));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.close();
    await store.stop();
  });

  const auth = { authorization: `Bearer ${CLIENT}` };

  it("answers itself a plain, valid, authorised GET that does not wait", async () => {
    for (const path of [
      "/next",
      "/next?",
      "/next?mode=random",
      "/next?mode=auto&pool=default",
      "/next?wait=0",
      "/next?mode=%72andom",
    ]) {
      assert.equal((await rawGet(url, path, auth)).status, 200, path);
    }
    const admin = await rawGet(url, "/next", { authorization: `Bearer ${ADMIN}` });
    assert.equal(admin.status, 200);
  });

  it("hands Koa every other request, before taking a key", async () => {
    const before = await usage(store);
    const paths = [
      "/next/",
      "/NEXT",
      "/nextx",
      "/next#x",
      "/next?x#&mode=random",
      "/next?wait=1",
      "/next?mode=bogus",
      "/next?mode=auto&mode=random",
      "/next?pool=nope",
      "/next?pool=Bad%20Name",
      "/keys",
    ];
    for (const path of paths) assert.equal((await rawGet(url, path, auth)).status, 299, path);
    assert.equal((await rawGet(url, "/next")).status, 299, "no token");
    const wrong = await rawGet(url, "/next", { authorization: `Bearer ${CLIENT}x` });
    assert.equal(wrong.status, 299, "wrong token");
    assert.deepEqual(await usage(store), before);
  });

  it("hands Koa every method but GET", async () => {
    for (const method of ["HEAD", "POST", "OPTIONS", "DELETE"]) {
      const status = await new Promise<number>((resolve, reject) => {
        get(`${url}/next`, { method, headers: auth }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on("error", reject);
      });
      assert.equal(status, 299, method);
    }
  });
});

describe("a store that fails under GET /next outside Koa", () => {
  it("answers 500 as the error responder does, and logs the error", async () => {
    const log = new LogCapture();
    const failing = {
      hasPool: () => true,
      acquire: () => Promise.reject(new Error("the store broke")),
    } as unknown as KeyStore;
    const options = {
      store: failing,
      maxWaitMs: 0,
      clientAccepts: () => true,
      logger: createLogger("error", log),
    };
    const listener = nextFastPath(options, () => assert.fail("went to Koa"));
    const answer = await getOnce(listener, "/next");
    assert.equal(answer.status, 500);
    assert.equal(answer.body, '{"error":"internal error","code":"internal"}');
    assert.match(await log.waitFor(/request failed/), /the store broke/);
  });
});

describe("a store that fails while /next's parameters are read", () => {
  it("hands the request to Koa, which answers it, instead of throwing out of the listener", async () => {
    const broken = {
      hasPool: () => {
        throw new Error("the store broke");
      },
    } as unknown as KeyStore;
    const options = {
      store: broken,
      maxWaitMs: 0,
      clientAccepts: () => true,
      logger: createLogger("silent"),
    };
    const toKoa: RequestListener = (_req, res) => res.writeHead(299).end();
    const answer = await getOnce(nextFastPath(options, toKoa), "/next?pool=default");
    assert.equal(answer.status, 299);
  });
});

describe("with the access log on (debug)", () => {
  it("GET /next goes through Koa and is logged with its route", async () => {
    const log = new LogCapture();
    const server = await startTestServer({}, { logger: createLogger("debug", log) });
    try {
      await server.request("/add", { method: "POST", json: { key: KEYS[0] } });
      assert.equal((await server.request("/next?mode=random")).status, 200);
      const line = JSON.parse(await log.waitFor(/"route":"\/next"/));
      assert.deepEqual([line.method, line.status, line.msg], ["GET", 200, "request"]);
      assert.equal(log.count(/sk-fast|mode=random/), 0);
    } finally {
      await server.stop();
    }
  });
});
