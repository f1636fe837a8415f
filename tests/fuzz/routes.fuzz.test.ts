import assert from "node:assert/strict";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as fc from "fast-check";
import type { NewKey } from "../../src/core/key-record.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { makeTempDir, startTestServer, type TestServer } from "../helpers/test-server.ts";
import {
  type Command,
  command,
  type RefSpec,
  type RequestSpec,
  reportingCommand,
  validSecret,
} from "./arbitraries.ts";
import {
  bodyPoolVerdict,
  DEFAULT_POOL,
  expiresAtVerdict,
  isValidKey,
  limitsVerdict,
  poolNameVerdict,
  reportVerdict,
  type Verdict,
  waitVerdict,
} from "./formats.ts";
import { type KeyState, Model, type PoolLimits } from "./model.ts";
import { exchange } from "./raw-http.ts";
import { rawBytes, rawRequest } from "./raw-requests.ts";
import { type BuiltRequest, buildRequest, type Tokens } from "./requests.ts";

// FUZZ_RUNS=5000 for a long local run; FUZZ_SEED to replay a failure.
const RUNS = Number(process.env.FUZZ_RUNS ?? 250);
const SEED = process.env.FUZZ_SEED === undefined ? {} : { seed: Number(process.env.FUZZ_SEED) };

const TOKENS: Tokens = {
  admin: "fuzz-admin-token-0123456789abcdef",
  client: "fuzz-client-token-0123456789abcdef",
};
const LIMITS: PoolLimits = { rpm: 2, rpd: 5, tpm: 3, cooldownMs: 600_000 };
const FLAGS = {
  adminToken: [TOKENS.admin],
  clientToken: [TOKENS.client],
  rpm: String(LIMITS.rpm),
  rpd: String(LIMITS.rpd),
  tpm: String(LIMITS.tpm),
  cooldown: String(LIMITS.cooldownMs / 1000),
};
const START = Date.parse("2026-01-15T10:00:00.000Z");

/** A server's settings and first keys, as the model must know them. */
interface Setup {
  readonly flags: typeof FLAGS & { readonly config?: string };
  readonly limits: PoolLimits;
  readonly pools: Readonly<Record<string, Partial<PoolLimits>>>;
  readonly seeds: readonly { readonly secrets: readonly string[]; readonly options: NewKey }[];
}

// openai has limits of its own; spare is configured and mostly empty. No pool
// names a provider, so a key test answers 409 without calling out.
const POOLS: Setup["pools"] = {
  openai: { rpm: 1, rpd: 3, tpm: 4, cooldownMs: 60_000 },
  spare: {},
};
const CONFIG = { pools: { openai: { rpm: 1, rpd: 3, tpm: 4, cooldown: 60 }, spare: {} } };
// Every pool starts with keys; the default pool also with one of its own limits and
// one that expires at the first tick past a minute.
const SEEDS: Setup["seeds"] = [
  { secrets: ["sk-fz-seed-aaaaaaaaaaaaaaaa"], options: {} },
  { secrets: ["sk-fz-seed-bbbbbbbbbbbbbbbb"], options: { limits: { rpm: 1 } } },
  { secrets: ["sk-fz-seed-eeeeeeeeeeeeeeee"], options: { expiresAt: START + 61_000 } },
  { secrets: ["sk-fz-seed-cccccccccccccccc"], options: { pool: "openai" } },
  { secrets: ["sk-fz-seed-dddddddddddddddd"], options: { pool: "openai", limits: { rpd: 1 } } },
];

// Limits loose enough that rests, probes and pool rests decide what /next answers.
const REPORTING_LIMITS: PoolLimits = { rpm: 3, rpd: 20, tpm: 10, cooldownMs: 60_000 };
const REPORTING: Setup = {
  flags: {
    ...FLAGS,
    rpm: String(REPORTING_LIMITS.rpm),
    rpd: String(REPORTING_LIMITS.rpd),
    tpm: String(REPORTING_LIMITS.tpm),
    cooldown: String(REPORTING_LIMITS.cooldownMs / 1000),
  },
  limits: REPORTING_LIMITS,
  pools: {},
  seeds: [
    { secrets: ["sk-fz-seed-aaaaaaaaaaaaaaaa", "sk-fz-seed-bbbbbbbbbbbbbbbb"], options: {} },
    { secrets: ["sk-fz-seed-eeeeeeeeeeeeeeee"], options: { limits: { rpm: 1 } } },
  ],
};
const ADMIN = { authorization: `Bearer ${TOKENS.admin}` };

