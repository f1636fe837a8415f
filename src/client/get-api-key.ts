// Zero-dependency client for the key rotator server. Only web-standard globals are used
// (fetch, AbortController, setTimeout, URL) so it runs in Node, Next.js (Node and Edge),
// Deno, Bun and workers. Do not add `node:` imports or runtime dependencies here.

import {
  KeyUnavailableError,
  ReportError,
  type RotatorError,
  type RotatorErrorDetails,
} from "./errors.ts";
import { parseRetryAfter } from "./outcome.ts";
import type {
  ApiKeyResult,
  ClientOptions,
  DefaultGetApiKeyOptions,
  DefaultWithApiKeyOptions,
  FetchFunction,
  GetApiKeyOptions,
  KeyMode,
  KeyRequestOptions,
  KeyRotatorClient,
  KeyUse,
  Outcome,
  ReportOptions,
  WithApiKeyOptions,
} from "./types.ts";
import { runWithApiKey } from "./with-api-key.ts";

const DEFAULT_BASE_URL = "http://localhost:8080";
const DEFAULT_CACHE_MS = 500;
const DEFAULT_TIMEOUT_MS = 5000;
/** setTimeout fires at once for delays above 2^31-1 ms, so longer timeouts mean "none". */
const MAX_TIMER_MS = 2_147_483_647;
const MAX_SERVER_TEXT = 300;

/** One cache entry per (mode, pool): the URL is built once, when the entry is created. */
interface Slot {
  readonly url: string;
  result: ApiKeyResult | undefined;
  expiresAt: number;
  inflight: Promise<ApiKeyResult> | undefined;
}

function readEnv(name: string): string | undefined {
  try {
    const value = globalThis.process?.env?.[name];
    return typeof value === "string" && value !== "" ? value : undefined;
  } catch {
    // Some runtimes (e.g. Deno without --allow-env) throw on env access.
    return undefined;
  }
}

function defaultClock(): () => number {
  const perf = globalThis.performance;
  return typeof perf?.now === "function" ? () => perf.now() : Date.now;
}

function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // The URL itself is not echoed: it may carry secrets.
    throw new TypeError("api-key-rotator client: baseUrl is not a valid absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError("api-key-rotator client: baseUrl must be an http: or https: URL");
  }
  if (url.username !== "" || url.password !== "") {
    throw new TypeError("api-key-rotator client: baseUrl must not contain credentials; use token");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new TypeError("api-key-rotator client: baseUrl must not have a query or fragment");
  }
  return url.origin + url.pathname.replace(/\/+$/, "");
}

