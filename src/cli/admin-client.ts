import type { keyJson, statsJson } from "../http/key-json.ts";
import type { KeyTestOutcome } from "../providers/key-tester.ts";
import { UsageError } from "./exit-codes.ts";

export type KeyJson = ReturnType<typeof keyJson>;
export type StatsJson = ReturnType<typeof statsJson>;
export type KeyMode = "auto" | "random";

export interface NextJson {
  api_key: string;
  id: string;
}

export interface BulkJson {
  added_count: number;
  skipped_count: number;
  added: (KeyJson & { index: number })[];
  skipped: { index: number; reason: "invalid" | "duplicate"; error?: string; id?: string }[];
}

/** The answer of POST /keys/:key/test (src/http/key-test-route.ts). */
export interface KeyTestJson {
  id: string;
  outcome: KeyTestOutcome;
  /** The provider's HTTP status; null when it did not answer. */
  status: number | null;
  /** Seconds, from the provider's Retry-After. */
  retry_after: number | null;
  message: string;
}

export interface AdminClientOptions {
  /** http(s) address of the server, optionally with a path prefix (behind a proxy). */
  readonly url: string;
  readonly token?: string | undefined;
  readonly timeoutMs: number;
}

/** The server answered with an error status; `message` is the server's, which holds no secret. */
export class ServerRefusal extends Error {
  override name = "ServerRefusal";
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | undefined;

  constructor(message: string, status: number, code: string, retryAfter?: number) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** No answer at all: the message names the server's address, never the path (it may hold a key). */
export class ServerUnreachable extends Error {
  override name = "ServerUnreachable";
}

// A server that is not ours may answer with anything; keep its text to a readable size.
const MAX_MESSAGE = 300;

/** A fetch-based client for the management API, `/stats` and `/next`. */
export class AdminClient {
  readonly #base: URL;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;

  /** `url` must already be valid (see `serverUrlProblem`). */
  constructor(options: AdminClientOptions) {
    // A trailing slash makes relative paths resolve under a path prefix instead of replacing it.
    this.#base = new URL(options.url.endsWith("/") ? options.url : `${options.url}/`);
    this.#token = options.token;
    this.#timeoutMs = options.timeoutMs;
  }

  add(key: string): Promise<KeyJson> {
    return this.#call("POST", "add", { key });
  }

  addBulk(keys: readonly string[]): Promise<BulkJson> {
    return this.#call("POST", "add_bulk", { keys });
  }

  list(): Promise<KeyJson[]> {
    return this.#call("GET", "keys");
  }

  remove(ref: string): Promise<KeyJson> {
    return this.#call("DELETE", `delete/${keyRef(ref)}`);
  }

  deactivate(ref: string): Promise<KeyJson> {
    return this.#call("POST", `deactivate/${keyRef(ref)}`);
  }

  reactivate(ref: string): Promise<KeyJson> {
    return this.#call("POST", `reactivate/${keyRef(ref)}`);
  }

  /** Asks the server to check the key with its pool's provider (and record the outcome). */
  testKey(ref: string): Promise<KeyTestJson> {
    return this.#call("POST", `keys/${keyRef(ref)}/test`);
  }

  stats(): Promise<StatsJson> {
    return this.#call("GET", "stats");
  }

  next(mode: KeyMode): Promise<NextJson> {
    return this.#call("GET", `next?mode=${mode}`);
  }

  async #call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (body !== undefined) headers["content-type"] = "application/json";
    let response: Response;
    let text: string;
    try {
      response = await fetch(new URL(path, this.#base), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      throw new ServerUnreachable(
        `cannot reach the server at ${this.#base.href}: ${this.#why(error)}`,
      );
    }
    const json = parseJson(text);
    if (!response.ok) throw refusal(response, json);
    if (json === undefined) {
      throw new ServerRefusal(
        `the server at ${this.#base.href} answered HTTP ${response.status} without JSON; is it api-key-rotator?`,
        response.status,
        "bad_response",
      );
    }
    return json as T;
  }

  #why(error: unknown): string {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return `no answer within ${this.#timeoutMs / 1000} s`;
    }
    // fetch() says only "fetch failed"; the cause says why (ECONNREFUSED, ENOTFOUND, a TLS error).
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (typeof cause?.code === "string") return cause.code;
    return typeof cause?.message === "string" ? cause.message : String(error);
  }
}

/**
 * Checks an address before anything is sent. It is printed in error messages, so it must
 * not carry credentials; a token belongs in `--token`.
 */
export function serverUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL (e.g. http://localhost:8080)";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return "must be an http: or https: URL";
  if (url.username || url.password) return "must not contain credentials; use --token";
  if (url.search || url.hash) return "must not have a query or fragment";
  return null;
}

function keyRef(ref: string): string {
  // URL parsers resolve "." and ".." segments (even percent-encoded) before they are sent.
  if (ref === "." || ref === "..") throw new UsageError("refer to this key by its id");
  return encodeURIComponent(ref);
}

function refusal(response: Response, json: unknown): ServerRefusal {
  const body = isRecord(json) ? json : {};
  const message = typeof body.error === "string" ? body.error : response.statusText;
  const code = typeof body.code === "string" ? body.code : "http_error";
  const retryAfter = typeof body.retry_after === "number" ? body.retry_after : undefined;
  return new ServerRefusal(clip(message), response.status, clip(code), retryAfter);
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

function clip(text: string): string {
  return text.length > MAX_MESSAGE ? `${text.slice(0, MAX_MESSAGE)}…` : text;
}
