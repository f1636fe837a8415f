import { ID_PATTERN, keyFormatProblem, POOL_NAME, POOL_NAME_RULE } from "../core/key-format.ts";
import { DEFAULT_POOL, type KeyData, type KeyStatus, MAX_STREAK } from "../core/key-record.ts";
import { parseRfc3339 } from "../core/rfc3339.ts";
import { Secret } from "../core/secret.ts";
import { dayOf, minuteOf } from "../core/windows.ts";
import * as z from "../validation.ts";
import { JsonArrayError, JsonArraySplitter, NotAnArrayError } from "./json-array-elements.ts";
import type { KeyCipher } from "./key-cipher.ts";

/**
 * keys.json is the seed service's format, a JSON array of
 * `{key, status, usage: {requests_this_minute, requests_this_day}, last_used, created_at, deactivated_at}`,
 * plus fields of ours that are required never: `id` (written always), and
 * `usage.minute_window` / `usage.day_window` (the UTC minute and day the two
 * counters belong to; written only where they are not those of `last_used`,
 * which is what a file without them means). The fields of pools and outcome
 * reports (`pool`, `limits`, `expires_at`, `rest_until`, …) are written only
 * when they differ from their defaults, so a plain key's entry stays the
 * seed's shape.
 * With an encryption key, `key_encrypted` (see KeyCipher) takes the place of
 * `key`, and a file holds only one kind of entry.
 * This file maps it to `KeyData`; entry-encoder.ts writes `KeyData` back.
 */
export type KeysFileEntry = EntryFields & ({ key: string } | { key_encrypted: string });

interface EntryFields extends Partial<ExtensionEntry> {
  id: string;
  status: KeyStatus;
  usage: {
    requests_this_minute: number;
    requests_this_day: number;
    minute_window?: string;
    day_window?: string;
  };
  last_used: string | null;
  created_at: string;
  deactivated_at: string | null;
}

export class KeysFileError extends Error {
  override name = "KeysFileError";
}

/** The file's keys are encrypted and no cipher was given, or the other way round. */
export class EncryptionMismatchError extends KeysFileError {
  override name = "EncryptionMismatchError";
  /** True: the file holds encrypted keys; false: it holds plain keys. */
  readonly fileEncrypted: boolean;

  constructor(message: string, fileEncrypted: boolean) {
    super(message);
    this.fileEncrypted = fileEncrypted;
  }
}

const timestamp = z.pipe(
  z.string(),
  z.transform((text: string, ctx) => {
    const ms = parseRfc3339(text);
    if (!Number.isFinite(ms)) {
      ctx.issues.push({
        code: "custom",
        input: text,
        message: "must be an RFC 3339 timestamp of a real date, such as 2024-01-31T12:00:00Z",
      });
    }
    return ms;
  }),
);

const count = z.int().check(z.nonnegative());
const streak = z.int().check(z.nonnegative(), z.maximum(MAX_STREAK));

const usageSchema = z.object({
  requests_this_minute: z._default(count, 0),
  requests_this_day: z._default(count, 0),
  minute_window: z.optional(timestamp),
  day_window: z.optional(timestamp),
});

