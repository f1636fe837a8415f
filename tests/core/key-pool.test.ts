import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PAGE_SIZE } from "../../src/core/columns.ts";
import { KeyPool } from "../../src/core/key-pool.ts";
import { type KeyData, MAX_STREAK, newKeyData } from "../../src/core/key-record.ts";
import { type Limits, poolSettings } from "../../src/core/limits.ts";
import { Secret } from "../../src/core/secret.ts";
import { dayOf, minuteOf } from "../../src/core/windows.ts";

const T0 = Date.parse("2026-01-15T10:00:00.000Z");
const LIMITS: Limits = { rpm: 2, rpd: 5, tpm: 1000, cooldownMs: 300_000 };
const never = () => 0;

function poolWith(count: number, limits: Partial<Limits> = {}, now = T0): KeyPool {
  const pool = new KeyPool("default", poolSettings({ ...LIMITS, ...limits }));
  for (let i = 0; i < count; i++)
    pool.add(newKeyData(`id${i}`, new Secret(`sk-key-${i}-padding`), now), now);
  return pool;
}

/** The keys as a save would read them. */
function savedKeys(pool: KeyPool): KeyData[] {
  const snapshot = pool.openSnapshot();
  try {
    return [...snapshot.keys()];
  } finally {
    snapshot.close();
  }
}

function takeIds(
  pool: KeyPool,
  n: number,
  now: number,
  mode: "auto" | "random" = "auto",
): string[] {
  return Array.from({ length: n }, () => {
    const result = pool.acquire(now, mode, Math.random);
    return result.ok ? result.id : `refused:${result.reason}`;
  });
}

describe("auto selection", () => {
  it("hands out never-used keys in the order they were added, then the least recently used", () => {
    const pool = poolWith(3, { rpm: 100, rpd: 100 });
    assert.deepEqual(takeIds(pool, 6, T0), ["id0", "id1", "id2", "id0", "id1", "id2"]);
  });

  it("puts a newly added key ahead of keys that have been used", () => {
    const pool = poolWith(2, { rpm: 100, rpd: 100 });
    takeIds(pool, 2, T0);
    pool.add(newKeyData("late", new Secret("sk-late-key-padding"), T0), T0);
    assert.deepEqual(takeIds(pool, 2, T0 + 1), ["late", "id0"]);
  });

  it("orders by last use even when keys were used at different times", () => {
    const pool = poolWith(3, { rpm: 100, rpd: 100 });
    takeIds(pool, 3, T0); // id0, id1, id2 at T0
    pool.deactivate("id1", T0 + 1);
    pool.reactivate("id1", T0 + 2);
    // id1's position follows its last use, not its reactivation
    assert.deepEqual(takeIds(pool, 3, T0 + 3), ["id0", "id1", "id2"]);
  });

  it("counts a random pick as a use: auto hands out the least recently used after it", () => {
    const pool = poolWith(4, { rpm: 100, rpd: 100 });
    for (let i = 0; i < 4; i++) takeIds(pool, 1, T0 + i);
    const picked = pool.acquire(T0 + 10, "random", () => 0.3);
    assert.equal(picked.ok && picked.id, "id1");
    assert.deepEqual(takeIds(pool, 5, T0 + 11), ["id0", "id2", "id3", "id1", "id0"]);
  });

  it("hands out first a key picked at random while the clock had gone back", () => {
    const pool = poolWith(3, { rpm: 100, rpd: 100 });
    takeIds(pool, 3, T0);
    const picked = pool.acquire(T0 - 1000, "random", () => 0.5);
    assert.equal(picked.ok && picked.id, "id1");
    assert.deepEqual(takeIds(pool, 3, T0), ["id1", "id0", "id2"]);
  });
});

describe("random selection", () => {
  it("picks among eligible keys only, spread over all of them", () => {
    const pool = poolWith(4, { rpm: 10_000, rpd: 10_000, tpm: 100_000 });
    pool.deactivate("id3", T0);
    const counts = new Map<string, number>();
    for (const id of takeIds(pool, 3000, T0, "random")) counts.set(id, (counts.get(id) ?? 0) + 1);
    assert.equal(counts.has("id3"), false);
    for (const id of ["id0", "id1", "id2"]) {
      const share = (counts.get(id) ?? 0) / 3000;
      assert.ok(share > 0.28 && share < 0.39, `${id} got ${share}`);
    }
  });

  it("uses the injected random source to choose", () => {
    const pool = poolWith(3, { rpm: 100, rpd: 100 });
    const last = pool.acquire(T0, "random", () => 0.99);
    assert.ok(last.ok);
    const ids = savedKeys(pool).map((k) => k.id);
    assert.ok(ids.includes(last.id));
  });
});

