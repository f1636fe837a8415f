// Our own statement of the formats the README documents, written without
// looking at how the server checks them, so a server that drifts is caught.
// Where the README leaves a value open (it says "RFC 3339", not which of its
// corners are taken), the verdict is "unknown" and the fuzz learns the
// server's choice from its answer instead of predicting it.

/** What the server must do with one value: take it as `value`, refuse it with `code`, or either. */
export type Verdict<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: string }
  | "unknown";

const take = <T>(value: T): Verdict<T> => ({ ok: true, value });
const refuse = <T>(code: string): Verdict<T> => ({ ok: false, code });

export const DEFAULT_POOL = "default";

export const isValidKey = (value: unknown): value is string =>
  typeof value === "string" && /^[\x21-\x7e]{1,512}$/.test(value);

/** Pool names: 1-64 characters of a-z 0-9 _ . -, starting with a letter or digit. */
export function poolNameVerdict(value: unknown): Verdict<string> {
  if (typeof value !== "string" || !/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(value))
    return refuse("invalid_pool");
  return take(value);
}

/** The `pool` of /add and /add_bulk: absent or null means the default pool. */
export const bodyPoolVerdict = (value: unknown): Verdict<string> =>
  value === undefined || value === null ? take(DEFAULT_POOL) : poolNameVerdict(value);

export interface KeyLimits {
  readonly rpm?: number;
  readonly rpd?: number;
}

/** `limits`: an object of `rpm` and `rpd`, each a whole number from 1; absent or null is none. */
export function limitsVerdict(value: unknown): Verdict<KeyLimits | null> {
  if (value === undefined || value === null) return take(null);
  if (typeof value !== "object" || Array.isArray(value)) return refuse("invalid_body");
  const entries = Object.entries(value);
  const whole = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 1;
  if (entries.some(([name, n]) => !["rpm", "rpd"].includes(name) || !whole(n))) {
    return refuse("invalid_body");
  }
  return take(Object.fromEntries(entries) as KeyLimits);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/;
/** The moment an RFC 3339 date-time names, in ms (fractions past the ms are dropped). */
function rfc3339Ms(text: string): number | null {
  const m = RFC3339.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  const [sign, offsetHours, offsetMinutes] = [m[8], Number(m[9] ?? 0), Number(m[10] ?? 0)];
  const at = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  at.setUTCFullYear(year as number, month as number, 0);
  const daysInMonth = at.getUTCDate();
  if (
    (month as number) < 1 ||
    (month as number) > 12 ||
    (day as number) < 1 ||
    (day as number) > daysInMonth ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59 ||
    offsetHours > 23 ||
    offsetMinutes > 59
  ) {
    return null;
  }
  at.setUTCFullYear(year as number, (month as number) - 1, day as number);
  at.setUTCHours(hour as number, minute as number, second as number, 0);
  const fractionMs = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const offsetMs = (sign === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return at.getTime() + fractionMs - offsetMs;
}

/** `expires_at`: an RFC 3339 date-time; absent or null is none. */
export function expiresAtVerdict(value: unknown): Verdict<number | null> {
  if (value === undefined || value === null) return take(null);
  if (typeof value !== "string") return refuse("invalid_body");
  const ms = rfc3339Ms(value);
  if (ms !== null) return take(ms);
  // RFC 3339 allows these, and a server may fairly refuse them: lower-case t and z, a space
  // for T (its note allows it), a leap second, a fraction finer than a nanosecond.
  const plain = value
    .replace(/^(.{10})[t ]/, "$1T")
    .replace(/z$/, "Z")
    .replace(/:60(?=[.Zz+-])/, ":59")
    .replace(/(\.\d{9})\d+/, "$1");
  return rfc3339Ms(plain) === null ? refuse("invalid_body") : "unknown";
}

/** `wait`: seconds, fractions allowed. Other spellings of a number (`.5`, `1e-2`) are left open. */
export function waitVerdict(value: string): Verdict<number> {
  if (/^\d+(\.\d+)?$/.test(value)) return take(Number(value));
  return /^\+?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value) ? "unknown" : refuse("invalid_wait");
}

const OUTCOMES = ["ok", "rate_limited", "invalid", "error"] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface Report {
  /** The id or key string, as sent. */
  readonly ref: string;
  readonly outcome: Outcome;
  readonly retryAfterMs: number | null;
}

/** A /report body: exactly one of id/key, a known outcome, retry_after a number from 0 to 86400. */
export function reportVerdict(body: Record<string, unknown>): Verdict<Report> {
  const { id, key, outcome, retry_after } = body;
  if ("id" in body === "key" in body) return refuse("invalid_report");
  const ref = id ?? key;
  if (typeof ref !== "string" || ref === "") return refuse("invalid_report");
  if (!(OUTCOMES as readonly unknown[]).includes(outcome)) return refuse("invalid_report");
  if (retry_after === undefined)
    return take({ ref, outcome: outcome as Outcome, retryAfterMs: null });
  if (typeof retry_after !== "number" || !(retry_after >= 0 && retry_after <= 86_400)) {
    return refuse("invalid_report");
  }
  return take({ ref, outcome: outcome as Outcome, retryAfterMs: retry_after * 1000 });
}
