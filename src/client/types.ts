/**
 * Public types of the `api-key-rotator/client` helper.
 *
 * These types only use web-standard globals (`fetch`, `Response`, `AbortSignal`) so the
 * client works in Node, Next.js (Node and Edge runtimes), Deno, Bun and workers.
 */

/** How the server picks a key: least recently used (`"auto"`) or random (`"random"`). */
export type KeyMode = "auto" | "random";

/** A `fetch`-compatible function. The client always calls it with a string URL and an init. */
export type FetchFunction = (url: string, init: RequestInit) => Promise<Response>;

/** Options for {@link createClient}. Every field is optional. */
export interface ClientOptions {
  /**
   * Base URL of the rotator server, e.g. `"http://keys.internal:8080"`.
   * Default: env `API_KEY_ROTATOR_URL`, else `"http://localhost:8080"`.
   */
  baseUrl?: string | undefined;
  /**
   * Client token sent as `Authorization: Bearer <token>`.
   * Default: env `API_KEY_ROTATOR_TOKEN`; an empty string sends no header.
   */
  token?: string | undefined;
  /** How long a key is reused, in ms, per (mode, pool). Default 500. `0` turns caching off. */
  cacheMs?: number | undefined;
  /** Per-request timeout in ms (covers connect, headers and body). Default 5000. `Infinity` = none. */
  timeoutMs?: number | undefined;
  /** `fetch` implementation to use. Default: the global `fetch`, looked up at call time. */
  fetch?: FetchFunction | undefined;
  /** Clock used for the cache, in ms. Default: `performance.now()` (or `Date.now()`). */
  now?: (() => number) | undefined;
}

/** Per-call options of {@link KeyRotatorClient.getKey}. */
export interface KeyRequestOptions {
  /** Ask for a key from this pool. Omitted from the request when not given. */
  pool?: string | undefined;
  /**
   * Seconds (fractions too, to the millisecond) the server may hold the request until a key is
   * free (default 0: answer at once). A fresh cached key is still used. The request's timeout
   * grows by this much.
   */
  wait?: number | undefined;
  /**
   * Skip the cached key and ask the server; the answer replaces the cached key. For replacing
   * a key that just failed, so neither this caller nor the next gets it again.
   */
  fresh?: boolean | undefined;
  /**
   * Stop waiting when this signal aborts (the call rejects with code `"aborted"`).
   * A request shared with other callers keeps running for them, bounded by `timeoutMs`.
   */
  signal?: AbortSignal | undefined;
}

/** Per-call options of {@link KeyRotatorClient.getApiKey}. */
export interface GetApiKeyOptions extends KeyRequestOptions {
  /**
   * Returned instead of throwing when no key can be obtained from the server.
   * Never used unless given; never cached; not used when `signal` aborts the call.
   */
  fallbackKey?: string | undefined;
}

/** Per-call options of the module-level `getApiKey`: also selects the server. */
export interface DefaultGetApiKeyOptions extends GetApiKeyOptions {
  /** Server to ask; a client (with its own cache) is created once per (baseUrl, token). */
  baseUrl?: string | undefined;
  /** Client token for that server. Default: env `API_KEY_ROTATOR_TOKEN`. */
  token?: string | undefined;
}

/**
 * What happened when a key was used, as `report()` tells the server: `ok`; `rate_limited` (the
 * key rests); `invalid` (the key is disabled); `error` (counts toward a streak of failures).
 */
export type Outcome = "ok" | "rate_limited" | "invalid" | "error";

/** Options of {@link KeyRotatorClient.report}. */
export interface ReportOptions {
  /** For `rate_limited`: seconds the provider asked to wait (its `Retry-After`). */
  retryAfter?: number | undefined;
}

/** What the function given to `withApiKey` learns besides the key. */
export interface KeyUse {
  /** The key's id: safe to log. */
  readonly id: string;
  /** 0 for the first key, 1 for the first retry, ... */
  readonly attempt: number;
}

/** Options of {@link KeyRotatorClient.withApiKey}. */
export interface WithApiKeyOptions {
  /** Default `"auto"`. */
  mode?: KeyMode | undefined;
  pool?: string | undefined;
  /** Seconds the server may hold each request for a key until one is free (see `getKey`). */
  wait?: number | undefined;
  /** Further keys to try after a `rate_limited` or `invalid` outcome. Default 2. */
  retries?: number | undefined;
  /**
   * Called when a report did not reach the server. Reports never fail the call; without this
   * such failures go unnoticed.
   */
  onReportError?: ((error: unknown) => void) | undefined;
}

/** Options of the module-level `withApiKey`. */
export interface DefaultWithApiKeyOptions extends WithApiKeyOptions {
  /** The client to use. Default: the one `getApiKey()` uses (server and token from env). */
  client?: KeyRotatorClient | undefined;
}

/** A key handed out by the server. */
export interface ApiKeyResult {
  /** The secret. Never log it and never send it to a browser. */
  readonly apiKey: string;
  /** The key's id on the server: safe to log. */
  readonly id: string;
}

/** A client with its own cache, created by {@link createClient}. */
export interface KeyRotatorClient {
  /** The normalized server URL this client talks to (no trailing slash). */
  readonly baseUrl: string;
  /**
   * Resolves to a key string; rejects with `KeyUnavailableError` on failure.
   *
   * @example
   * const key = await client.getApiKey("auto", { pool: "openai" });
   */
  getApiKey(mode?: KeyMode, options?: GetApiKeyOptions): Promise<string>;
  /**
   * Like `getApiKey`, but resolves to `{ apiKey, id }` (the id is safe to log).
   *
   * @example
   * const { apiKey, id } = await client.getKey("random");
   */
  getKey(mode?: KeyMode, options?: KeyRequestOptions): Promise<ApiKeyResult>;
  /**
   * Tells the server what happened when the key with this id was used. Rejects with
   * `ReportError` when the server did not take the report.
   *
   * @example
   * await client.report(id, "rate_limited", { retryAfter: 20 });
   */
  report(id: string, outcome: Outcome, options?: ReportOptions): Promise<void>;
  /**
   * Gets a key, calls `fn` with it, reports the outcome, and on `rate_limited` or `invalid`
   * tries another key (up to `retries` more). Resolves to what `fn` returned last, or rejects
   * with what it threw last.
   *
   * @example
   * const res = await client.withApiKey((key) => fetch(url, { headers: { authorization: `Bearer ${key}` } }));
   */
  withApiKey<T>(
    fn: (apiKey: string, use: KeyUse) => T | Promise<T>,
    options?: WithApiKeyOptions,
  ): Promise<T>;
  /**
   * Forgets every cached key, so the next call asks the server again.
   *
   * @example
   * client.clearCache();
   */
  clearCache(): void;
}
