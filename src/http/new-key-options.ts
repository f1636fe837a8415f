import { POOL_NAME } from "../core/key-format.ts";
import { DEFAULT_POOL } from "../core/key-record.ts";
import type { KeyLimits } from "../core/limits.ts";
import type { NewKey } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

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

/**
 * The moment an RFC 3339 timestamp names, or NaN. Date.parse alone would read
 * 2026-02-30 as March 2 and 24:00 as the next midnight, so the date and time as
 * written must survive a round trip.
 */
function rfc3339Ms(text: string): number {
  const written = RFC3339.exec(text)?.[1];
  if (written === undefined) return Number.NaN;
  const asUtc = new Date(`${written}Z`);
  if (Number.isNaN(asUtc.getTime()) || asUtc.toISOString().slice(0, 19) !== written) {
    return Number.NaN;
  }
  return Date.parse(text);
}

function expiresAtOf(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === "string" ? rfc3339Ms(value) : Number.NaN;
  if (!Number.isFinite(ms))
    throw invalid("expires_at must be an RFC 3339 timestamp such as 2026-12-31T00:00:00Z");
  return ms;
}

/** The optional fields of /add and /add_bulk: `pool`, `limits`, `expires_at`. */
export function newKeyOptions(body: Record<string, unknown>): NewKey {
  const pool = body.pool ?? DEFAULT_POOL;
  if (typeof pool !== "string" || !POOL_NAME.test(pool)) {
    throw new ApiError(400, "invalid_pool", "pool must be 1-64 characters of a-z 0-9 _ . -");
  }
  return { pool, limits: limitsOf(body.limits), expiresAt: expiresAtOf(body.expires_at) };
}
