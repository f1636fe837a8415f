import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { nextParams } from "../../src/http/next-route.ts";
import type { KeyStore } from "../../src/store/key-store.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const store = { hasPool: (name: string) => name !== "gone" } as unknown as KeyStore;

/** The parameters, or the code of the error they are refused with. */
function outcome(querystring: string): string {
  try {
    return JSON.stringify(nextParams(querystring, store, 5_000));
  } catch (error) {
    return `refused: ${(error as { code?: string }).code}`;
  }
}

// A pair no reader looks at, but whose escape sends the whole query through URLSearchParams:
// the reference for what the plain reader must make of a query with nothing to decode.
const DECODED = "&%78=";

describe("/next's query", () => {
  it("reads a plain query as URLSearchParams would: names, repeats, empty and missing values", () => {
    const name = fc.constantFrom("mode", "pool", "wait", "mod", "modes", "xwait", "");
    const value = fc.constantFrom("auto", "random", "gemini", "gone", "0", "1.5", "", "=", "a=b");
    const pair = fc
      .tuple(name, fc.constantFrom("=", ""), value)
      .map(([key, eq, text]) => key + eq + text);
    // Odd shapes too: runs of '=' and '&', names cut or run together.
    const junk = fc
      .array(fc.constantFrom("mode", "pool", "wait", "=", "&", "random", "x"), { maxLength: 6 })
      .map((tokens) => tokens.join(""));
    const query = fc
      .array(fc.oneof(pair, pair, junk), { maxLength: 6 })
      .map((parts) => parts.join("&"));
    fc.assert(
      fc.property(query, (text) => {
        assert.equal(outcome(text), outcome(text + DECODED), text);
      }),
      { numRuns: RUNS * 10 },
    );
  });

  it("takes each parameter by its whole name, and a repeat as invalid", () => {
    assert.deepEqual(JSON.parse(outcome("modes=auto&mode=random&xpool=1")), {
      mode: "random",
      pool: "default",
      waitMs: 0,
    });
    assert.equal(outcome("mode=random&mode=random"), "refused: invalid_mode");
    assert.equal(outcome("mode=auto&wait"), "refused: invalid_wait");
    assert.equal(outcome("pool=gone"), "refused: pool_not_found");
  });
});