const entrySchema = z.object({
  id: z.optional(
    z.string().check(z.regex(ID_PATTERN, "must be 1-64 characters of A-Z a-z 0-9 _ -")),
  ),
  key: z.string().check(
    z.superRefine((value: string, ctx) => {
      const problem = keyFormatProblem(value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    }),
  ),
  status: z._default(z.enum(["Active", "Inactive", "Disabled"]), "Active"),
  usage: z._default(usageSchema, { requests_this_minute: 0, requests_this_day: 0 }),
  last_used: z._default(z.nullable(timestamp), null),
  created_at: z.optional(timestamp),
  deactivated_at: z._default(z.nullable(timestamp), null),
});

type ParsedEntry = z.infer<typeof entrySchema>;

const extensionSchema = z.object({
  pool: z.optional(z.string().check(z.regex(POOL_NAME, `must be ${POOL_NAME_RULE}`))),
  limits: z.optional(
    z.nullable(
      z.strictObject({
        rpm: z.optional(z.int().check(z.minimum(1))),
        rpd: z.optional(z.int().check(z.minimum(1))),
      }),
    ),
  ),
  expires_at: z.optional(z.nullable(timestamp)),
  rest_until: z.optional(z.nullable(timestamp)),
  backoff_level: z.optional(streak),
  error_streak: z.optional(streak),
  half_open: z.optional(z.boolean()),
  probe_sent_at: z.optional(z.nullable(timestamp)),
  outcomes: z.optional(
    z.object({
      ok: z._default(count, 0),
      rate_limited: z._default(count, 0),
      invalid: z._default(count, 0),
      error: z._default(count, 0),
    }),
  ),
});

type ParsedExtension = z.infer<typeof extensionSchema>;

interface ExtensionEntry {
  pool: string;
  limits: { rpm?: number; rpd?: number };
  expires_at: string;
  rest_until: string;
  backoff_level: number;
  error_streak: number;
  half_open: boolean;
  probe_sent_at: string;
  outcomes: { ok: number; rate_limited: number; invalid: number; error: number };
}

const EXTENSION_FIELDS = Object.keys(extensionSchema.shape);

/**
 * Decodes a keys.json fed in chunks, one entry at a time, so a large file is
 * never held or parsed whole. Throws KeysFileError (naming the file and the
 * entry) at the first thing wrong with an entry. Whether an entry repeats an
 * earlier key or id is for whoever collects them (the pools, or decodeKeysFile):
 * they hold the keys already, and a second set of 100,000 here cost start-up time.
 */
export class KeysFileDecoder {
  readonly #fileName: string;
  readonly #now: number;
  readonly #newId: () => string;
  readonly #cipher: KeyCipher | null;
  readonly #splitter = new JsonArraySplitter();
  #index = 0;

  constructor(fileName: string, now: number, newId: () => string, cipher: KeyCipher | null) {
    this.#fileName = fileName;
    this.#now = now;
    this.#newId = newId;
    this.#cipher = cipher;
  }

  /** Hands `onKey` each key whose entry `chunk` completes, as soon as it is decoded. */
  push(chunk: Buffer, onKey: (key: KeyData) => void): void {
    this.#split(() =>
      this.#splitter.push(chunk, (text, offset) => onKey(this.#decode(text, offset))),
    );
  }

  /** The file ended: throws unless it was a whole JSON array. */
  end(): void {
    this.#split(() => this.#splitter.end());
  }

  #split<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      const name = this.#fileName;
      if (error instanceof NotAnArrayError) {
        throw new KeysFileError(
          error.found === "nothing"
            ? `${name}: the file is empty (expected [])`
            : `${name}: expected a JSON array of keys, found ${error.found}`,
        );
      }
      if (!(error instanceof JsonArrayError)) throw error;
      throw new KeysFileError(
        `${name}: not valid JSON at position ${error.position} (${error.message})`,
      );
    }
  }

  #decode(text: string, offset: number): KeyData {
    const fileName = this.#fileName;
    const index = this.#index++;
    const raw = parseJson(text, fileName, offset);
    const { entry, secret } = openEntry(raw, this.#cipher, fileName, index);
    const parsed = parseEntryQuickly(entry) ?? parseEntry(entry, fileName, index);
    const ext = parseExtension(entry, fileName, index);
    return toKeyData(parsed, ext, secret, this.#now, this.#newId);
  }
}

/**
 * A whole keys.json in memory, decoded at once. Key strings and ids are one namespace, as
 * the pools hold them (either may name a key in a path): a repeat of either is refused.
 */
export function decodeKeysFile(
  bytes: Buffer,
  fileName: string,
  now: number,
  newId: () => string,
  cipher: KeyCipher | null,
): KeyData[] {
  const decoder = new KeysFileDecoder(fileName, now, newId, cipher);
  const keys: KeyData[] = [];
  const names = new Set<string>();
  // Checked as each key is decoded, as the server's load checks it, so both name the same
  // first fault.
  decoder.push(bytes, (key) => {
    const field = names.has(key.secret.reveal()) ? "key" : names.has(key.id) ? "id" : null;
    if (field) throw repeatedEntryError(fileName, keys.length, field, key.id);
    names.add(key.secret.reveal());
    names.add(key.id);
    keys.push(key);
  });
  decoder.end();
  return keys;
}

