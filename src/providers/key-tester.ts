import { parseRetryAfter, retryInfoSeconds } from "../client/outcome.ts";
import { type Clock, systemClock } from "../core/clock.ts";
import { PRESETS, type ProviderName, type ProviderPreset, providerRequest } from "./presets.ts";

/** The values of the pool's outcome reports, so a test result can be reported as it is. */
export type KeyTestOutcome = "ok" | "rate_limited" | "invalid" | "error";

export interface KeyTestOptions {
  /** A preset's name, or a preset of one's own (a custom provider taking the key in the query). */
  readonly provider: ProviderName | ProviderPreset;
  /** Replaces the preset's base URL; required for azure-openai and custom. */
  readonly baseUrl?: string | null | undefined;
  readonly secret: string;
  readonly fetch?: typeof globalThis.fetch;
  readonly timeoutMs?: number;
  /** Turns a Retry-After date into a wait. */
  readonly now?: Clock;
}

export interface KeyTestResult {
  readonly outcome: KeyTestOutcome;
  /** The provider's HTTP status; null when it did not answer. */
  readonly status: number | null;
  readonly retryAfterMs: number | null;
  /** For people. Built from the host and the status only: never holds the key. */
  readonly message: string;
}

// Error bodies are small; a provider sending more is not sending one we need to read whole.
const MAX_BODY_BYTES = 64 * 1024;

/**
 * Makes the provider's cheapest authenticated call with the key and classifies the answer.
 * Never throws for the provider's behaviour; throws ProviderConfigError when the provider
 * settings cannot make a request (that is no fault of the key's, so there is nothing to report).
 */
export async function testKey({
  provider,
  baseUrl,
  secret,
  fetch = globalThis.fetch,
  timeoutMs = 10_000,
  now = systemClock,
}: KeyTestOptions): Promise<KeyTestResult> {
  const preset = typeof provider === "string" ? PRESETS[provider] : provider;
  const { url, headers } = providerRequest(preset, baseUrl, secret);
  // The URL may hold the key (query placement); messages name only its host.
  const { host } = url;
  try {
    const response = await fetch(url, {
      headers,
      // A redirect would carry the key to a host nobody configured.
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    const marker = response.status === 400 ? preset.invalidKeyMarker : undefined;
    // A 429 without Retry-After may say how long in its body (Gemini's RetryInfo).
    const readBody =
      marker !== undefined || (response.status === 429 && !response.headers.has("retry-after"));
    // Otherwise the body says nothing we use: dropping it frees the connection.
    if (!readBody) await response.body?.cancel();
    const body = readBody ? await leadingText(response) : "";
    const markedInvalid = marker !== undefined && body.includes(marker);
    return classify(response, markedInvalid, body, host, now());
  } catch (error) {
    return {
      outcome: "error",
      status: null,
      retryAfterMs: null,
      message: why(error, host, timeoutMs),
    };
  }
}

function classify(
  response: Response,
  markedInvalid: boolean,
  body: string,
  host: string,
  now: number,
): KeyTestResult {
  const { status } = response;
  const answer = (outcome: KeyTestOutcome, message: string, retryAfterMs: number | null = null) =>
    ({ outcome, status, retryAfterMs, message }) as const;
  if (status >= 200 && status < 300)
    return answer("ok", `${host} accepted the key (HTTP ${status})`);
  if (status === 429) {
    const retryAfterMs = retryAfter(response.headers.get("retry-after"), now) ?? retryDelayMs(body);
    const retry = retryAfterMs === null ? "" : `; retry in ${Math.ceil(retryAfterMs / 1000)} s`;
    return answer(
      "rate_limited",
      `${host} is rate limiting the key (HTTP 429)${retry}`,
      retryAfterMs,
    );
  }
  if (status === 401 || status === 403 || markedInvalid) {
    return answer("invalid", `${host} rejected the key (HTTP ${status})`);
  }
  if (status >= 500)
    return answer("error", `${host} answered HTTP ${status}: a failure on its side`);
  return answer(
    "error",
    `${host} answered HTTP ${status}, which says nothing about the key; check the pool's provider and base_url`,
  );
}

/** Retry-After in ms; null when absent or unreadable. */
function retryAfter(value: string | null, now: number): number | null {
  const seconds = parseRetryAfter(value, now);
  return seconds === undefined ? null : seconds * 1000;
}

/** Gemini's RetryInfo in a 429's body, in ms rounded up; null when the body has none. */
function retryDelayMs(body: string): number | null {
  const seconds = retryInfoSeconds(body);
  return seconds === undefined ? null : Math.ceil(seconds * 1000);
}

async function leadingText(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  while (bytes < MAX_BODY_BYTES) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    bytes += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

function why(error: unknown, host: string, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `no answer from ${host} within ${timeoutMs / 1000} s`;
  }
  // Only the cause's code (ECONNREFUSED, ENOTFOUND, …): fetch's messages may quote the URL.
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  return typeof code === "string" ? `cannot reach ${host}: ${code}` : `cannot reach ${host}`;
}
