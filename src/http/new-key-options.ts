import { POOL_NAME, POOL_NAME_RULE } from "../core/key-format.ts";
import { DEFAULT_POOL } from "../core/key-record.ts";
import type { KeyLimits } from "../core/limits.ts";
import { parseRfc3339 } from "../core/rfc3339.ts";
import type { NewKey } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";

function invalid(message: string): ApiError {
  return new ApiError(400, "invalid_body", message);
}

function limitsOf(value: unknown): KeyLimits | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "object" || Array.isArray(value)) throw invalid("limits must be an object");
  const { rpm, rpd, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw invalid("limits may hold only rpm and rpd");
  for (const [name, n] of [
    ["rpm", rpm],
    ["rpd", rpd],
  ] as const) {
    if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 1)) {
      throw invalid(`limits.${name} must be a whole number, 1 or more`);
    }
  }
  return {
    ...(rpm === undefined ? {} : { rpm: rpm as number }),
    ...(rpd === undefined ? {} : { rpd: rpd as number }),
  };
}

function expiresAtOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === "string" ? parseRfc3339(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw invalid("expires_at must be an RFC 3339 timestamp such as 2026-12-31T00:00:00Z");
  return ms;
}

/** The optional fields of /add and /add_bulk: `pool`, `limits`, `expires_at`. */
export function newKeyOptions(body: Record<string, unknown>): NewKey {
  const pool = body.pool ?? DEFAULT_POOL;
  if (typeof pool !== "string" || !POOL_NAME.test(pool)) {
    throw new ApiError(400, "invalid_pool", `pool must be ${POOL_NAME_RULE}`);
  }
  return { pool, limits: limitsOf(body.limits), expiresAt: expiresAtOf(body.expires_at) };
}
