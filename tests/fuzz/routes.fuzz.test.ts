import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import * as fc from "fast-check";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { type Command, command, type RequestSpec, validSecret } from "./arbitraries.ts";
import { exchange } from "./raw-http.ts";
import { rawBytes, rawRequest } from "./raw-requests.ts";
import { type BuiltRequest, buildRequest, type Tokens, WATCH_MIN_LENGTH } from "./requests.ts";

// FUZZ_RUNS=5000 for a long local run; FUZZ_SEED to replay a failure.
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };

const TOKENS: Tokens = {
  admin: "fuzz-admin-token-0123456789abcdef",
  client: "fuzz-client-token-0123456789abcdef",
};
const LIMITS = { rpm: 2, rpd: 5, tpm: 3, cooldownMs: 600_000 };
const FLAGS = {
  adminToken: [TOKENS.admin],
  clientToken: [TOKENS.client],
  rpm: String(LIMITS.rpm),
  rpd: String(LIMITS.rpd),
  tpm: String(LIMITS.tpm),
  cooldown: String(LIMITS.cooldownMs / 1000),
};
const SEEDS = ["sk-fz-seed-aaaaaaaaaaaaaaaa", "sk-fz-seed-bbbbbbbbbbbbbbbb"];
const ADMIN = { authorization: `Bearer ${TOKENS.admin}` };

// Our own statement of the documented key format, so a server that drifts from it is caught.
const isValidKey = (value: unknown): value is string =>
  typeof value === "string" && /^[\x21-\x7e]{1,512}$/.test(value);

type Json = Record<string, unknown>;

/** What the pool must hold, learned only from answers that said something changed. */
class Model {
  readonly secretOf = new Map<string, string>();
  /** Until when a deactivated key must stay Inactive. */
  readonly restingUntil = new Map<string, number>();
  /** Every string we must never find outside a dispensed key. */
  readonly watched = new Set<string>([TOKENS.admin, TOKENS.client]);

  add(id: string, secret: string): void {
    assert.equal(this.secretOf.has(id), false, `id ${id} handed out twice`);
    assert.equal(this.idOf(secret), undefined, "a key was added twice");
    this.secretOf.set(id, secret);
    if (secret.length >= WATCH_MIN_LENGTH) this.watched.add(secret);
  }

  idOf(secret: string): string | undefined {
    for (const [id, s] of this.secretOf) if (s === secret) return id;
    return undefined;
  }

  pool() {
    return { ids: [...this.secretOf.keys()], secrets: [...this.secretOf.values()] };
  }
}

const ROUTE_METHODS: Record<string, readonly string[]> = {
  "/next": ["GET", "HEAD"],
  "/keys": ["GET", "HEAD"],
  "/stats": ["GET", "HEAD"],
  "/healthz": ["GET", "HEAD"],
  "/add": ["POST"],
  "/add_bulk": ["POST"],
  "/delete": ["DELETE"],
  "/deactivate": ["POST"],
  "/reactivate": ["POST"],
};

/** The route a spec aims at with a method it accepts, when the URL is sure to reach it. */
function exactRoute(spec: RequestSpec, built: BuiltRequest): string | null {
  const route =
    spec.path.kind === "route"
      ? spec.path.path
      : spec.path.kind === "keyRoute" && built.targetId !== null
        ? spec.path.prefix
        : null;
  return route !== null && ROUTE_METHODS[route]?.includes(spec.method) ? route : null;
}

const crossSite = (spec: RequestSpec) =>
  spec.headers.origin !== null ||
  !(
    spec.headers.secFetchSite === null ||
    ["none", "same-origin"].includes(spec.headers.secFetchSite)
  );

type Expected = { status: number; check?: (body: Json) => void };

