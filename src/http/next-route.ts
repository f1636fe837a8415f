import type { Context } from "koa";
import { POOL_NAME, POOL_NAME_RULE } from "../core/key-format.ts";
import type { SelectionMode } from "../core/key-pool.ts";
import { DEFAULT_POOL } from "../core/key-record.ts";
import { retryAfterSeconds } from "../core/windows.ts";
import type { AcquireResult, KeyStore } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";
import type { WaitingLine } from "./waiting-line.ts";

// With no key that time alone will bring back (an empty pool, say), there is
// no honest Retry-After; a minute is long enough for an operator to act.
export const NO_KEY_RETRY_SECONDS = 60;

const MODES: readonly string[] = ["auto", "random"] satisfies SelectionMode[];

export function parseMode(value: unknown): SelectionMode {
  if (value === undefined) return "auto";
  if (typeof value === "string" && MODES.includes(value)) return value as SelectionMode;
  throw new ApiError(400, "invalid_mode", 'mode must be "auto" or "random"');
}

export function parsePool(value: unknown, store: KeyStore): string {
  if (value === undefined) return DEFAULT_POOL;
  if (typeof value !== "string" || !POOL_NAME.test(value)) {
    throw new ApiError(400, "invalid_pool", `pool must be ${POOL_NAME_RULE}`);
  }
  if (!store.hasPool(value)) throw new ApiError(404, "pool_not_found", "no pool of that name");
  return value;
}

function parseWaitMs(value: unknown, maxWaitMs: number): number {
  if (value === undefined) return 0;
  const seconds =
    typeof value === "string" && /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(seconds)) {
    throw new ApiError(400, "invalid_wait", "wait must be a number of seconds, 0 or more");
  }
  // Asking for more than the server allows is not an error: the server's bound applies.
  return Math.min(seconds * 1000, maxWaitMs);
}

// What URLSearchParams would decode or strip: escapes, '+', a leading '?', anything not plain ASCII.
const NEEDS_DECODING = /[^\x21-\x7e]|[%+?]/;
const NAMES = ["mode", "pool", "wait"] as const;

type QueryValue = string | string[] | undefined;
type NextQuery = Record<(typeof NAMES)[number], QueryValue>;

/**
 * Reads /next's parameters as ctx.query gives them: undefined, a string, or an
 * array when repeated. ctx.query runs URLSearchParams over the whole query and
 * builds an object of every parameter on each request, about a tenth of
 * /next's CPU with `?mode=random`; a query with nothing to decode is read as it
 * stands, in one pass: 87-97 ns for `mode=random`, where a split of the
 * query per parameter took 220-229.
 */
function readQuery(querystring: string): NextQuery {
  const query: NextQuery = { mode: undefined, pool: undefined, wait: undefined };
  if (querystring === "") return query;
  if (NEEDS_DECODING.test(querystring)) {
    const params = new URLSearchParams(querystring);
    for (const name of NAMES) query[name] = oneOrAll(params.getAll(name));
    return query;
  }
  // The next '=' is looked for again only once passed, so a query of many pairs without one is
  // read in linear time, not searched to its end once a pair.
  let eq = -1;
  for (let start = 0; start <= querystring.length; ) {
    const end = endOfPair(querystring, start);
    if (eq < start) eq = nextEquals(querystring, start);
    const nameEnd = Math.min(eq, end);
    const name = NAMES.find(
      (n) => nameEnd - start === n.length && querystring.startsWith(n, start),
    );
    if (name) query[name] = added(query[name], querystring.slice(nameEnd + 1, end));
    start = end + 1;
  }
  return query;
}

function nextEquals(querystring: string, start: number): number {
  const eq = querystring.indexOf("=", start);
  return eq < 0 ? querystring.length : eq;
}

function endOfPair(querystring: string, start: number): number {
  const amp = querystring.indexOf("&", start);
  return amp < 0 ? querystring.length : amp;
}

function oneOrAll(values: string[]): QueryValue {
  return values.length <= 1 ? values[0] : values;
}

function added(previous: QueryValue, value: string): QueryValue {
  if (previous === undefined) return value;
  return Array.isArray(previous) ? [...previous, value] : [previous, value];
}

export interface NextParams {
  readonly mode: SelectionMode;
  readonly pool: string;
  /** 0 when the request does not wait. */
  readonly waitMs: number;
}

/** A /next query string's parameters, checked in this order; throws ApiError for the first bad one. */
export function nextParams(querystring: string, store: KeyStore, maxWaitMs: number): NextParams {
  const query = readQuery(querystring);
  const mode = parseMode(query.mode);
  const pool = parsePool(query.pool, store);
  return { mode, pool, waitMs: parseWaitMs(query.wait, maxWaitMs) };
}

/** GET /next: 200 with a key, 429 over the global cap, 503 when no key is available. */
export function nextRoute(store: KeyStore, line: WaitingLine, maxWaitMs: number) {
  return async function next(ctx: Context): Promise<void> {
    // The router answers HEAD with the GET handler; here that would spend a key nobody receives.
    if (ctx.method === "HEAD") {
      ctx.set("Allow", "GET");
      throw new ApiError(405, "method_not_allowed", "GET /next hands out a key; HEAD cannot");
    }
    const { mode, pool, waitMs } = nextParams(ctx.querystring, store, maxWaitMs);
    const result =
      waitMs > 0 ? await waitFor(ctx, line, mode, pool, waitMs) : await store.acquire(mode, pool);
    if (result === null) {
      ctx.status = 408; // the client left the line; nobody reads this
      return;
    }
    if (!result.ok) throw refusal(result);
    ctx.set("Cache-Control", "no-store");
    ctx.body = dispensed(result, pool);
  };
}

/** The answer to a /next that got a key. */
export function dispensed(result: Extract<AcquireResult, { ok: true }>, pool: string) {
  return { api_key: result.secret.reveal(), id: result.id, pool, probe: result.probe };
}

async function waitFor(
  ctx: Context,
  line: WaitingLine,
  mode: SelectionMode,
  pool: string,
  waitMs: number,
) {
  const gone = new AbortController();
  const onClose = () => {
    if (!ctx.res.writableFinished) gone.abort();
  };
  ctx.res.once("close", onClose);
  try {
    return await line.acquire(mode, pool, waitMs, gone.signal);
  } finally {
    ctx.res.off("close", onClose);
  }
}

export function refusal(result: Extract<AcquireResult, { ok: false }>): ApiError {
  const retry_after =
    result.retryAfterMs === null ? NO_KEY_RETRY_SECONDS : retryAfterSeconds(result.retryAfterMs);
  switch (result.reason) {
    case "global-cap":
      return new ApiError(429, "global_cap", "the per-minute cap across all keys is reached", {
        retry_after,
      });
    case "pool-resting":
      return new ApiError(
        503,
        "pool_rate_limited",
        "the provider is limiting this pool's account as a whole; the pool rests",
        { retry_after },
      );
    case "exhausted":
      return new ApiError(503, "no_key_available", "no key is available right now", {
        retry_after,
      });
  }
}