type Json = Record<string, unknown>;

const ROUTE_METHODS: Record<string, readonly string[]> = {
  "/next": ["GET", "HEAD"],
  "/keys": ["GET", "HEAD"],
  "/stats": ["GET", "HEAD"],
  "/healthz": ["GET", "HEAD"],
  "/add": ["POST"],
  "/add_bulk": ["POST"],
  "/report": ["POST"],
  "/delete": ["DELETE"],
  "/deactivate": ["POST"],
  "/reactivate": ["POST"],
  "/keys/:key/test": ["POST"],
};
// Routes a client token opens; every other route needs the admin token.
const CLIENT_ROUTES = new Set(["/next", "/report"]);

/** A `:key` segment the model knows to name no key: a plain word that is no id or key string. */
function namesNoKey(ref: RefSpec, model: Model): boolean {
  if (ref.kind !== "literal" || !/^[\w-]+$/.test(ref.text)) return false;
  return !model.keys.has(ref.text) && model.idOf(ref.text) === undefined;
}

/** The route a spec aims at with a method it accepts, when the URL is sure to reach it. */
function exactRoute(spec: RequestSpec, built: BuiltRequest, model: Model): string | null {
  const { path } = spec;
  const route =
    path.kind === "route"
      ? path.path
      : path.kind === "literal" || (built.targetId === null && !namesNoKey(path.ref, model))
        ? null
        : path.kind === "keyTest"
          ? "/keys/:key/test"
          : path.prefix;
  return route !== null && ROUTE_METHODS[route]?.includes(spec.method) ? route : null;
}

/** The route a 2xx came from, by its path (the server matched it, so it is one of ours). */
function answeredRoute(built: BuiltRequest): string {
  const path = (built.pathAndQuery.split("?")[0] ?? "").replace(/(.)\/$/, "$1");
  const keyRoute = /^\/(delete|deactivate|reactivate)\/./.exec(path);
  if (keyRoute) return `/${keyRoute[1]}`;
  return path;
}

const crossSite = (spec: RequestSpec) =>
  spec.headers.origin !== null ||
  !(
    spec.headers.secFetchSite === null ||
    ["none", "same-origin"].includes(spec.headers.secFetchSite)
  );

/** One answer the README allows; `code` unset: any. */
interface Answer {
  readonly status: number;
  readonly code?: string;
}
/** The answers a request may get (several when it breaks several rules), and what a right one holds. */
interface Expected {
  readonly anyOf: readonly Answer[];
  readonly check?: (body: Json) => void;
}

const answer = (status: number, code?: string, check?: (body: Json) => void): Expected => ({
  anyOf: [code === undefined ? { status } : { status, code }],
  ...(check ? { check } : {}),
});

const isoMs = (value: unknown): number | null =>
  value === null ? null : Date.parse(value as string);

/**
 * The refusals a set of verdicts adds up to: null when every value is fine,
 * and "open" when one the README leaves open decides between refusal and success.
 */
function refusals(verdicts: readonly Verdict<unknown>[]): Expected | "open" | null {
  const problems = verdicts.flatMap((v) =>
    v !== "unknown" && !v.ok ? [{ status: 400, code: v.code }] : [],
  );
  const open = verdicts.includes("unknown");
  // With a value left open among them, any of the fields may be the one refused first.
  if (problems.length > 0) return { anyOf: open ? [{ status: 400 }] : problems };
  return open ? "open" : null;
}

/** The pool a query names, as the README reads it: the default, one valid name, or a refusal. */
function poolParam(values: readonly string[], model: Model): Verdict<string> {
  if (values.length > 1) return { ok: false, code: "invalid_pool" };
  if (values[0] === undefined) return { ok: true, value: DEFAULT_POOL };
  const name = poolNameVerdict(values[0]);
  if (name === "unknown" || !name.ok || model.poolExists(name.value)) return name;
  return { ok: false, code: "pool_not_found" };
}