/** For the requests whose answer the README pins down exactly, that answer. */
function expectedAnswer(spec: RequestSpec, built: BuiltRequest, model: Model): Expected | null {
  const route = exactRoute(spec, built);
  if (route === null || route === "/healthz") return null;
  if (built.auth !== "admin") {
    if (route === "/next") return built.auth === "none" ? { status: 401 } : null;
    return { status: built.auth === "client" ? 403 : 401 };
  }
  const mutating = !ROUTE_METHODS[route]?.includes("GET");
  if (mutating && crossSite(spec)) return { status: 403 };
  if (built.targetId !== null) {
    const id = built.targetId;
    return { status: 200, check: (body) => assert.equal(body.id, id) };
  }
  const body = spec.body;
  const plainJson =
    spec.headers.contentType === "application/json" &&
    spec.headers.contentEncoding === null &&
    (body?.kind === "add" || body?.kind === "bulk");
  if (!plainJson || built.plainBody === undefined) return null;
  const sent = JSON.parse(built.plainBody.toString()) as { key?: unknown; keys?: unknown };
  if (route === "/add" && body.kind === "add" && Object.keys(body.extra).length === 0) {
    if (!isValidKey(sent.key)) return { status: 400 };
    const existing = model.idOf(sent.key);
    return existing === undefined
      ? { status: 201 }
      : { status: 409, check: (b) => assert.equal(b.id, existing) };
  }
  if (route === "/add_bulk" && body.kind === "bulk" && Array.isArray(sent.keys)) {
    const seen = new Set(model.secretOf.values());
    const added: number[] = [];
    sent.keys.forEach((key, index) => {
      if (isValidKey(key) && !seen.has(key)) {
        seen.add(key);
        added.push(index);
      }
    });
    return {
      status: 200,
      check: (body) =>
        assert.deepEqual(
          (body.added as Json[]).map((k) => k.index),
          added,
        ),
    };
  }
  return null;
}

function assertNoLeak(text: string, model: Model, built: BuiltRequest): void {
  for (const secret of [...model.watched, ...built.watched]) {
    for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
      assert.equal(
        text.includes(form),
        false,
        `the answer quotes a secret or token: ${text.slice(0, 300)}`,
      );
    }
  }
}

/** Checks one answer and moves the model by what it says changed. */
function learn(built: BuiltRequest, status: number, body: Json, model: Model, now: number): void {
  const sent = (): { key?: unknown; keys?: unknown } => {
    assert.ok(built.plainBody, "a 2xx change for a request without a body");
    return JSON.parse(built.plainBody.toString());
  };
  if (status === 201) {
    const { key } = sent();
    assert.ok(isValidKey(key), "the server added an invalid key");
    model.add(body.id as string, key);
  } else if (status === 200 && "added_count" in body) {
    const keys = sent().keys as unknown[];
    const added = body.added as Json[];
    const skipped = body.skipped as Json[];
    assert.equal(body.added_count, added.length);
    assert.equal(body.skipped_count, skipped.length);
    assert.deepEqual(
      [...added, ...skipped].map((item) => item.index).sort((a, b) => Number(a) - Number(b)),
      keys.map((_, i) => i),
      "add_bulk must report every item exactly once",
    );
    for (const item of added) {
      const key = keys[item.index as number];
      assert.ok(isValidKey(key), "the server added an invalid key");
      model.add(item.id as string, key);
    }
    for (const item of skipped) {
      if (item.reason === "duplicate") {
        assert.equal(model.secretOf.get(item.id as string), keys[item.index as number]);
      } else {
        assert.equal(item.reason, "invalid");
        assert.equal(isValidKey(keys[item.index as number]), false, "a valid key was skipped");
      }
    }
  } else if (status === 200 && typeof body.api_key === "string") {
    const id = body.id as string;
    assert.equal(model.secretOf.get(id), body.api_key, "/next gave a key that is not in the pool");
    assert.ok((model.restingUntil.get(id) ?? 0) <= now, "/next gave a deactivated key");
  } else if (status === 200 && typeof body.preview === "string") {
    const id = body.id as string;
    assert.ok(model.secretOf.has(id), "a change to a key that is not in the pool");
    if (built.method === "DELETE") {
      model.secretOf.delete(id);
      model.restingUntil.delete(id);
    } else if (body.status === "Inactive") {
      model.restingUntil.set(id, now + LIMITS.cooldownMs);
    } else {
      assert.equal(body.status, "Active");
      model.restingUntil.delete(id);
    }
  } else if (status === 200 && "total_keys" in body) {
    assert.equal(body.total_keys, model.secretOf.size);
  } else if (status === 409) {
    assert.equal(model.secretOf.get(body.id as string), sent().key);
  } else if (status === 429 || status === 503) {
    assert.ok(Number.isInteger(body.retry_after) && (body.retry_after as number) > 0);
  }
}

