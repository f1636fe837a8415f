import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { KeyRecord, newKeyData } from "../../src/core/key-record.ts";
import { Secret } from "../../src/core/secret.ts";

const T0 = Date.parse("2026-01-15T10:00:00.000Z");
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

// The fields a record keeps apart from the rest, only while one is set.
const troubleWrite = fc.oneof(
  fc.record({ field: fc.constant("deactivatedAt"), value: fc.option(fc.nat()) }),
  fc.record({ field: fc.constant("restUntil"), value: fc.option(fc.nat()) }),
  fc.record({ field: fc.constant("backoffLevel"), value: fc.nat({ max: 3 }) }),
  fc.record({ field: fc.constant("errorStreak"), value: fc.nat({ max: 3 }) }),
  fc.record({ field: fc.constant("halfOpen"), value: fc.boolean() }),
  fc.record({ field: fc.constant("probeSentAt"), value: fc.option(fc.nat()) }),
);

const SETTLED = {
  deactivatedAt: null,
  restUntil: null,
  backoffLevel: 0,
  errorStreak: 0,
  halfOpen: false,
  probeSentAt: null,
};

describe("KeyRecord", () => {
  it("reads back every write of its occasional fields, through settling and unsettling", () => {
    fc.assert(
      fc.property(fc.array(troubleWrite, { maxLength: 30 }), (writes) => {
        const record = new KeyRecord(newKeyData("id1", new Secret("sk-record-0001"), T0), 1);
        const model: Record<string, unknown> = { ...SETTLED };
        for (const { field, value } of writes) {
          (record as unknown as Record<string, unknown>)[field] = value;
          model[field] = value;
          for (const name of Object.keys(SETTLED)) {
            assert.equal((record as unknown as Record<string, unknown>)[name], model[name], name);
          }
        }
        const { outcomes, ...data } = record.toData();
        assert.deepEqual(
          Object.fromEntries(Object.keys(SETTLED).map((name) => [name, (data as never)[name]])),
          model,
        );
        assert.deepEqual(outcomes, { ok: 0, rateLimited: 0, invalid: 0, error: 0 });
      }),
      { numRuns: RUNS },
    );
  });

  it("starts from the data it is given, and copies it out detached", () => {
    const data = {
      ...newKeyData("id2", new Secret("sk-record-0002"), T0),
      deactivatedAt: T0 - 1,
      backoffLevel: 2,
      halfOpen: true,
      outcomes: { ok: 1, rateLimited: 2, invalid: 0, error: 3 },
    };
    const record = new KeyRecord(data, 7);
    const copy = record.toData();
    assert.deepEqual(
      { ...copy, secret: copy.secret.reveal() },
      { ...data, secret: "sk-record-0002" },
    );
    record.outcomes.ok++;
    record.backoffLevel = 0;
    assert.equal(copy.outcomes.ok, 1, "the copy's counts are its own");
    assert.equal(copy.backoffLevel, 2);
  });
});
