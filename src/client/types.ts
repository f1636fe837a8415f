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
   * Forgets every cached key, so the next call asks the server again.
   *
   * @example
   * client.clearCache();
   */
  clearCache(): void;
}
