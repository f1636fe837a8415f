// What happened when a key was used, read from whatever the caller's code returned or threw.
// Duck-typed on purpose: Responses and errors come from fetch, undici, SDKs and polyfills, and
// none of them can be relied on to pass an `instanceof` check.

import type { Outcome } from "./types.ts";

/** An outcome and, for `rate_limited`, how many seconds the provider asked the key to rest. */
export interface Classified {
  readonly outcome: Outcome;
  readonly retryAfter?: number | undefined;
}

/** `Retry-After` as whole seconds: either the seconds themselves or an HTTP-date (rounded up). */
export function parseRetryAfter(
  header: string | null | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  if (header === null || header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // Every HTTP-date form starts with a day name; Date.parse alone would take "1.5" for a date.
  const date = /^[A-Za-z]+,? /.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/**
 * 401/403 mean the provider refused the key itself; any other 4xx is a bad request made with a
 * working key, so it says nothing against the key. A status that is no HTTP status (`0` from
 * `Response.error()` or from clients that mean "no answer") is a failed call.
 */
function outcomeOfStatus(status: number): Outcome {
  if (status === 429) return "rate_limited";
  if (status === 401 || status === 403) return "invalid";
  if (!Number.isInteger(status) || status < 100 || status >= 500) return "error";
  return "ok";
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<string, unknown>)[name]
    : undefined;
}

/** Reads a header from a `Headers`-like object or from a plain record (some SDKs use those). */
function header(headers: unknown, name: string): string | undefined {
  if (typeof headers !== "object" || headers === null) return undefined;
  const get = field(headers, "get");
  if (typeof get === "function") {
    const value: unknown = get.call(headers, name);
    return typeof value === "string" ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && typeof value === "string") return value;
  }
  return undefined;
}

function fromStatus(status: number, headers: unknown, nowMs: number): Classified {
  const outcome = outcomeOfStatus(status);
  if (outcome !== "rate_limited") return { outcome };
  return { outcome, retryAfter: parseRetryAfter(header(headers, "retry-after"), nowMs) };
}

/** A `Response` (or anything shaped like one: numeric `status`, `headers.get`). */
export function isResponseLike(value: unknown): value is Pick<Response, "status" | "headers"> {
  return (
    typeof field(value, "status") === "number" &&
    typeof field(field(value, "headers"), "get") === "function"
  );
}

/**
 * google.rpc.RetryInfo's `retryDelay` ("34s", "1.5s") in seconds, as Gemini sends it in a 429's
 * body instead of a Retry-After header (Google's SDK puts that body in its error's message).
 * Shared with the server's key tester. A returned Response's body is the caller's: not read here.
 */
export function retryInfoSeconds(text: string): number | undefined {
  const seconds = /"retryDelay"\s*:\s*"(\d{1,9}(?:\.\d{1,9})?)s"/.exec(text)?.[1];
  return seconds === undefined ? undefined : Number(seconds);
}

/** A returned `Response` is classified by its status; any other returned value is `ok`. */
export function classifyResult(value: unknown, nowMs: number = Date.now()): Classified {
  return isResponseLike(value) ? fromStatus(value.status, value.headers, nowMs) : { outcome: "ok" };
}

/**
 * The caller cancelled the call (fetch's `AbortError`, the OpenAI and Anthropic SDKs'
 * `APIUserAbortError`): nothing was learned about the key. A timeout (`TimeoutError`) is not
 * this: the provider did not answer in time, which is an `error`.
 */
export function isAbort(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const { name, constructor: type } = error as { name?: unknown; constructor?: { name?: unknown } };
  return name === "AbortError" || type?.name === "APIUserAbortError";
}

/**
 * A thrown error is an `error`, unless it carries an HTTP status as SDK errors do (`status`, or
 * `response.status`): then it is classified like a Response with that status.
 */
export function classifyError(error: unknown, nowMs: number = Date.now()): Classified {
  const response = field(error, "response");
  const own = field(error, "status");
  const status = typeof own === "number" ? own : field(response, "status");
  if (typeof status !== "number") return { outcome: "error" };
  const classified = fromStatus(
    status,
    field(error, "headers") ?? field(response, "headers"),
    nowMs,
  );
  if (classified.outcome !== "rate_limited" || classified.retryAfter !== undefined)
    return classified;
  const message = field(error, "message");
  const seconds = typeof message === "string" ? retryInfoSeconds(message) : undefined;
  return seconds === undefined ? classified : { ...classified, retryAfter: Math.ceil(seconds) };
}
