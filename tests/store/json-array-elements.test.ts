import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { JsonArraySplitter, NotAnArrayError } from "../../src/store/json-array-elements.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

/** Feeds `text` to a splitter in chunks cut at `cuts` (byte offsets) and parses every element. */
function splitInChunks(text: string, cuts: readonly number[] = []): unknown[] {
  const bytes = Buffer.from(text, "utf8");
  const bounds = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const splitter = new JsonArraySplitter();
  const texts: string[] = [];
  let from = 0;
  for (const to of [...bounds, bytes.length]) {
    splitter.push(bytes.subarray(from, to), (text) => texts.push(text));
    from = to;
  }
  splitter.end();
  return texts.map((text) => JSON.parse(text));
}

function parsesAsArray(text: string): boolean {
  try {
    return Array.isArray(JSON.parse(text));
  } catch {
    return false;
  }
}

function splitSucceeds(text: string, cuts: readonly number[]): boolean {
  try {
    splitInChunks(text, cuts);
    return true;
  } catch {
    return false;
  }
}

describe("splitting a JSON array into its elements", () => {
  test("strings with brackets, commas, quotes, escapes and multi-byte characters, cut anywhere", () => {
    const doc = [
      { key: 'a"]},[{,b', nested: [[1, { x: "}" }], []], emoji: "🔑 ключ", slash: "\\" },
      "just a string, with ] in it",
      42,
      null,
      [],
      {},
    ];
    const text = JSON.stringify(doc, null, 2);
    const bytes = Buffer.byteLength(text);
    for (let cut = 0; cut <= bytes; cut++) {
      assert.deepEqual(splitInChunks(text, [cut]), doc, `cut at byte ${cut}`);
    }
    const everyByte = Array.from({ length: bytes }, (_, i) => i);
    assert.deepEqual(splitInChunks(text, everyByte), doc);
  });

  test("an empty array, with or without space, has no elements", () => {
    assert.deepEqual(splitInChunks("[]"), []);
    assert.deepEqual(splitInChunks(" \n[ \t\r\n ]\n"), []);
  });

  test("what is not an array says what it is instead", () => {
    const found = (text: string) => {
      try {
        splitInChunks(text);
      } catch (error) {
        assert.ok(error instanceof NotAnArrayError);
        return error.found;
      }
      assert.fail("accepted");
    };
    assert.equal(found(""), "nothing");
    assert.equal(found("  \n"), "nothing");
    assert.equal(found('{"key": "sk-1"}'), "an object");
    assert.equal(found('"text"'), "a string");
    assert.equal(found("12"), "a number");
    assert.equal(found("null"), "null");
  });

  test("any JSON array, in any chunks, splits into exactly its elements", () => {
    fc.assert(
      fc.property(
        fc.array(fc.jsonValue()),
        fc.constantFrom(undefined, 1, 2),
        fc.array(fc.nat(), { maxLength: 8 }),
        (elements, indent, cuts) => {
          const text = JSON.stringify(elements, null, indent);
          assert.deepEqual(splitInChunks(text, cuts), JSON.parse(text));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test("text is accepted exactly when JSON.parse reads it as an array", () => {
    // Damaged arrays: a valid document with a few characters deleted, replaced or inserted.
    const damaged = fc
      .tuple(
        fc.array(fc.jsonValue(), { maxLength: 4 }),
        fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...'[]{},"\\: 1a')), {
          minLength: 1,
          maxLength: 3,
        }),
      )
      .map(([value, edits]) => {
        let text = JSON.stringify(value);
        for (const [at, deleteCount, char] of edits) {
          const i = at % (text.length + 1);
          text = text.slice(0, i) + char + text.slice(i + deleteCount);
        }
        return text;
      });
    fc.assert(
      fc.property(
        fc.oneof(damaged, fc.string()),
        fc.array(fc.nat(), { maxLength: 4 }),
        (text, cuts) => {
          assert.equal(splitSucceeds(text, cuts), parsesAsArray(text), JSON.stringify(text));
        },
      ),
      { numRuns: RUNS * 3 },
    );
  });
});
