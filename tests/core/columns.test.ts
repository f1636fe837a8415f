import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NumberRecords, PAGE_SIZE, ValueRecords } from "../../src/core/columns.ts";

type Kind = "float64" | "int32" | "uint8";

function numberOf(kind: Kind, slot: number, field: number): number {
  if (kind === "uint8") return (slot + field) % 256;
  if (kind === "int32") return -(slot * 31 + field);
  return slot + field / 64;
}

describe("NumberRecords", () => {
  it("keeps every field of every slot apart, across pages", () => {
    const records = new NumberRecords();
    // Sizes mixed as the key table mixes them, 128 bytes in all.
    const kinds: Kind[] = ["float64", "int32", "uint8", "int32", "float64", "uint8", "uint8"];
    kinds.push("int32", ...Array.from({ length: 11 }, (): Kind => "float64"));
    const fields = kinds.map((kind) => ({ kind, column: records[kind]() }));
    for (let page = 0; page < 3; page++) records.addPage();
    const slots = 2 * PAGE_SIZE + 3;
    for (let slot = 0; slot < slots; slot++)
      for (const [field, { kind, column }] of fields.entries())
        column.set(slot, numberOf(kind, slot, field));
    for (let slot = 0; slot < slots; slot++)
      for (const [field, { kind, column }] of fields.entries())
        assert.equal(column.get(slot), numberOf(kind, slot, field), `slot ${slot}, field ${field}`);
  });

  it("refuses a field past the record's 128 bytes", () => {
    const records = new NumberRecords();
    for (let i = 0; i < 15; i++) records.float64();
    records.uint8();
    // The uint8 took byte 120; a double must start at an 8-byte boundary, so it no longer fits.
    assert.throws(() => records.float64(), /128 bytes/);
    records.int32();
    assert.throws(() => records.uint8(), /128 bytes/);
  });
});

describe("ValueRecords", () => {
  it("keeps four values a slot apart, and refuses a fifth field", () => {
    const records = new ValueRecords();
    const fields = Array.from({ length: 4 }, () => records.field<unknown>());
    assert.throws(() => records.field(), /4 values/);
    records.addPage();
    records.addPage();
    const referenceOf = (slot: number, field: number): unknown =>
      field === 2 ? { slot } : field === 3 ? slot : `${field}:${slot}`;
    const slots = PAGE_SIZE + 5;
    for (let slot = 0; slot < slots; slot++)
      for (const [field, column] of fields.entries()) column.set(slot, referenceOf(slot, field));
    for (let slot = 0; slot < slots; slot++)
      for (const [field, column] of fields.entries())
        assert.deepEqual(column.get(slot), referenceOf(slot, field));
  });
});