function clip(text: string): string {
  return text.length > MAX_SERVER_TEXT ? `${text.slice(0, MAX_SERVER_TEXT)}…` : text;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function seconds(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function abortedError(signal: AbortSignal): KeyUnavailableError {
  return new KeyUnavailableError("api-key-rotator: the request for a key was aborted", {
    status: 0,
    code: "aborted",
    cause: signal.reason,
  });
}

type ErrorClass = new (message: string, details: RotatorErrorDetails) => RotatorError;

/** The two requests: the name error messages give them, and the error class each fails with. */
const KEY_REQUEST = { label: "key request", ErrorClass: KeyUnavailableError as ErrorClass };
const REPORT = { label: "report", ErrorClass: ReportError as ErrorClass };
type RequestKind = typeof KEY_REQUEST;

// The server takes fractions of a second; a timer cannot run for more than this.
const MAX_WAIT_SECONDS = Math.floor(MAX_TIMER_MS / 1000);

function invalidWait(wait: number): RangeError | undefined {
  return Number.isFinite(wait) && wait >= 0 && wait <= MAX_WAIT_SECONDS
    ? undefined
    : new RangeError(
        `api-key-rotator client: wait must be a number of seconds from 0 to ${MAX_WAIT_SECONDS}`,
      );
}

/** `wait` as the server reads it: plain decimal digits, to the millisecond ("1.5", never "1e-7"); "0" for less than half a millisecond. */
function waitParam(wait: number): string {
  return wait.toFixed(3).replace(/\.?0+$/, "");
}

/** Settles with `pending`, or rejects as soon as `signal` aborts (without cancelling `pending`). */
function raceAbort<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

class Client implements KeyRotatorClient {
  readonly baseUrl: string;
  readonly #token: string | undefined;
  readonly #headers: Record<string, string>;
  readonly #jsonHeaders: Record<string, string>;
  readonly #cacheMs: number;
  readonly #timeoutMs: number | undefined;
  readonly #fetch: FetchFunction;
  readonly #now: () => number;
  /** mode -> pool (undefined = no pool) -> slot. Nested maps: no key strings built per call. */
  readonly #slots = new Map<string, Map<string | undefined, Slot>>();

  constructor(options: ClientOptions = {}) {
    this.baseUrl = normalizeBaseUrl(
      options.baseUrl ?? readEnv("API_KEY_ROTATOR_URL") ?? DEFAULT_BASE_URL,
    );

    const token = options.token !== undefined ? options.token : readEnv("API_KEY_ROTATOR_TOKEN");
    this.#token = token === "" ? undefined : token;
    this.#headers = { accept: "application/json" };
    if (this.#token !== undefined) this.#headers.authorization = `Bearer ${this.#token}`;
    this.#jsonHeaders = { ...this.#headers, "content-type": "application/json" };

    const cacheMs = options.cacheMs ?? DEFAULT_CACHE_MS;
    if (typeof cacheMs !== "number" || !(cacheMs >= 0)) {
      throw new RangeError("api-key-rotator client: cacheMs must be a number >= 0");
    }
    this.#cacheMs = cacheMs;

    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
      throw new RangeError("api-key-rotator client: timeoutMs must be a number > 0 (or Infinity)");
    }
    this.#timeoutMs = timeoutMs > MAX_TIMER_MS ? undefined : timeoutMs;

    // Looked up per call (not captured) so polyfills installed later are honoured; called as a
    // plain function because some runtimes reject `fetch` called with a foreign `this`.
    this.#fetch = options.fetch ?? ((url, init) => globalThis.fetch(url, init));
    this.#now = options.now ?? defaultClock();
  }

  getApiKey(mode: KeyMode = "auto", options?: GetApiKeyOptions): Promise<string> {
    const slot = this.#slot(mode, options?.pool);
    // Warm path: one map lookup per level, one clock read, no awaits.
    const cached = this.#cached(slot, options);
    return cached !== undefined
      ? Promise.resolve(cached.apiKey)
      : this.#getApiKeySlow(slot, options);
  }

  getKey(mode: KeyMode = "auto", options?: KeyRequestOptions): Promise<ApiKeyResult> {
    const slot = this.#slot(mode, options?.pool);
    const cached = this.#cached(slot, options);
    return cached !== undefined ? Promise.resolve(cached) : this.#obtain(slot, options);
  }

  async report(id: string, outcome: Outcome, options?: ReportOptions): Promise<void> {
    const body: Record<string, unknown> = { id, outcome };
    if (options?.retryAfter !== undefined) body.retry_after = options.retryAfter;
    const { response, text } = await this.#exchange(
      `${this.baseUrl}/report`,
      { method: "POST", headers: this.#jsonHeaders, body: JSON.stringify(body) },
      this.#timeoutMs,
      REPORT,
    );
    if (!response.ok) throw this.#httpError(REPORT, response, text);
  }

  withApiKey<T>(
    fn: (apiKey: string, use: KeyUse) => T | Promise<T>,
    options?: WithApiKeyOptions,
  ): Promise<T> {
    return runWithApiKey(this, fn, options);
  }

  clearCache(): void {
    this.#slots.clear();
  }

  #cached(slot: Slot, options: KeyRequestOptions | undefined): ApiKeyResult | undefined {
    const cached = slot.result;
    if (cached === undefined || this.#now() >= slot.expiresAt) return undefined;
    if (options === undefined) return cached;
    if (options.fresh === true || options.signal?.aborted === true) return undefined;
    // A bad `wait` must fail the same way whether or not a key happens to be cached.
    return options.wait !== undefined && invalidWait(options.wait) !== undefined
      ? undefined
      : cached;
  }

  #slot(mode: string, pool: string | undefined): Slot {
    let byPool = this.#slots.get(mode);
    if (byPool === undefined) {
      byPool = new Map();
      this.#slots.set(mode, byPool);
    }
    let slot = byPool.get(pool);
    if (slot === undefined) {
      let url = `${this.baseUrl}/next?mode=${encodeURIComponent(mode)}`;
      if (pool !== undefined) url += `&pool=${encodeURIComponent(pool)}`;
      slot = { url, result: undefined, expiresAt: 0, inflight: undefined };
      byPool.set(pool, slot);
    }
    return slot;
  }

  async #getApiKeySlow(slot: Slot, options: GetApiKeyOptions | undefined): Promise<string> {
    try {
      return (await this.#obtain(slot, options)).apiKey;
    } catch (error) {
      const fallbackKey = options?.fallbackKey;
      if (
        fallbackKey !== undefined &&
        error instanceof KeyUnavailableError &&
        error.code !== "aborted"
      ) {
        return fallbackKey;
      }
      throw error;
    }
  }

  #obtain(slot: Slot, options: KeyRequestOptions | undefined): Promise<ApiKeyResult> {
    const signal = options?.signal;
    if (signal?.aborted === true) return Promise.reject(abortedError(signal));
    const wait = options?.wait ?? 0;
    const badWait = invalidWait(wait);
    if (badWait !== undefined) return Promise.reject(badWait);
    if (options?.fresh === true) {
      slot.result = undefined;
      slot.expiresAt = 0;
    }
    let pending: Promise<ApiKeyResult>;
    if (this.#cacheMs === 0) {
      // With the cache off every call gets its own request (and so, usually, its own key).
      pending = this.#request(slot, wait);
    } else if (wait === 0 && options?.fresh !== true) {
      pending = slot.inflight ?? this.#startShared(slot);
    } else {
      // Not shared: a waiting call must not take a "no key" meant for callers that would not
      // wait, nor make them wait; a fresh call must not take a key asked for before it.
      pending = this.#startOwn(slot, wait);
    }
    return signal === undefined ? pending : raceAbort(pending, signal);
  }

  #startShared(slot: Slot): Promise<ApiKeyResult> {
    const startedAt = this.#now();
    const pending: Promise<ApiKeyResult> = this.#request(slot, 0).then(
      (result) => {
        if (slot.inflight === pending) slot.inflight = undefined;
        this.#fill(slot, result, startedAt);
        return result;
      },
      (error: unknown) => {
        // Failures are shared with the callers already waiting, but never cached.
        if (slot.inflight === pending) slot.inflight = undefined;
        throw error;
      },
    );
    slot.inflight = pending;
    return pending;
  }

  async #startOwn(slot: Slot, wait: number): Promise<ApiKeyResult> {
    const startedAt = this.#now();
    const result = await this.#request(slot, wait);
    this.#fill(slot, result, startedAt);
    return result;
  }

  /**
   * The window starts when the server was asked, so a key is never reused for longer than
   * cacheMs after the server handed it out; a newer entry is never replaced by an older one.
   */
  #fill(slot: Slot, result: ApiKeyResult, startedAt: number): void {
    const expiresAt = startedAt + this.#cacheMs;
    if (expiresAt <= slot.expiresAt) return;
    slot.result = result;
    slot.expiresAt = expiresAt;
  }

  async #request(slot: Slot, wait: number): Promise<ApiKeyResult> {
    const waitText = waitParam(wait);
    // The server may hold a waiting request for `wait` seconds before it even starts to answer.
    const timeoutMs =
      this.#timeoutMs === undefined || this.#timeoutMs + wait * 1000 > MAX_TIMER_MS
        ? undefined
        : this.#timeoutMs + wait * 1000;
    const { response, text } = await this.#exchange(
      waitText === "0" ? slot.url : `${slot.url}&wait=${waitText}`,
      {
        method: "GET",
        headers: this.#headers,
        // Every call must reach the server: Next.js caches GET fetches by default in some
        // versions, which would hand out one key forever.
        cache: "no-store",
      },
      timeoutMs,
      KEY_REQUEST,
    );
    if (!response.ok) throw this.#httpError(KEY_REQUEST, response, text);
    const record = parseJson(text);
    const apiKey = isRecord(record) ? record.api_key : undefined;
    const id = isRecord(record) ? record.id : undefined;
    if (typeof apiKey === "string" && apiKey !== "" && typeof id === "string") {
      return Object.freeze({ apiKey, id });
    }
    // The body is not quoted: it may contain a key.
    throw new KeyUnavailableError(
      `api-key-rotator: the key server answered HTTP ${response.status} without a usable api_key and id`,
      { status: response.status, code: "bad_response" },
    );
  }

  /** Sends one request and reads the whole body, both within `timeoutMs`. */
  async #exchange(
    url: string,
    init: RequestInit,
    timeoutMs: number | undefined,
    kind: RequestKind,
  ): Promise<{ response: Response; text: string }> {
    const controller = new AbortController();
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs);
    try {
      const response = await this.#fetch(url, { ...init, signal: controller.signal });
      return { response, text: await response.text() };
    } catch (error) {
      if (timedOut) {
        throw new kind.ErrorClass(
          `api-key-rotator: ${kind.label}: no answer from the key server within ${timeoutMs} ms`,
          { status: 0, code: "timeout", cause: error },
        );
      }
      throw new kind.ErrorClass(`api-key-rotator: ${kind.label}: could not reach the key server`, {
        status: 0,
        code: "network_error",
        cause: error,
      });
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  #httpError(kind: RequestKind, response: Response, text: string): RotatorError {
    const status = response.status;
    const record = parseJson(text);
    const body = isRecord(record) ? record : undefined;
    const code =
      typeof body?.code === "string" && body.code !== "" ? clip(body.code) : "http_error";
    let serverMessage = typeof body?.error === "string" ? clip(body.error) : "";
    // Defensive: never let a server that echoes the token put it into our message.
    if (this.#token !== undefined && serverMessage.includes(this.#token)) {
      serverMessage = serverMessage.replaceAll(this.#token, "[redacted]");
    }
    const retryAfter =
      parseRetryAfter(response.headers.get("retry-after")) ?? seconds(body?.retry_after);
    return new kind.ErrorClass(
      `api-key-rotator: ${kind.label}: the key server answered HTTP ${status} (${code})${serverMessage === "" ? "" : `: ${serverMessage}`}`,
      { status, code, retryAfter },
    );
  }
}

