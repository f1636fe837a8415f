import assert from "node:assert/strict";
import { test } from "node:test";
import { ID_PATTERN } from "../src/core/key-format.ts";
import { newKeyId } from "../src/key-id.ts";

// Without the rule about '-', 10,000 ids would hold about 156 that start with it.
test("new key ids are 12 URL-safe characters and never start with '-'", () => {
  const ids = Array.from({ length: 10_000 }, newKeyId);
  for (const id of ids) {
    assert.match(id, ID_PATTERN);
    assert.equal(id.length, 12);
    assert.ok(!id.startsWith("-"), id);
  }
  assert.equal(new Set(ids).size, ids.length);
});
