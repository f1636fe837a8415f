// The loop every caller of a metered API would otherwise write: get a key, use it, tell the
// server how it went, and take another key when the provider refused this one. Only the
// client's public methods are used, so it works with any KeyRotatorClient.

import {
  type Classified,
  classifyError,
  classifyResult,
  isAbort,
  isResponseLike,
} from "./outcome.ts";
import type { ApiKeyResult, KeyRotatorClient, KeyUse, WithApiKeyOptions } from "./types.ts";

const DEFAULT_RETRIES = 2;

type Attempt<T> =
  | { readonly threw: false; readonly value: T }
  | { readonly threw: true; readonly error: unknown };

async function attempt<T>(
  fn: (apiKey: string, use: KeyUse) => T | Promise<T>,
  key: ApiKeyResult,
  index: number,
): Promise<Attempt<T>> {
  try {
    return { threw: false, value: await fn(key.apiKey, { id: key.id, attempt: index }) };
  } catch (error) {
    return { threw: true, error };
  }
}

function settle<T>(result: Attempt<T>): T {
  if (result.threw) throw result.error;
  return result.value;
}

async function report(
  client: KeyRotatorClient,
  id: string,
  classified: Classified,
  onReportError: ((error: unknown) => void) | undefined,
): Promise<void> {
  try {
    await client.report(id, classified.outcome, { retryAfter: classified.retryAfter });
  } catch (error) {
    try {
      onReportError?.(error);
    } catch {
      // A failing hook must not replace fn's result any more than the report itself may.
    }
  }
}

/** An unread body keeps its connection busy until garbage collection (undici). */
function discard(value: unknown): void {
  const body: unknown = isResponseLike(value) ? (value as { body?: unknown }).body : undefined;
  if (body instanceof ReadableStream) {
    // Best effort: a body the caller already started reading cannot be cancelled here.
    body.cancel().catch(() => {});
  }
}

/** Implements `withApiKey` on top of `client` (see {@link KeyRotatorClient.withApiKey}). */
export async function runWithApiKey<T>(
  client: KeyRotatorClient,
  fn: (apiKey: string, use: KeyUse) => T | Promise<T>,
  options: WithApiKeyOptions = {},
): Promise<T> {
  const retries = options.retries ?? DEFAULT_RETRIES;
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new RangeError("api-key-rotator withApiKey: retries must be a whole number >= 0");
  }
  const mode = options.mode ?? "auto";
  let previous: Attempt<T> | undefined;
  for (let index = 0; ; index++) {
    let key: ApiKeyResult;
    try {
      // A retry must not be handed the refused key again from the cache.
      key = await client.getKey(mode, { pool: options.pool, wait: options.wait, fresh: index > 0 });
    } catch (error) {
      // No other key to try: the provider's own last answer says more than "no key".
      if (previous === undefined) throw error;
      return settle(previous);
    }
    if (previous !== undefined && !previous.threw) discard(previous.value);

    const result = await attempt(fn, key, index);
    // Cancelled by the caller: reporting an error would count against a key that did nothing wrong.
    if (result.threw && isAbort(result.error)) throw result.error;
    const classified = result.threw ? classifyError(result.error) : classifyResult(result.value);
    // Awaited, so the server rests or disables this key before the retry asks for another.
    await report(client, key.id, classified, options.onReportError);
    const refused = classified.outcome === "rate_limited" || classified.outcome === "invalid";
    if (!refused || index === retries) return settle(result);
    previous = result;
  }
}