describe("limits", () => {
  it("serves a key exactly rpm times in a minute, then again from the next minute", () => {
    const pool = poolWith(1, { rpm: 3, rpd: 100 });
    assert.deepEqual(takeIds(pool, 4, T0 + 59_999), ["id0", "id0", "id0", "refused:exhausted"]);
    assert.deepEqual(takeIds(pool, 1, T0 + 60_000), ["id0"]);
  });

  it("serves a key exactly rpd times in a UTC day, then again from the next UTC day", () => {
    const pool = poolWith(1, { rpm: 100, rpd: 3 });
    const lastMsOfDay = Date.parse("2026-01-15T23:59:59.999Z");
    assert.deepEqual(takeIds(pool, 3, T0), ["id0", "id0", "id0"]);
    assert.deepEqual(takeIds(pool, 1, lastMsOfDay), ["refused:exhausted"]);
    assert.deepEqual(takeIds(pool, 1, lastMsOfDay + 1), ["id0"]);
  });

  it("refuses over the global cap with 'global-cap' even when keys are free, until the next minute", () => {
    const pool = poolWith(5, { rpm: 100, rpd: 100, tpm: 4 });
    assert.deepEqual(takeIds(pool, 5, T0 + 10_000).slice(3), ["id3", "refused:global-cap"]);
    assert.deepEqual(takeIds(pool, 1, T0 + 60_000), ["id4"]);
  });

  it("says global-cap before exhausted when both hold", () => {
    const pool = poolWith(2, { rpm: 1, rpd: 100, tpm: 2 });
    takeIds(pool, 2, T0);
    const result = pool.acquire(T0 + 1, "auto", never);
    assert.deepEqual(result, { ok: false, reason: "global-cap", retryAfterMs: 59_999 });
  });
});

describe("retry-after", () => {
  it("is the time to the next minute when keys are only minute-limited", () => {
    const pool = poolWith(1, { rpm: 1 });
    takeIds(pool, 1, T0 + 15_500);
    assert.deepEqual(pool.acquire(T0 + 15_500, "auto", never), {
      ok: false,
      reason: "exhausted",
      retryAfterMs: 44_500,
    });
  });

  it("is the time to the next UTC day when keys are day-limited", () => {
    const pool = poolWith(1, { rpm: 100, rpd: 1 });
    takeIds(pool, 1, T0);
    const result = pool.acquire(T0, "auto", never);
    assert.equal(result.ok, false);
    assert.equal(!result.ok && result.retryAfterMs, Date.parse("2026-01-16T00:00:00Z") - T0);
  });

  it("is the end of the earliest cooldown when every key rests", () => {
    const pool = poolWith(2, { cooldownMs: 300_000 });
    pool.deactivate("id0", T0);
    pool.deactivate("id1", T0 + 100_000);
    assert.deepEqual(pool.acquire(T0 + 200_000, "auto", never), {
      ok: false,
      reason: "exhausted",
      retryAfterMs: 100_000,
    });
  });

  it("is null when no key will come back by time alone", () => {
    const pool = poolWith(0);
    assert.deepEqual(pool.acquire(T0, "auto", never), {
      ok: false,
      reason: "exhausted",
      retryAfterMs: null,
    });
  });

  it("for the global cap, waits past the next minute if no key is free by then", () => {
    const pool = poolWith(1, { rpm: 100, rpd: 1, tpm: 1 });
    takeIds(pool, 1, T0);
    const result = pool.acquire(T0, "auto", never);
    assert.equal(!result.ok && result.reason, "global-cap");
    assert.equal(!result.ok && result.retryAfterMs, Date.parse("2026-01-16T00:00:00Z") - T0);
  });
});

describe("cooldown", () => {
  it("brings a deactivated key back exactly when its cooldown ends", () => {
    const pool = poolWith(1, { cooldownMs: 300_000 });
    pool.deactivate("id0", T0);
    assert.deepEqual(takeIds(pool, 1, T0 + 299_999), ["refused:exhausted"]);
    assert.equal(pool.view("id0", T0 + 299_999)?.status, "Inactive");
    assert.deepEqual(takeIds(pool, 1, T0 + 300_000), ["id0"]);
    assert.equal(pool.view("id0", T0 + 300_000)?.status, "Active");
    assert.equal(pool.view("id0", T0 + 300_000)?.deactivatedAt, null);
  });

  it("reports the reactivation as a change worth saving", () => {
    const pool = poolWith(1, { cooldownMs: 1000 });
    pool.deactivate("id0", T0);
    const version = pool.version;
    assert.equal(pool.advance(T0 + 999), false);
    assert.equal(pool.advance(T0 + 1000), true);
    assert.ok(pool.version > version);
  });

  it("manual reactivation is immediate", () => {
    const pool = poolWith(1);
    pool.deactivate("id0", T0);
    pool.reactivate("id0", T0 + 1);
    assert.deepEqual(takeIds(pool, 1, T0 + 1), ["id0"]);
  });
});