/** Entry `index` repeats the key string (`field: "key"`) or the id of an earlier entry. */
export function repeatedEntryError(
  fileName: string,
  index: number,
  field: "key" | "id",
  id: string,
): KeysFileError {
  const what = field === "key" ? "the same key" : `id "${id}"`;
  return new KeysFileError(`${fileName}: entry ${index}: ${what} appears earlier in the file`);
}

/**
 * The entry with its key in the clear, for the checks every key gets. Plain
 * entries under a cipher are refused rather than encrypted by the next save: a
 * file changes format only by an explicit `keys-file convert`, never half-way.
 */
function openEntry(
  raw: unknown,
  cipher: KeyCipher | null,
  fileName: string,
  index: number,
): { entry: unknown; secret?: Secret } {
  if (!isPlainObject(raw)) return { entry: raw };
  if (!Object.hasOwn(raw, "key_encrypted")) {
    if (cipher && Object.hasOwn(raw, "key")) {
      throw new EncryptionMismatchError(
        `${fileName}: holds plain keys (entry ${index} is one), and an encryption key was given`,
        false,
      );
    }
    return { entry: raw };
  }
  const where = `${fileName}: entry ${index}`;
  if (!cipher) {
    throw new EncryptionMismatchError(
      `${fileName}: holds encrypted keys (entry ${index} is one), and no encryption key was given`,
      true,
    );
  }
  if (Object.hasOwn(raw, "key")) {
    throw new KeysFileError(`${where}: has both "key" and "key_encrypted"; an entry holds one`);
  }
  // The id is the ciphertext's authenticated data: without it nothing can be checked.
  if (typeof raw.id !== "string") {
    throw new KeysFileError(`${where}: field "id": an encrypted entry must keep its id`);
  }
  const sealed = raw.key_encrypted;
  const secret = typeof sealed === "string" ? cipher.open(sealed, raw.id) : null;
  if (!secret) {
    throw new KeysFileError(
      `${where}: cannot be decrypted with this encryption key (wrong key, or the entry was altered)`,
    );
  }
  return { entry: { ...raw, key: secret.reveal() }, secret };
}

/** The first problem zod found in an entry, naming the file, the entry and the field. */
function entryError(fileName: string, index: number, error: z.core.$ZodError): KeysFileError {
  const issue = error.issues[0];
  const where = issue?.path.length ? `field "${issue.path.join(".")}": ` : "";
  return new KeysFileError(`${fileName}: entry ${index}: ${where}${issue?.message ?? "invalid"}`);
}

function parseEntry(raw: unknown, fileName: string, index: number): ParsedEntry {
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success) throw entryError(fileName, index, parsed.error);
  return parsed.data;
}

// The fields parseEntryQuickly knows. A schema with other fields (one changed
// without it) turns the quick path off rather than let it drop a field.
const QUICK_FIELDS = "id,key,status,usage,last_used,created_at,deactivated_at";
const QUICK_USAGE_FIELDS = "requests_this_minute,requests_this_day,minute_window,day_window";
const QUICK_PATH_ON =
  Object.keys(entrySchema.shape).join() === QUICK_FIELDS &&
  Object.keys(usageSchema.shape).join() === QUICK_USAGE_FIELDS;

/**
 * `entrySchema`, checked by hand for entries it certainly accepts, giving the
 * same result; undefined for anything else, which `parseEntry` then decides
 * (and words the error for). zod's per-entry machinery was half of the time
 * start-up spent decoding 100,000 keys. Change it together with the schema.
 */
