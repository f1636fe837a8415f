import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { KeyData } from "../../src/core/key-record.ts";
import { Secret } from "../../src/core/secret.ts";
import { dayOf, dayStart, minuteOf, minuteStart } from "../../src/core/windows.ts";
import { EntryEncoder } from "../../src/store/entry-encoder.ts";
import { KeyCipher } from "../../src/store/key-cipher.ts";
import type { KeysFileEntry } from "../../src/store/keys-file-codec.ts";

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
/** The window the decoder takes a counter to belong to when the file does not say: last_used's. */
const lastUsedWindow = (key: KeyData, window: (ms: number) => number) =>
  key.lastUsed === null ? -1 : window(key.lastUsed);

/** The entry as the format describes it, built the slow and obvious way: objects, Date, JSON.stringify. */
function expectedEntry(key: KeyData, cipher: KeyCipher | null): KeysFileEntry {
  const { ok, rateLimited, invalid, error } = key.outcomes;
  return {
    id: key.id,
    ...(cipher ? { key_encrypted: cipher.seal(key.secret, key.id) } : { key: key.secret.reveal() }),
    status: key.status,
    usage: {
      requests_this_minute: key.minuteCount,
      requests_this_day: key.dayCount,
      ...(key.minuteWindow !== lastUsedWindow(key, minuteOf) && {
        minute_window: iso(Math.max(0, minuteStart(key.minuteWindow))),
      }),
      ...(key.dayWindow !== lastUsedWindow(key, dayOf) && {
        day_window: iso(Math.max(0, dayStart(key.dayWindow))),
      }),
    },
    last_used: isoOrNull(key.lastUsed),
    created_at: iso(key.createdAt),
    deactivated_at: isoOrNull(key.deactivatedAt),
    ...(key.pool !== "default" && { pool: key.pool }),
    ...(key.limits !== null && { limits: key.limits }),
    ...(key.expiresAt !== null && { expires_at: iso(key.expiresAt) }),
    ...(key.restUntil !== null && { rest_until: iso(key.restUntil) }),
    ...(key.backoffLevel > 0 && { backoff_level: key.backoffLevel }),
    ...(key.errorStreak > 0 && { error_streak: key.errorStreak }),
    ...(key.halfOpen && { half_open: true }),
    ...(key.probeSentAt !== null && { probe_sent_at: iso(key.probeSentAt) }),
    ...(ok + rateLimited + invalid + error > 0 && {
      outcomes: { ok, rate_limited: rateLimited, invalid, error },
    }),
  };
}

// Any moment Date can write, including years before 1970 and after 9999.
const moment = fc.integer({ min: -8.64e15, max: 8.64e15 });
const count = fc.nat({ max: 1e9 });

const anyKeyData: fc.Arbitrary<KeyData> = fc.record({
  id: fc.string({ minLength: 1 }),
  // Any text, quotes, backslashes, control characters and lone surrogates included.
  secret: fc.string({ unit: "binary", minLength: 1 }).map((text) => new Secret(text)),
  pool: fc.oneof(fc.constant("default"), fc.string({ minLength: 1 })),
  limits: fc.option(fc.record({ rpm: count, rpd: count }, { requiredKeys: [] })),
  expiresAt: fc.option(moment),
  status: fc.constantFrom("Active", "Inactive", "Disabled"),
  minuteCount: count,
  minuteWindow: fc.integer({ min: -1, max: 1e8 }),
  dayCount: count,
  dayWindow: fc.integer({ min: -1, max: 1e5 }),
  lastUsed: fc.option(moment),
  createdAt: moment,
  deactivatedAt: fc.option(moment),
  restUntil: fc.option(moment),
  backoffLevel: fc.nat({ max: 30 }),
  errorStreak: fc.nat({ max: 100 }),
  halfOpen: fc.boolean(),
  probeSentAt: fc.option(moment),
  outcomes: fc.record({ ok: count, rateLimited: count, invalid: count, error: count }),
});

// A dispense sets the windows to last_used's, which the encoder then leaves out: as often as not.
const keyData: fc.Arbitrary<KeyData> = fc
  .tuple(anyKeyData, fc.boolean(), fc.boolean())
  .map(([key, minuteFromUse, dayFromUse]) => ({
    ...key,
    ...(minuteFromUse && { minuteWindow: lastUsedWindow(key, minuteOf) }),
    ...(dayFromUse && { dayWindow: lastUsedWindow(key, dayOf) }),
  }));

// Starts small, so most entries also make it grow.
const encoder = new EntryEncoder(16);

/** The bytes the encoder writes for `key`, read as UTF-8 text. */
function encoded(key: KeyData, cipher: KeyCipher | null): string {
  encoder.entry(key, cipher);
  return Buffer.from(encoder.take()).toString("utf8");
}

describe("EntryEncoder", () => {
  it("writes exactly the UTF-8 bytes of JSON.stringify of the entry, for any key", () => {
    fc.assert(
      fc.property(keyData, (key) => {
        assert.equal(encoded(key, null), JSON.stringify(expectedEntry(key, null)));
      }),
      { numRuns: 2000 },
    );
  });

  it("the same with encrypted key strings", () => {
    const cipher = new KeyCipher(randomBytes(32));
    fc.assert(
      fc.property(keyData, (key) => {
        // The cipher remembers each key's ciphertext, so both calls see the same one.
        assert.equal(encoded(key, cipher), JSON.stringify(expectedEntry(key, cipher)));
      }),
      { numRuns: 300 },
    );
  });

  it("starts over after each take, keeping nothing of the bytes taken", () => {
    const [first, second] = fc.sample(keyData, { numRuns: 2, seed: 5 }) as [KeyData, KeyData];
    encoder.ascii("[");
    encoder.entry(first, null);
    const firstBytes = Buffer.from(encoder.take()).toString("utf8");
    assert.equal(firstBytes, `[${JSON.stringify(expectedEntry(first, null))}`);
    assert.equal(encoder.byteLength, 0);
    assert.equal(encoded(second, null), JSON.stringify(expectedEntry(second, null)));
  });
});