/**
 * The one documented 5xx a request can get here: /next with no key to give
 * (a 503 persist_failed needs a failing disk). HEAD has no body to tell it
 * by, but it alone carries Retry-After among 5xx answers.
 */
function noKeyAvailable(res: Response, text: string, method: string): boolean {
  if (res.status !== 503 || res.headers.get("retry-after") === null) return false;
  return method === "HEAD" || (JSON.parse(text) as Json).code === "no_key_available";
}

async function send(server: TestServer, built: BuiltRequest): Promise<Response> {
  // Appended, not resolved: `new URL("//x", base)` would read a path as a host.
  return fetch(server.url + built.pathAndQuery, {
    method: built.method,
    headers: built.headers,
    // A copy typed as fetch wants it: a view of a plain ArrayBuffer.
    body: built.body && new Uint8Array(built.body),
    redirect: "manual",
    signal: AbortSignal.timeout(20_000),
  });
}

/** One request: the answer's shape, its secrets, the exact answer where known, then the model. */
async function runRequest(
  server: TestServer,
  spec: RequestSpec,
  model: Model,
  now: number,
  seen: Set<number>,
): Promise<void> {
  const built = buildRequest(spec, model.pool(), TOKENS);
  const expected = expectedAnswer(spec, built, model);
  const res = await send(server, built);
  const text = await res.text();
  const { status } = res;
  seen.add(status);
  const where = `${built.method} ${built.pathAndQuery.slice(0, 200)} -> ${status} ${text.slice(0, 300)}`;
  assert.ok(
    (status >= 200 && status < 300) ||
      (status >= 400 && status < 500) ||
      noKeyAvailable(res, text, built.method),
    where,
  );
  if (expected) assert.equal(status, expected.status, where);
  if (built.method === "HEAD" || (built.method === "OPTIONS" && status < 300)) {
    assert.equal(text, "", where);
    if (built.method === "OPTIONS") assert.ok(res.headers.get("allow"), where);
    return;
  }
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, where);
  const body = JSON.parse(text) as Json;
  if (status >= 400) {
    assert.equal(typeof body.error, "string", where);
    assert.equal(typeof body.code, "string", where);
  }
  const dispensed = status === 200 && typeof body.api_key === "string";
  if (dispensed) {
    assert.equal(typeof body.id, "string", where);
    assert.notEqual(built.auth, "none", `a key was dispensed without a token: ${where}`);
    // The dispensed key is the one secret this answer may hold.
    assertNoLeak(JSON.stringify({ ...body, api_key: null }), model, built);
  } else {
    assertNoLeak(text, model, built);
    if (status < 300 && body.status !== "ok") {
      assert.equal(built.auth, "admin", `a 2xx without the admin token: ${where}`);
    }
  }
  expected?.check?.(body);
  learn(built, status, body, model, now);
}

/** The pool as GET /keys shows it agrees with the model and respects every limit. */
async function checkInvariants(server: TestServer, model: Model, now: number): Promise<void> {
  const res = await server.request("/keys", { headers: ADMIN });
  assert.equal(res.status, 200);
  const keys = (await res.json()) as Json[];
  assert.deepEqual(keys.map((k) => k.id).sort(), [...model.secretOf.keys()].sort(), "key list");
  for (const key of keys) {
    const usage = key.usage as { requests_this_minute: number; requests_this_day: number };
    assert.ok(usage.requests_this_minute <= LIMITS.rpm, `over rpm: ${JSON.stringify(key)}`);
    assert.ok(usage.requests_this_day <= LIMITS.rpd, `over rpd: ${JSON.stringify(key)}`);
    assert.ok(usage.requests_this_minute <= usage.requests_this_day, JSON.stringify(key));
    const restingUntil = model.restingUntil.get(key.id as string);
    if (restingUntil !== undefined && now < restingUntil) {
      assert.equal(key.status, "Inactive", `back before its cooldown: ${JSON.stringify(key)}`);
    }
    if (key.status === "Inactive") {
      assert.ok(
        restingUntil !== undefined,
        `Inactive without a deactivation: ${JSON.stringify(key)}`,
      );
      assert.ok(Date.parse(key.available_at as string) > now, JSON.stringify(key));
    } else {
      assert.equal(key.status, "Active");
    }
  }
}