const statusOf = (code: string) => (code === "pool_not_found" ? 404 : 400);

function paramValues(built: BuiltRequest, name: string): string[] | null {
  return built.params?.filter(([n]) => n === name).map(([, v]) => v) ?? null;
}

function nextAnswer(built: BuiltRequest, model: Model): Expected | null {
  const [modes, pools, waits] = ["mode", "pool", "wait"].map((n) => paramValues(built, n));
  if (!modes || !pools || !waits) return null;
  const mode: Verdict<string> =
    modes.length > 1 || (modes[0] !== undefined && !["auto", "random"].includes(modes[0]))
      ? { ok: false, code: "invalid_mode" }
      : { ok: true, value: modes[0] ?? "auto" };
  const wait: Verdict<number> =
    waits.length > 1
      ? { ok: false, code: "invalid_wait" }
      : waits[0] === undefined
        ? { ok: true, value: 0 }
        : waitVerdict(waits[0]);
  const verdicts = [mode, poolParam(pools, model), wait];
  if (verdicts.includes("unknown")) return null;
  const problems = verdicts.flatMap((v) =>
    v !== "unknown" && !v.ok ? [{ status: statusOf(v.code), code: v.code }] : [],
  );
  // A valid request gets a key, 429 or 503 by state the model does not follow (error streaks, shared quota).
  return problems.length > 0 ? { anyOf: problems } : null;
}

function keysAnswer(built: BuiltRequest, model: Model): Expected | null {
  const pools = paramValues(built, "pool");
  if (!pools) return null;
  const pool = poolParam(pools, model);
  if (pool === "unknown") return null;
  if (!pool.ok) return answer(statusOf(pool.code), pool.code);
  const ids = model.idsOf(pools.length === 0 ? null : pool.value);
  return answer(200, undefined, (body) =>
    assert.deepEqual(
      (body as unknown as Json[]).map((k) => k.id).sort(),
      ids,
      `/keys${pools.length === 0 ? "" : `?pool=${pool.value}`} lists other keys than the model's`,
    ),
  );
}

/** What a 201 for a new key must show, given the options sent. */
function checkNewKey(
  item: Json,
  options: { pool: string; limits: unknown; expiresAt: number | null },
): void {
  assert.equal(item.pool, options.pool, "the key landed in another pool");
  assert.deepEqual(item.limits, options.limits, "the key's limits differ from those sent");
  assert.equal(isoMs(item.expires_at), options.expiresAt, "the key's expires_at differs");
}

function addAnswer(route: string, sent: Json, model: Model): Expected | null {
  const [pool, limits, expiresAt] = [
    bodyPoolVerdict(sent.pool),
    limitsVerdict(sent.limits),
    expiresAtVerdict(sent.expires_at),
  ];
  if (route === "/add") {
    const key: Verdict<string> = isValidKey(sent.key)
      ? { ok: true, value: sent.key }
      : { ok: false, code: "invalid_key" };
    const refused = refusals([key, pool, limits, expiresAt]);
    if (refused !== null) return refused === "open" ? null : refused;
    // A key string equal to another key's id: the server refuses it as that key's duplicate,
    // which keeps `:key` references unambiguous; the README does not say.
    if (model.keys.has(sent.key as string)) return null;
    const existing = model.idOf(sent.key as string);
    if (existing !== undefined) {
      return answer(409, "duplicate_key", (b) => assert.equal(b.id, existing));
    }
  } else {
    // Only the add_bulk bodies the fuzz builds: `keys` is an array of at most 12.
    const refused = refusals([pool, limits, expiresAt]);
    if (refused !== null) return refused === "open" ? null : refused;
  }
  const options = {
    pool: (pool as { value: string }).value,
    limits: (limits as { value: unknown }).value,
    expiresAt: (expiresAt as { value: number | null }).value,
  };
  if (route === "/add") return answer(201, undefined, (body) => checkNewKey(body, options));
  const seen = new Set([...model.keys.values()].map((k) => k.secret));
  const added: number[] = [];
  (sent.keys as unknown[]).forEach((key, index) => {
    if (isValidKey(key) && !seen.has(key)) {
      seen.add(key);
      added.push(index);
    }
  });
  return answer(200, undefined, (body) => {
    const items = body.added as Json[];
    assert.deepEqual(
      items.map((k) => k.index),
      added,
    );
    for (const item of items) checkNewKey(item, options);
  });
}