function parseEntryQuickly(raw: unknown): ParsedEntry | undefined {
  if (!QUICK_PATH_ON || !isPlainObject(raw)) return undefined;
  const { id, key, status = "Active", usage } = raw;
  if (id !== undefined && !(typeof id === "string" && ID_PATTERN.test(id))) return undefined;
  if (typeof key !== "string" || keyFormatProblem(key) !== null) return undefined;
  if (status !== "Active" && status !== "Inactive") return undefined;
  const counts = usage === undefined ? {} : usage;
  if (!isPlainObject(counts)) return undefined;
  const { requests_this_minute = 0, requests_this_day = 0 } = counts;
  if (!isCount(requests_this_minute) || !isCount(requests_this_day)) return undefined;
  const minuteWindow = quickTimestamp(counts.minute_window, undefined);
  const dayWindow = quickTimestamp(counts.day_window, undefined);
  const lastUsed = quickTimestamp(raw.last_used ?? null, null);
  const createdAt = quickTimestamp(raw.created_at, undefined);
  const deactivatedAt = quickTimestamp(raw.deactivated_at ?? null, null);
  if (
    Number.isNaN(minuteWindow) ||
    Number.isNaN(dayWindow) ||
    Number.isNaN(lastUsed) ||
    Number.isNaN(createdAt) ||
    Number.isNaN(deactivatedAt)
  ) {
    return undefined;
  }
  return {
    id,
    key,
    status,
    usage: {
      requests_this_minute,
      requests_this_day,
      minute_window: minuteWindow,
      day_window: dayWindow,
    },
    last_used: lastUsed,
    created_at: createdAt,
    deactivated_at: deactivatedAt,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** `absent` passes through as itself; NaN means "not certainly a valid timestamp". */
function quickTimestamp<T extends null | undefined>(value: unknown, absent: T): number | T {
  if (value === absent) return absent;
  return typeof value === "string" ? parseRfc3339(value) : Number.NaN;
}

// Most entries carry none of these fields, and then cost nothing more to read.
function parseExtension(raw: unknown, fileName: string, index: number): ParsedExtension {
  if (!EXTENSION_FIELDS.some((field) => Object.hasOwn(raw as object, field))) return {};
  const parsed = extensionSchema.safeParse(raw);
  if (!parsed.success) throw entryError(fileName, index, parsed.error);
  return parsed.data;
}

function toKeyData(
  entry: ParsedEntry,
  ext: ParsedExtension,
  // The one KeyCipher#open made, which remembers its ciphertext for saves.
  secret: Secret | undefined,
  now: number,
  newId: () => string,
): KeyData {
  const counted = countedAt(entry.last_used);
  return {
    id: entry.id ?? newId(),
    secret: secret ?? new Secret(entry.key),
    status: entry.status,
    minuteCount: entry.usage.requests_this_minute,
    minuteWindow: windowOf(entry.usage.minute_window ?? counted, minuteOf),
    dayCount: entry.usage.requests_this_day,
    dayWindow: windowOf(entry.usage.day_window ?? counted, dayOf),
    lastUsed: entry.last_used,
    createdAt: entry.created_at ?? now,
    deactivatedAt:
      entry.status === "Inactive" ? (entry.deactivated_at ?? now) : entry.deactivated_at,
    pool: ext.pool ?? DEFAULT_POOL,
    limits: ext.limits ?? null,
    expiresAt: ext.expires_at ?? null,
    restUntil: ext.rest_until ?? null,
    backoffLevel: ext.backoff_level ?? 0,
    errorStreak: ext.error_streak ?? 0,
    halfOpen: ext.half_open ?? false,
    probeSentAt: ext.probe_sent_at ?? null,
    outcomes: {
      ok: ext.outcomes?.ok ?? 0,
      rateLimited: ext.outcomes?.rate_limited ?? 0,
      invalid: ext.outcomes?.invalid ?? 0,
      error: ext.outcomes?.error ?? 0,
    },
  };
}

/**
 * When a key's counters were last counted, as far as the file says without
 * windows (the seed's files never have them): when it was last used, so they
 * belong to that minute and day, and to none if it was never used. The decoder
 * reads a missing window so, and the encoder leaves out a window that says so.
 */
export function countedAt(lastUsed: number | null): number {
  return lastUsed ?? Number.NEGATIVE_INFINITY;
}

export function windowOf(at: number, window: (ms: number) => number): number {
  return Number.isFinite(at) ? window(at) : -1;
}

/** JSON.parse of `text`, found at byte `offset` of the file; a failure names only where. */
function parseJson(text: string, fileName: string, offset: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // V8's message quotes the text around the error, which may be a key: keep only where.
    const position = /position (\d+)/.exec(String(error))?.[1];
    throw new KeysFileError(
      `${fileName}: not valid JSON ${position === undefined ? `in the entry at position ${offset}` : `at position ${offset + Number(position)}`}`,
    );
  }
}