/**
 * Creates a client with its own cache and settings.
 *
 * @example
 * const keys = createClient({ baseUrl: "http://keys.internal:8080", token: process.env.ROTATOR_TOKEN });
 * const apiKey = await keys.getApiKey("auto", { pool: "openai" });
 */
export function createClient(options?: ClientOptions): KeyRotatorClient {
  return new Client(options);
}

let defaultClient: Client | undefined;
/**
 * baseUrl option -> token option -> client. `undefined` stands for "from env", resolved once when
 * that client is created, so the warm path reads no env and builds no strings.
 */
const clientsByServer = new Map<string | undefined, Map<string | undefined, Client>>();

function clientFor(options: DefaultGetApiKeyOptions | undefined): Client {
  const baseUrl = options?.baseUrl;
  const token = options?.token;
  if (baseUrl === undefined && token === undefined) {
    defaultClient ??= new Client();
    return defaultClient;
  }
  let byToken = clientsByServer.get(baseUrl);
  let client = byToken?.get(token);
  if (client === undefined) {
    client = new Client({ baseUrl, token }); // may throw: then nothing is stored
    if (byToken === undefined) {
      byToken = new Map();
      clientsByServer.set(baseUrl, byToken);
    }
    byToken.set(token, client);
  }
  return client;
}

