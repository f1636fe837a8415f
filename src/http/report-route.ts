import type { Context } from "koa";
import { OUTCOMES, type Outcome } from "../core/outcome-rules.ts";
import type { KeyStore } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";
import { keyJson } from "./key-json.ts";

// A provider asking for more than a day is answered by the cooldown loop, not a timer this long.
const MAX_RETRY_AFTER_S = 86_400;

function invalid(message: string): ApiError {
  return new ApiError(400, "invalid_report", message);
}

function parseReport(body: unknown): {
  ref: string;
  outcome: Outcome;
  retryAfterMs: number | null;
} {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalid("the body must be a JSON object");
  }
  const { id, key, outcome, retry_after } = body as Record<string, unknown>;
  if ((id === undefined) === (key === undefined)) throw invalid("give exactly one of id and key");
  const ref = id ?? key;
  if (typeof ref !== "string" || ref === "") throw invalid("id or key must be a non-empty string");
  if (!OUTCOMES.includes(outcome as Outcome))
    throw invalid(`outcome must be one of ${OUTCOMES.join(", ")}`);
  if (
    retry_after !== undefined &&
    !(typeof retry_after === "number" && retry_after >= 0 && retry_after <= MAX_RETRY_AFTER_S)
  ) {
    throw invalid(`retry_after must be a number of seconds from 0 to ${MAX_RETRY_AFTER_S}`);
  }
  return {
    ref,
    outcome: outcome as Outcome,
    retryAfterMs: retry_after === undefined ? null : retry_after * 1000,
  };
}

/** POST /report: what the caller saw when it used a key. */
export function reportRoute(store: KeyStore) {
  return async function report(ctx: Context): Promise<void> {
    const { ref, outcome, retryAfterMs } = parseReport(ctx.request.body);
    const view = await store.report(ref, outcome, retryAfterMs);
    if (!view) throw new ApiError(404, "key_not_found", "no key with that id (or key string)");
    ctx.body = keyJson(view);
  };
}