/** keys.json, once flushed, holds exactly the model's keys. */
async function checkDisk(server: TestServer, model: Model): Promise<void> {
  await server.store.flush();
  const onDisk = JSON.parse(await readFile(server.keysFile, "utf8")) as {
    id: string;
    key: string;
  }[];
  assert.deepEqual(
    onDisk.map((k) => [k.id, k.key]).sort(),
    [...model.secretOf].sort(),
    "keys.json differs from the key list",
  );
}

async function runCommands(commands: readonly Command[], seen: Set<number>): Promise<void> {
  const clock = new FakeClock();
  const server = await startTestServer(FLAGS, { clock: clock.now });
  try {
    const model = new Model();
    const seeded = await server.store.addBulk(SEEDS);
    seeded.forEach((result, i) => {
      assert.ok(result.ok);
      model.add(result.key.id, SEEDS[i] as string);
    });
    for (const cmd of commands) {
      if (cmd.kind === "tick") clock.advance(cmd.ms);
      else await runRequest(server, cmd, model, clock.now(), seen);
      await checkInvariants(server, model, clock.now());
    }
    await checkDisk(server, model);
  } finally {
    await server.stop();
  }
}

describe("fuzz: random requests on every route", () => {
  it(`answers 2xx or a 4xx JSON error, leaks nothing, and keeps the pool consistent (${RUNS} runs)`, async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 1, maxLength: 16 }), (commands) =>
        runCommands(commands, seen),
      ),
      { numRuns: RUNS, ...SEED },
    );
    // A generator that stopped reaching a branch would make the property vacuous there.
    if (RUNS >= 200) {
      for (const status of [200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 429, 503]) {
        assert.ok(seen.has(status), `no request was answered ${status}: ${[...seen].sort()}`);
      }
    }
  });

  it("finds any valid key by its URL-encoded string on every :key route", async () => {
    await fc.assert(
      fc.asyncProperty(validSecret, async (secret) => {
        const server = await startTestServer(FLAGS);
        try {
          const added = await server.request("/add", {
            method: "POST",
            json: { key: secret },
            headers: ADMIN,
          });
          assert.equal(added.status, 201);
          const { id } = (await added.json()) as { id: string };
          for (const [method, route, status] of [
            ["POST", "/deactivate", "Inactive"],
            ["POST", "/reactivate", "Active"],
            ["DELETE", "/delete", "Active"],
          ] as const) {
            const res = await server.request(`${route}/${encodeURIComponent(secret)}`, {
              method,
              headers: ADMIN,
            });
            const text = await res.text();
            assert.equal(res.status, 200, `${method} ${route}: ${text}`);
            assert.deepEqual([JSON.parse(text).id, JSON.parse(text).status], [id, status]);
            assert.equal(text.includes(secret), false);
          }
        } finally {
          await server.stop();
        }
      }),
      { numRuns: Math.ceil(RUNS / 5), ...SEED },
    );
  });
});

describe("fuzz: malformed HTTP on a raw socket", () => {
  let server: TestServer;
  let keysBefore: string;
  before(async () => {
    server = await startTestServer(FLAGS);
    await server.store.addBulk(SEEDS);
    keysBefore = JSON.stringify((await server.store.list()).map((k) => k.id));
  });
  after(() => server.stop());

  it(`answers 4xx or closes, never 5xx, and keeps serving (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest(TOKENS), async (raw) => {
        const { closed, statuses, received } = await exchange(server.port, rawBytes(raw));
        const text = received.toString("latin1");
        const shown = JSON.stringify(text.slice(0, 400));
        assert.ok(closed, `the server neither answered nor closed: ${shown}`);
        // /next may find every key used up if the test runs across a minute boundary.
        const noKey = text.includes('"code":"no_key_available"');
        for (const status of statuses) assert.ok(status < 500 || (status === 503 && noKey), shown);
        assert.equal(text.includes(TOKENS.admin) || text.includes(TOKENS.client), false, shown);
        const health = await server.request("/healthz");
        assert.equal(health.status, 200);
        await health.text();
      }),
      { numRuns: RUNS, ...SEED },
    );
    // No raw request carries a body that could add a key, nor a valid way to remove one.
    assert.equal(JSON.stringify((await server.store.list()).map((k) => k.id)), keysBefore);
  });
});