/**
 * Resolves to an API key from the rotator server; rejects with `KeyUnavailableError` when none
 * can be had (unless `fallbackKey` is given). Keys are cached for 500 ms per (server, mode, pool)
 * and concurrent calls share one request. The server comes from `options.baseUrl`, else env
 * `API_KEY_ROTATOR_URL`, else `http://localhost:8080`; the token from `options.token`, else env
 * `API_KEY_ROTATOR_TOKEN`. Env is read once, when the client for those options is first created.
 * Server-side only: never hand the key to a browser.
 *
 * @example
 * import { getApiKey } from "api-key-rotator/client";
 * const apiKey = await getApiKey(); // mode "auto"
 * const other = await getApiKey("random", { pool: "openai" });
 */
export function getApiKey(
  mode: KeyMode = "auto",
  options?: DefaultGetApiKeyOptions,
): Promise<string> {
  let client: Client;
  try {
    client = clientFor(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return client.getApiKey(mode, options);
}

/**
 * Gets a key, calls `fn` with it, reports how it went, and on `rate_limited` or `invalid` tries
 * another key (up to `retries` more, default 2). A returned `Response` is judged by its status,
 * a thrown error by its `status` if it has one. Uses `options.client`, else the client
 * `getApiKey()` uses.
 *
 * @example
 * import { withApiKey } from "api-key-rotator/client";
 * const res = await withApiKey((key) => fetch(url, { headers: { authorization: `Bearer ${key}` } }), {
 *   pool: "openai",
 * });
 */
export function withApiKey<T>(
  fn: (apiKey: string, use: KeyUse) => T | Promise<T>,
  options?: DefaultWithApiKeyOptions,
): Promise<T> {
  let client: KeyRotatorClient;
  try {
    client = options?.client ?? clientFor(undefined);
  } catch (error) {
    return Promise.reject(error);
  }
  return client.withApiKey(fn, options);
}