describe("management", () => {
  it("refuses a duplicate key and names the existing id", () => {
    const pool = poolWith(1);
    const again = pool.add(newKeyData("other", new Secret("sk-key-0-padding"), T0), T0);
    assert.deepEqual(again, { ok: false, reason: "duplicate", existingId: "id0" });
  });

  it("finds keys by id first, then by the key string", () => {
    const pool = poolWith(2);
    assert.equal(pool.find("id1")?.id, "id1");
    assert.equal(pool.find("sk-key-0-padding")?.id, "id0");
    assert.equal(pool.find("nope"), undefined);
  });

  it("keeps keys apart across column pages, and gives a removed key's slot to a new key, listed last", () => {
    const count = 2 * PAGE_SIZE + 7;
    const pool = poolWith(count, { rpm: 1, rpd: 1, tpm: 1e9 });
    const removed = Array.from({ length: Math.ceil(count / 3) }, (_, n) => 3 * n);
    for (const i of removed) pool.remove(`id${i}`, T0);
    for (const i of removed)
      pool.add(newKeyData(`new${i}`, new Secret(`sk-new-${i}-padding`), T0), T0);
    const kept = Array.from({ length: count }, (_, i) => i).filter((i) => i % 3 !== 0);
    const expected = [
      ...kept.map((i) => [`id${i}`, `sk-key-${i}-padding`]),
      ...removed.map((i) => [`new${i}`, `sk-new-${i}-padding`]),
    ];
    const dispensed: string[][] = [];
    for (let result = pool.acquire(T0, "auto", never); result.ok; ) {
      dispensed.push([result.id, result.secret.reveal()]);
      result = pool.acquire(T0, "auto", never);
    }
    assert.deepEqual(dispensed, expected);
    assert.deepEqual(
      pool.list(T0).map((view) => view.id),
      expected.map(([id]) => id),
      "listed in the order added, a reused slot's new key last",
    );
    assert.equal(pool.size, count);
    assert.equal(pool.find("sk-new-3-padding")?.id, "new3");
    assert.equal(pool.find("id3"), undefined);
  });

  it("gives back a key exactly as loaded, at the furthest dates and largest counts keys.json allows", () => {
    const last = Date.parse("9999-12-31T23:59:59.999Z");
    const key: KeyData = {
      ...newKeyData("far", new Secret("sk-far-future-padding"), T0),
      status: "Disabled",
      lastUsed: last,
      minuteCount: Number.MAX_SAFE_INTEGER,
      minuteWindow: minuteOf(last),
      dayCount: Number.MAX_SAFE_INTEGER,
      dayWindow: dayOf(last),
      expiresAt: last,
      restUntil: last,
      probeSentAt: last,
      halfOpen: true,
      backoffLevel: MAX_STREAK,
      errorStreak: MAX_STREAK,
      outcomes: { ok: Number.MAX_SAFE_INTEGER, rateLimited: 1, invalid: 2, error: 3 },
    };
    const pool = new KeyPool("default", poolSettings(LIMITS));
    pool.loadKey(key, T0);
    const [back] = savedKeys(pool);
    assert.deepEqual(
      { ...back, secret: back?.secret.reveal() },
      { ...key, secret: key.secret.reveal() },
    );
  });

  it("counts rests and errors in a row no further than keys.json may hold", () => {
    const settings = poolSettings(LIMITS, { errorThreshold: 2 ** 40 });
    const pool = new KeyPool("default", settings);
    const streaks = { backoffLevel: MAX_STREAK, errorStreak: MAX_STREAK };
    pool.loadKey({ ...newKeyData("rests", new Secret("sk-rests-padding"), T0), ...streaks }, T0);
    pool.loadKey({ ...newKeyData("errs", new Secret("sk-errs-padding"), T0), ...streaks }, T0);
    pool.report("rests", "rate_limited", null, T0);
    pool.report("errs", "error", null, T0);
    const counted = savedKeys(pool).map((key) => [key.backoffLevel, key.errorStreak]);
    assert.deepEqual(counted, [
      [MAX_STREAK, 0],
      [MAX_STREAK, MAX_STREAK],
    ]);
  });

  it("a removed key is never dispensed again", () => {
    const pool = poolWith(2, { rpm: 100, rpd: 100 });
    pool.remove("id0", T0);
    assert.deepEqual(takeIds(pool, 3, T0), ["id1", "id1", "id1"]);
  });

  it("restores global counts from saved keys of the current minute and day", () => {
    const source = poolWith(2, { rpm: 100, rpd: 100 });
    takeIds(source, 3, T0);
    const reloaded = new KeyPool("default", poolSettings(LIMITS));
    for (const key of savedKeys(source)) reloaded.loadKey(key, T0 + 1000);
    assert.equal(reloaded.stats(T0 + 1000).dispensedThisMinute, 3);
    assert.equal(reloaded.stats(T0 + 60_000).dispensedThisMinute, 0);
    assert.equal(reloaded.stats(T0 + 60_000).dispensedToday, 3);
  });
});
