import { z } from "zod";
import { ID_PATTERN, keyFormatProblem } from "../core/key-format.ts";
import type { KeyData } from "../core/key-record.ts";
import { Secret } from "../core/secret.ts";
import { dayOf, dayStart, minuteOf, minuteStart } from "../core/windows.ts";

/**
 * keys.json is the seed service's format, a JSON array of
 * `{key, status, usage: {requests_this_minute, requests_this_day}, last_used, created_at, deactivated_at}`,
 * plus fields of ours that are written always and required never: `id`, and
 * `usage.minute_window` / `usage.day_window` (the UTC minute and day the two
 * counters belong to). This file is the one place that maps it to `KeyData`.
 */
export interface KeysFileEntry {
  id: string;
  key: string;
  status: "Active" | "Inactive";
  usage: {
    requests_this_minute: number;
    requests_this_day: number;
    minute_window: string;
    day_window: string;
  };
  last_used: string | null;
  created_at: string;
  deactivated_at: string | null;
}

export class KeysFileError extends Error {
  override name = "KeysFileError";
}

// RFC 3339, as chrono (the seed) and Date#toISOString write it; up to nanoseconds.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const timestamp = z
  .string()
  .regex(RFC3339, "must be an RFC 3339 timestamp such as 2024-01-31T12:00:00Z")
  .transform((text) => Date.parse(text))
  .refine((ms) => Number.isFinite(ms), "is not a real date");

const count = z.int().nonnegative();

const entrySchema = z.object({
  id: z.string().regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -").optional(),
  key: z.string().superRefine((value, ctx) => {
    const problem = keyFormatProblem(value);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  status: z.enum(["Active", "Inactive"]).default("Active"),
  usage: z
    .object({
      requests_this_minute: count.default(0),
      requests_this_day: count.default(0),
      minute_window: timestamp.optional(),
      day_window: timestamp.optional(),
    })
    .default({ requests_this_minute: 0, requests_this_day: 0 }),
  last_used: timestamp.nullable().default(null),
  created_at: timestamp.optional(),
  deactivated_at: timestamp.nullable().default(null),
});

type ParsedEntry = z.infer<typeof entrySchema>;

export function decodeKeysFile(
  text: string,
  fileName: string,
  now: number,
  newId: () => string,
): KeyData[] {
  const json = parseJson(text, fileName);
  if (!Array.isArray(json)) {
    throw new KeysFileError(`${fileName}: expected a JSON array of keys, found ${typeOf(json)}`);
  }
  const seenKeys = new Set<string>();
  const seenIds = new Set<string>();
  return json.map((raw, index) => {
    const parsed = entrySchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? `field "${issue.path.join(".")}": ` : "";
      throw new KeysFileError(
        `${fileName}: entry ${index}: ${where}${issue?.message ?? "invalid"}`,
      );
    }
    const data = toKeyData(parsed.data, now, newId);
    if (seenKeys.has(data.secret.reveal())) {
      throw new KeysFileError(
        `${fileName}: entry ${index}: the same key appears earlier in the file`,
      );
    }
    if (seenIds.has(data.id)) {
      throw new KeysFileError(
        `${fileName}: entry ${index}: id "${data.id}" appears earlier in the file`,
      );
    }
    seenKeys.add(data.secret.reveal());
    seenIds.add(data.id);
    return data;
  });
}

function toKeyData(entry: ParsedEntry, now: number, newId: () => string): KeyData {
  // A seed file has no windows: its counters were last touched when the key was
  // last used, so they belong to that minute and day (and to none if never used).
  const counted = entry.last_used ?? Number.NEGATIVE_INFINITY;
  return {
    id: entry.id ?? newId(),
    secret: new Secret(entry.key),
    status: entry.status,
    minuteCount: entry.usage.requests_this_minute,
    minuteWindow: windowOf(entry.usage.minute_window ?? counted, minuteOf),
    dayCount: entry.usage.requests_this_day,
    dayWindow: windowOf(entry.usage.day_window ?? counted, dayOf),
    lastUsed: entry.last_used,
    createdAt: entry.created_at ?? now,
    deactivatedAt:
      entry.status === "Inactive" ? (entry.deactivated_at ?? now) : entry.deactivated_at,
  };
}

function windowOf(at: number, window: (ms: number) => number): number {
  return Number.isFinite(at) ? window(at) : -1;
}

export function encodeEntry(key: KeyData): KeysFileEntry {
  return {
    id: key.id,
    key: key.secret.reveal(),
    status: key.status,
    usage: {
      requests_this_minute: key.minuteCount,
      requests_this_day: key.dayCount,
      minute_window: isoOrEpoch(minuteStart(key.minuteWindow)),
      day_window: isoOrEpoch(dayStart(key.dayWindow)),
    },
    last_used: key.lastUsed === null ? null : new Date(key.lastUsed).toISOString(),
    created_at: new Date(key.createdAt).toISOString(),
    deactivated_at: key.deactivatedAt === null ? null : new Date(key.deactivatedAt).toISOString(),
  };
}

function isoOrEpoch(ms: number): string {
  return new Date(Math.max(0, ms)).toISOString();
}

function parseJson(text: string, fileName: string): unknown {
  if (text.trim() === "") throw new KeysFileError(`${fileName}: the file is empty (expected [])`);
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, which may be a key: keep only where.
    const where = /position \d+(?: \(line \d+ column \d+\))?/.exec(String(error))?.[0];
    throw new KeysFileError(
      `${fileName}: not valid JSON${where ? ` at ${where}` : " (truncated or malformed)"}`,
    );
  }
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  return Array.isArray(value) ? "an array" : `a ${typeof value}`;
}
