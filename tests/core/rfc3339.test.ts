import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseRfc3339 } from "../../src/core/rfc3339.ts";

describe("RFC 3339 timestamps", () => {
  it("reads what Date#toISOString writes, to the millisecond", () => {
    fc.assert(
      fc.property(
        fc.date({
          min: new Date(0),
          max: new Date("9999-12-31T23:59:59.999Z"),
          // fast-check 4 also makes Invalid Date unless told not to; toISOString throws on it.
          noInvalidDate: true,
        }),
        (date) => {
          assert.equal(parseRfc3339(date.toISOString()), date.getTime());
        },
      ),
    );
  });

  it("reads offsets, nanoseconds and leap days as Date.parse does", () => {
    for (const text of [
      "2026-01-15T10:00:05.123456789Z",
      "2026-01-15T09:58:00+00:00",
      "2026-01-15T12:30:00+02:30",
      "2026-01-15T00:00:00-05:00",
      "2024-02-29T12:00:00Z",
      "2000-02-29T00:00:00Z",
    ]) {
      assert.equal(parseRfc3339(text), Date.parse(text), text);
      assert.ok(Number.isFinite(parseRfc3339(text)), text);
    }
  });

  it("refuses dates and times that do not exist, which Date.parse would move", () => {
    for (const text of [
      "2026-02-29T00:00:00Z",
      "1900-02-29T00:00:00Z",
      "2026-02-30T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-00-10T00:00:00Z",
      "2026-01-00T00:00:00Z",
      "2026-01-15T24:00:00Z",
      "2026-01-15T10:60:00Z",
      "2026-01-15T10:00:60Z",
      "2026-01-15T10:00:00+24:00",
    ]) {
      assert.ok(Number.isNaN(parseRfc3339(text)), text);
    }
  });

  it("refuses what is not RFC 3339: no seconds, no zone, a space, words", () => {
    for (const text of [
      "2026-01-15T10:00Z",
      "2026-01-15T10:00:00",
      "2026-01-15 10:00:00Z",
      "yesterday",
      "",
    ]) {
      assert.ok(Number.isNaN(parseRfc3339(text)), text);
    }
  });
});