function reportAnswer(sent: Json, model: Model): Expected | null {
  const report = reportVerdict(sent);
  if (report === "unknown") return null;
  if (!report.ok) return answer(400, report.code);
  const { ref } = report.value;
  const byId = "id" in sent;
  const id = byId ? (model.keys.has(ref) ? ref : undefined) : model.idOf(ref);
  const crossed = byId ? model.idOf(ref) : model.keys.has(ref);
  if (id !== undefined) return answer(200, undefined, (body) => assert.equal(body.id, id));
  // Whether `id` also takes a key string (and `key` an id) the README leaves open.
  return crossed ? null : answer(404, "key_not_found");
}

/** For the requests whose answer the README pins down exactly, that answer. */
function expectedAnswer(spec: RequestSpec, built: BuiltRequest, model: Model): Expected | null {
  const route = exactRoute(spec, built, model);
  if (route === null || route === "/healthz") return null;
  if (built.auth === "none") return answer(401, "unauthorized");
  if (built.auth === "client" && !CLIENT_ROUTES.has(route)) return answer(403, "forbidden");
  const mutating = !ROUTE_METHODS[route]?.includes("GET");
  if (mutating && crossSite(spec)) return answer(403, "cross_site_request");
  if (route === "/next") return spec.method === "GET" ? nextAnswer(built, model) : null;
  if (route === "/keys") return keysAnswer(built, model);
  if (spec.path.kind === "keyRoute" || spec.path.kind === "keyTest") {
    const id = built.targetId;
    if (id === null) return answer(404, "key_not_found");
    if (route === "/keys/:key/test") {
      const { pool } = model.get(id);
      return answer(409, "no_provider", (body) => assert.equal(body.pool, pool));
    }
    return answer(200, undefined, (body) => assert.equal(body.id, id));
  }
  const body = spec.body;
  const plainJson =
    spec.headers.contentType === "application/json" &&
    spec.headers.contentEncoding === null &&
    built.plainBody !== undefined;
  if (!plainJson || body === null) return null;
  const sent = () => JSON.parse((built.plainBody as Buffer).toString()) as Json;
  if (route === "/add" && body.kind === "add" && Object.keys(body.extra).length === 0) {
    return addAnswer(route, sent(), model);
  }
  if (route === "/add_bulk" && body.kind === "bulk") return addAnswer(route, sent(), model);
  if (route === "/report" && body.kind === "report") return reportAnswer(sent(), model);
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

/** A key the server says it added, checked against what was sent, into the model. */
function learnAdded(model: Model, item: Json, secret: unknown, sent: Json): void {
  assert.ok(isValidKey(secret), "the server added an invalid key");
  checkNewKey(item, {
    pool: (sent.pool as string | null | undefined) ?? DEFAULT_POOL,
    limits: sent.limits ?? null,
    expiresAt:
      sent.expires_at === undefined || sent.expires_at === null
        ? null
        : Date.parse(sent.expires_at as string),
  });
  model.add(item.id as string, {
    secret,
    pool: item.pool as string,
    limits: item.limits as KeyState["limits"],
    expiresAt: isoMs(item.expires_at),
  });
}

/** A key refused as a duplicate of `id` is that key (or, see addAnswer, its id). */
function assertDuplicate(model: Model, id: unknown, key: unknown): void {
  assert.ok([model.get(id as string).secret, id].includes(key), "a duplicate of another key");
}

/** Checks one answer and moves the model by what it says changed. */
function learn(built: BuiltRequest, status: number, body: Json, model: Model, now: number): void {
  const sent = (): Json => {
    assert.ok(built.plainBody, "a 2xx change for a request without a body");
    return JSON.parse(built.plainBody.toString());
  };
  const route = answeredRoute(built);
  if (status === 201) {
    const request = sent();
    learnAdded(model, body, request.key, request);
  } else if (status === 200 && "added_count" in body) {
    const request = sent();
    const keys = request.keys as unknown[];
    const added = body.added as Json[];
    const skipped = body.skipped as Json[];
    assert.equal(body.added_count, added.length);
    assert.equal(body.skipped_count, skipped.length);
    assert.deepEqual(
      [...added, ...skipped].map((item) => item.index).sort((a, b) => Number(a) - Number(b)),
      keys.map((_, i) => i),
      "add_bulk must report every item exactly once",
    );
    for (const item of added) learnAdded(model, item, keys[item.index as number], request);
    for (const item of skipped) {
      if (item.reason === "duplicate") {
        assertDuplicate(model, item.id, keys[item.index as number]);
      } else {
        assert.equal(item.reason, "invalid");
        assert.equal(isValidKey(keys[item.index as number]), false, "a valid key was skipped");
      }
    }
  } else if (status === 200 && typeof body.api_key === "string") {
    const id = body.id as string;
    assert.equal(model.get(id).secret, body.api_key, "/next gave a key that is not in the pool");
    const pools = paramValues(built, "pool");
    if (pools?.length === 1) assert.equal(body.pool, pools[0], "/next ignored ?pool=");
    if (pools?.length === 0) assert.equal(body.pool, DEFAULT_POOL, "/next left the default pool");
    assert.equal(typeof body.probe, "boolean");
    model.dispense(id, body.pool as string, body.probe as boolean, now, built.pathAndQuery);
  } else if (status === 200 && typeof body.preview === "string") {
    const id = body.id as string;
    const key = model.get(id);
    if (route === "/report") {
      const report = reportVerdict(sent());
      assert.ok(report !== "unknown" && report.ok, "a malformed report was taken");
      assert.ok([id, key.secret].includes(report.value.ref), "the report went to another key");
      model.report(id, report.value, now);
    } else if (route === "/delete") {
      model.remove(id);
    } else if (route === "/deactivate") {
      model.deactivate(id, now);
    } else {
      assert.equal(route, "/reactivate", `a key answered from ${built.pathAndQuery}`);
      model.reactivate(id);
    }
    if (model.keys.has(id)) checkKey(body, model, now);
  } else if (status === 200 && "total_keys" in body) {
    checkStats(body, model, now);
  } else if (status === 409 && body.code === "duplicate_key") {
    assertDuplicate(model, body.id, sent().key);
  } else if (status === 429 || status === 503) {
    assert.ok(Number.isInteger(body.retry_after) && (body.retry_after as number) > 0);
  }
}

/**
 * The documented 5xx answers a request can get here: /next with no key to
 * give, or a pool resting as a whole (a 503 persist_failed needs a failing
 * disk). HEAD has no body to tell them by, but only they carry Retry-After.
 */
function noKeyAvailable(res: Response, text: string, method: string): boolean {
  if (res.status !== 503 || res.headers.get("retry-after") === null) return false;
  if (method === "HEAD") return true;
  return ["no_key_available", "pool_rate_limited"].includes(
    (JSON.parse(text) as Json).code as string,
  );
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

/** How often each status, error code and key state turned up, to tell a generator that stopped reaching one. */
class Seen {
  readonly #counts = new Map<string, number>();

  add(label: string): void {
    this.#counts.set(label, this.count(label) + 1);
  }

  count(label: string): number {
    return this.#counts.get(label) ?? 0;
  }

  toString(): string {
    return [...this.#counts]
      .sort()
      .map(([label, n]) => `${label}: ${n}`)
      .join(", ");
  }
}

/** One request: the answer's shape, its secrets, the exact answer where known, then the model. */
async function runRequest(
  server: TestServer,
  spec: RequestSpec,
  model: Model,
  now: number,
  seen: Seen,
): Promise<void> {
  const built = buildRequest(spec, model.view(now), TOKENS);
  const expected = expectedAnswer(spec, built, model);
  const res = await send(server, built);
  const text = await res.text();
  const { status } = res;
  seen.add(String(status));
  const where = `${built.method} ${built.pathAndQuery.slice(0, 200)} -> ${status} ${text.slice(0, 300)}`;
  assert.ok(
    (status >= 200 && status < 300) ||
      (status >= 400 && status < 500) ||
      noKeyAvailable(res, text, built.method),
    where,
  );
  if (expected) {
    assert.ok(
      expected.anyOf.some((a) => a.status === status),
      `expected ${JSON.stringify(expected.anyOf)}: ${where}`,
    );
  }
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
    seen.add(body.code as string);
    if (expected) {
      const codes = expected.anyOf.filter((a) => a.status === status).map((a) => a.code);
      assert.ok(codes.includes(undefined) || codes.includes(body.code as string), where);
    }
  }
  const dispensed = status === 200 && typeof body.api_key === "string";
  if (dispensed) {
    assert.equal(typeof body.id, "string", where);
    assert.notEqual(built.auth, "none", `a key was dispensed without a token: ${where}`);
    if (body.probe === true) seen.add("probe");
    // The dispensed key is the one secret this answer may hold.
    assertNoLeak(JSON.stringify({ ...body, api_key: null }), model, built);
  } else {
    assertNoLeak(text, model, built);
    if (status < 300 && body.status !== "ok") {
      const allowed = answeredRoute(built) === "/report" ? ["admin", "client"] : ["admin"];
      assert.ok(allowed.includes(built.auth), `a 2xx without the right token: ${where}`);
    }
  }
  expected?.check?.(body);
  learn(built, status, body, model, now);
}

/** One key as /keys (or a change's answer) shows it, against the model. */
function checkKey(view: Json, model: Model, now: number): void {
  const key = model.get(view.id as string);
  const shown = JSON.stringify(view);
  assert.equal(view.pool, key.pool, `pool: ${shown}`);
  assert.deepEqual(view.limits, key.limits, `limits: ${shown}`);
  assert.equal(isoMs(view.expires_at), key.expiresAt, `expires_at: ${shown}`);
  assert.ok(model.statuses(key, now).includes(view.status as string), `status: ${shown}`);
  const usage = view.usage as Json;
  assert.equal(usage.requests_this_minute, key.usage.thisMinute(now), `minute count: ${shown}`);
  assert.equal(usage.requests_this_day, key.usage.today(now), `day count: ${shown}`);
  assert.deepEqual(view.outcomes, key.outcomes, `outcome counts: ${shown}`);
  const from = model.availableFrom(key, now);
  if (from === Number.POSITIVE_INFINITY) {
    assert.equal(view.available_at, null, `back by time alone: ${shown}`);
  } else {
    const at = isoMs(view.available_at);
    assert.ok(at !== null && at >= Math.floor(from), `available before it may be: ${shown}`);
    if (view.status === "Inactive") assert.ok(at > now, `Inactive yet available: ${shown}`);
  }
  if (!key.disabled && key.restUntil > now) {
    const rest = isoMs(view.rest_until);
    assert.ok(rest !== null && rest >= Math.floor(key.restUntil), `rest cut short: ${shown}`);
  }
}

// The /stats fields that are counts, each summed over the pools at the top.
const SUMMED = [
  "total_keys",
  "active_keys",
  "inactive_keys",
  "disabled_keys",
  "expired_keys",
  "available_keys",
  "dispensed_this_minute",
  "dispensed_today",
] as const;

function checkStats(stats: Json, model: Model, now: number): void {
  const pools = stats.pools as Record<string, Json>;
  const shown = JSON.stringify(stats);
  assert.deepEqual(Object.keys(pools).sort(), model.pools(), `pools: ${shown}`);
  for (const field of SUMMED) {
    const sum = Object.values(pools).reduce((total, pool) => total + (pool[field] as number), 0);
    assert.equal(stats[field], sum, `${field} is not the sum of the pools': ${shown}`);
  }
  assert.deepEqual(
    [stats.global_cap, stats.limits],
    [pools[DEFAULT_POOL]?.global_cap, pools[DEFAULT_POOL]?.limits],
  );
  for (const [name, pool] of Object.entries(pools)) {
    const keys = model.idsOf(name).map((id) => model.get(id));
    const expired = keys.filter((k) => model.statuses(k, now)[0] === "Expired").length;
    const disabled = keys.filter((k) => model.statuses(k, now)[0] === "Disabled").length;
    const free = keys.filter((k) => model.availableFrom(k, now) <= now).length;
    const limits = model.limits(name);
    const usage = model.poolUsage(name);
    const sum = (outcome: keyof KeyState["outcomes"]) =>
      keys.reduce((total, k) => total + k.outcomes[outcome], 0);
    const where = `pools.${name}: ${JSON.stringify(pool)}`;
    assert.equal(pool.total_keys, keys.length, where);
    assert.equal(pool.expired_keys, expired, where);
    assert.equal(pool.disabled_keys, disabled, where);
    assert.equal(
      (pool.active_keys as number) + (pool.inactive_keys as number),
      keys.length - expired - disabled,
      where,
    );
    assert.ok((pool.available_keys as number) <= free, `more keys available than can be: ${where}`);
    assert.equal(pool.dispensed_this_minute, usage.thisMinute(now), where);
    assert.equal(pool.dispensed_today, usage.today(now), where);
    assert.deepEqual(
      pool.global_cap,
      { limit: limits.tpm, remaining: Math.max(0, limits.tpm - usage.thisMinute(now)) },
      where,
    );
    assert.deepEqual(
      pool.limits,
      {
        rpm: limits.rpm,
        rpd: limits.rpd,
        tpm: limits.tpm,
        cooldown_seconds: limits.cooldownMs / 1000,
      },
      where,
    );
    assert.deepEqual(
      pool.outcomes,
      {
        ok: sum("ok"),
        rate_limited: sum("rate_limited"),
        invalid: sum("invalid"),
        error: sum("error"),
      },
      where,
    );
  }
}

/** The pools as GET /keys and GET /stats show them agree with the model and respect every limit. */
async function checkInvariants(
  server: TestServer,
  model: Model,
  now: number,
  seen: Seen,
): Promise<void> {
  const res = await server.request("/keys", { headers: ADMIN });
  assert.equal(res.status, 200);
  const keys = (await res.json()) as Json[];
  assert.deepEqual(keys.map((k) => k.id).sort(), model.idsOf(null), "key list");
  for (const key of keys) {
    checkKey(key, model, now);
    seen.add(`shown ${key.status}`);
  }
  const stats = await server.request("/stats", { headers: ADMIN });
  assert.equal(stats.status, 200);
  checkStats((await stats.json()) as Json, model, now);
}

/** Every pool's /keys?pool= lists exactly its keys; a pool that does not exist is a 404. */
async function checkPoolListings(server: TestServer, model: Model): Promise<void> {
  for (const pool of [...model.pools(), "no-such-pool"]) {
    const res = await server.request(`/keys?pool=${pool}`, { headers: ADMIN });
    if (!model.poolExists(pool)) {
      assert.equal(res.status, 404, pool);
      assert.equal(((await res.json()) as Json).code, "pool_not_found");
      continue;
    }
    assert.equal(res.status, 200, pool);
    const ids = ((await res.json()) as Json[]).map((k) => k.id).sort();
    assert.deepEqual(ids, model.idsOf(pool), `/keys?pool=${pool}`);
  }
}

/** keys.json, once flushed, holds exactly the model's keys, each in its pool. */
async function checkDisk(server: TestServer, model: Model): Promise<void> {
  await server.store.flush();
  const onDisk = JSON.parse(await readFile(server.keysFile, "utf8")) as {
    id: string;
    key: string;
    pool?: string;
  }[];
  assert.deepEqual(
    onDisk.map((k) => [k.id, k.key, k.pool ?? DEFAULT_POOL]).sort(),
    [...model.keys].map(([id, k]) => [id, k.secret, k.pool]).sort(),
    "keys.json differs from the key list",
  );
}

async function runCommands(commands: readonly Command[], setup: Setup, seen: Seen): Promise<void> {
  const clock = new FakeClock(START);
  const server = await startTestServer(setup.flags, { clock: clock.now });
  try {
    const model = new Model(setup.limits, setup.pools, [TOKENS.admin, TOKENS.client]);
    for (const { secrets, options } of setup.seeds) {
      const seeded = await server.store.addBulk(secrets, options);
      seeded.forEach((result, i) => {
        assert.ok(result.ok);
        const { id, pool, limits, expiresAt } = result.key;
        model.add(id, { secret: secrets[i] as string, pool, limits, expiresAt });
      });
    }
    for (const cmd of commands) {
      if (cmd.kind === "tick") clock.advance(cmd.ms);
      else await runRequest(server, cmd, model, clock.now(), seen);
      await checkInvariants(server, model, clock.now(), seen);
    }
    await checkPoolListings(server, model);
    await checkDisk(server, model);
  } finally {
    await server.stop();
  }
}

/** Fails when the generator stopped reaching a label: the property would be vacuous there. */
function assertReached(seen: Seen, labels: readonly string[]): void {
  if (RUNS < 200) return;
  for (const label of labels) assert.ok(seen.count(label) > 0, `never seen: ${label} (${seen})`);
}

describe("fuzz: random requests on every route", () => {
  let configDir: string;
  let setup: Setup;
  before(async () => {
    configDir = await makeTempDir();
    const config = join(configDir, "pools.json");
    await writeFile(config, JSON.stringify(CONFIG));
    setup = { flags: { ...FLAGS, config }, limits: LIMITS, pools: POOLS, seeds: SEEDS };
  });
  after(() => rm(configDir, { recursive: true, force: true }));

  it(`answers 2xx or a 4xx JSON error, leaks nothing, and keeps the pools consistent (${RUNS} runs)`, async () => {
    const seen = new Seen();
    await fc.assert(
      fc.asyncProperty(
        fc.array(command, { minLength: 1, maxLength: 16, size: "medium" }),
        (commands) => runCommands(commands, setup, seen),
      ),
      { numRuns: RUNS, ...SEED },
    );
    assertReached(seen, [
      ...[200, 201, 400, 401, 403, 404, 405, 409, 413, 415, 429].map(String),
      ...["invalid_report", "invalid_pool", "invalid_wait", "pool_not_found", "no_provider"],
      ...["shown Disabled", "shown Expired"],
    ]);
  });

  it(`keeps every rest, probe and Disabled key out of /next while callers report (${Math.ceil(RUNS / 2)} runs)`, async () => {
    const seen = new Seen();
    await fc.assert(
      fc.asyncProperty(
        fc.array(reportingCommand, { minLength: 1, maxLength: 24, size: "medium" }),
        (commands) => runCommands(commands, REPORTING, seen),
      ),
      { numRuns: Math.ceil(RUNS / 2), ...SEED },
    );
    assertReached(seen, [
      "probe",
      "503",
      "no_key_available",
      "pool_rate_limited",
      "shown Disabled",
    ]);
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
          const reported = await server.request("/report", {
            method: "POST",
            json: { key: secret, outcome: "ok" },
            headers: ADMIN,
          });
          const reportText = await reported.text();
          assert.equal(reported.status, 200, `POST /report: ${reportText}`);
          assert.equal(JSON.parse(reportText).id, id);
          assert.equal(reportText.includes(secret), false);
          const tested = await server.request(`/keys/${encodeURIComponent(secret)}/test`, {
            method: "POST",
            headers: ADMIN,
          });
          const testText = await tested.text();
          assert.deepEqual([tested.status, JSON.parse(testText).code], [409, "no_provider"]);
          assert.equal(testText.includes(secret), false);
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

  it("holds no request past --max-wait 0, however long a wait it asks for", async () => {
    const server = await startTestServer({ ...FLAGS, maxWait: "0", rpm: "1" });
    try {
      await server.store.add("sk-fz-max-wait-0000000");
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            fc.stringMatching(/^\d{1,25}(\.\d{1,12})?$/),
            fc.constantFrom("3600", "3601", "86400", "99999999999999999999"),
          ),
          async (wait) => {
            const started = performance.now();
            const res = await server.request(`/next?wait=${wait}`, { headers: ADMIN });
            const body = (await res.json()) as Json;
            // The one key is spent by the first request of the minute; after that, no key.
            assert.ok(res.status === 200 || body.code === "no_key_available", JSON.stringify(body));
            // Far under the shortest wait a server that ignored the bound would hold.
            assert.ok(performance.now() - started < 900, `held ${wait} s`);
          },
        ),
        { numRuns: RUNS, ...SEED },
      );
    } finally {
      await server.stop();
    }
  });
});

describe("fuzz: malformed HTTP on a raw socket", () => {
  let server: TestServer;
  let keysBefore: string;
  before(async () => {
    server = await startTestServer(FLAGS);
    await server.store.addBulk(SEEDS.flatMap((seed) => seed.secrets));
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
