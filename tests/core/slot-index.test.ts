import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { SlotIndex } from "../../src/core/slot-index.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);

type Op = { kind: "add" | "delete" | "get"; text: string };

// Few distinct strings, so that adds, deletes and lookups meet the same entries.
const text = fc.stringMatching(/^[a-h]{1,2}$/);
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.constantFrom("add" as const, "delete" as const, "get" as const),
  text,
});

/** The index beside a Map doing the same work, slots handed out and freed as a key table does. */
function replay(ops: readonly Op[]): void {
  const texts: (string | undefined)[] = [];
  const index = new SlotIndex((slot) => texts[slot] as string);
  const model = new Map<string, number>();
  const free: number[] = [];
  for (const { kind, text } of ops) {
    if (kind === "add" && !model.has(text)) {
      const slot = free.pop() ?? texts.length;
      texts[slot] = text;
      index.add(text, slot);
      model.set(text, slot);
    } else if (kind === "delete" && model.has(text)) {
      const slot = model.get(text) as number;
      index.delete(text);
      texts[slot] = undefined;
      free.push(slot);
      model.delete(text);
    }
    assert.equal(index.get(text), model.get(text), `${kind} ${text}`);
    assert.equal(index.size, model.size);
  }
  for (const [text, slot] of model) assert.equal(index.get(text), slot, text);
}

describe("SlotIndex", () => {
  // First in the file: the hash memo is module state, and this needs it as a process starts.
  it("finds the empty string as any other, from the first lookup on", () => {
    const texts = ["", "x"];
    const index = new SlotIndex((slot) => texts[slot] as string);
    index.add("", 0);
    index.add("x", 1);
    assert.equal(index.get("y"), undefined);
    assert.equal(index.get("z"), undefined);
    assert.equal(index.get(""), 0);
  });

  it("answers as a Map would through any sequence of adds and deletes", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 500 }), (ops) => replay(ops)),
      { numRuns: RUNS },
    );
  });

  it("keeps every other entry findable whichever is deleted, runs that wrap past the table's end included", () => {
    // Up to 8 entries stay in the first 16-place table, where runs often wrap.
    const texts = fc.uniqueArray(fc.string({ minLength: 1, maxLength: 6 }), {
      minLength: 1,
      maxLength: 8,
    });
    const scenario = texts.chain((all) =>
      fc.tuple(fc.constant(all), fc.shuffledSubarray(all, { minLength: all.length })),
    );
    fc.assert(
      fc.property(scenario, ([all, deleteOrder]) => {
        const index = new SlotIndex((slot) => all[slot] as string);
        for (const [slot, text] of all.entries()) index.add(text, slot);
        const left = new Set(all);
        for (const text of deleteOrder) {
          index.delete(text);
          left.delete(text);
          for (const other of left) assert.equal(index.get(other), all.indexOf(other), other);
          assert.equal(index.get(text), undefined);
        }
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("finds every entry after growing past many tables, and loses each deleted one", () => {
    const count = 50_000;
    const texts = Array.from({ length: count }, (_, i) => `key-${i}`);
    const index = new SlotIndex((slot) => texts[slot] as string);
    for (const [slot, text] of texts.entries()) index.add(text, slot);
    for (let slot = 0; slot < count; slot += 2) index.delete(texts[slot] as string);
    for (let slot = 0; slot < count; slot++)
      assert.equal(index.get(texts[slot] as string), slot % 2 === 0 ? undefined : slot);
    assert.equal(index.size, count / 2);
    assert.equal(index.has("key-50000"), false);
  });
});
