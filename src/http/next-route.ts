import type { Context } from "koa";
import type { SelectionMode } from "../core/key-pool.ts";
import { retryAfterSeconds } from "../core/windows.ts";
import type { AcquireResult, KeyStore } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";

// With no key that time alone will bring back (an empty pool, say), there is
// no honest Retry-After; a minute is long enough for an operator to act.
export const NO_KEY_RETRY_SECONDS = 60;

const MODES: readonly string[] = ["auto", "random"] satisfies SelectionMode[];

export function parseMode(value: unknown): SelectionMode {
  if (value === undefined) return "auto";
  if (typeof value === "string" && MODES.includes(value)) return value as SelectionMode;
  throw new ApiError(400, "invalid_mode", 'mode must be "auto" or "random"');
}

/** GET /next: 200 with a key, 429 over the global cap, 503 when no key is available. */
export function nextRoute(store: KeyStore) {
  return async function next(ctx: Context): Promise<void> {
    const result = await store.acquire(parseMode(ctx.query.mode));
    if (!result.ok) throw refusal(result);
    ctx.set("Cache-Control", "no-store");
    ctx.body = { api_key: result.secret.reveal(), id: result.id };
  };
}

function refusal(result: Extract<AcquireResult, { ok: false }>): ApiError {
  const retry_after =
    result.retryAfterMs === null ? NO_KEY_RETRY_SECONDS : retryAfterSeconds(result.retryAfterMs);
  return result.reason === "global-cap"
    ? new ApiError(429, "global_cap", "the per-minute cap across all keys is reached", {
        retry_after,
      })
    : new ApiError(503, "no_key_available", "no key is available right now", { retry_after });
}
