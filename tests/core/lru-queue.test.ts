import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LruQueue } from "../../src/core/lru-queue.ts";

const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const ITEMS = 12;

type Op =
  | { kind: "push" | "remove"; item: number; time: number }
  // "use" is a dispense: the item becomes the newest, unless the clock went back.
  | { kind: "use"; item: number; time: number; clockBack: boolean };

const item = fc.nat(ITEMS - 1);
const time = fc.integer({ min: -5, max: 40 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom("push" as const, "remove" as const), item, time }),
  fc.record({ kind: fc.constant("use" as const), item, time, clockBack: fc.boolean() }),
);

/** An array-backed column, -1 where nothing was written, as a fresh key table slot has. */
function column(): { get(i: number): number; set(i: number, v: number): void } {
  const values = new Array<number>(ITEMS).fill(-1);
  return {
    get: (i) => values[i] as number,
    set: (i, v) => {
      values[i] = v;
    },
  };
}

/** The queue beside a plain set, checked against a sort after every step. */
function replay(ops: readonly Op[]): void {
  const used = new Array<number>(ITEMS).fill(0);
  const seq = new Array<number>(ITEMS).fill(0);
  let counter = 0;
  let newest = 0;
  const before = (a: number, b: number) =>
    (used[a] as number) < (used[b] as number) ||
    (used[a] === used[b] && (seq[a] as number) < (seq[b] as number));
  const queue = new LruQueue(before, column(), { next: column(), previous: column() });
  const model = new Set<number>();
  for (const step of ops) {
    if (step.kind === "push" && !model.has(step.item)) {
      used[step.item] = step.time;
      seq[step.item] = ++counter;
      queue.push(step.item);
      model.add(step.item);
    } else if (step.kind === "remove" && model.has(step.item)) {
      queue.remove(step.item);
      model.delete(step.item);
    } else if (step.kind === "use" && model.has(step.item)) {
      newest = step.clockBack ? newest - step.time : Math.max(newest, step.time) + 1;
      used[step.item] = newest;
      seq[step.item] = ++counter;
      queue.update(step.item);
    }
    const expected = [...model].sort((a, b) => (before(a, b) ? -1 : 1))[0];
    assert.equal(queue.peek(), expected, JSON.stringify(step));
    assert.equal(queue.size, model.size);
  }
  // Draining from the front gives the whole order.
  const drained: number[] = [];
  for (let next = queue.peek(); next !== undefined; next = queue.peek()) {
    drained.push(next);
    queue.remove(next);
  }
  assert.deepEqual(
    drained,
    [...model].sort((a, b) => (before(a, b) ? -1 : 1)),
  );
}

describe("LruQueue", () => {
  it("always fronts the least recently used item, in or out of order, clock going back or not", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => replay(ops)),
      { numRuns: RUNS * 5 },
    );
  });

  it("keeps dispensed items in its list: using the front goes round without the heap", () => {
    const used = [0, 1, 2, 3];
    const positions = column();
    const queue = new LruQueue((a, b) => (used[a] as number) < (used[b] as number), positions, {
      next: column(),
      previous: column(),
    });
    for (const item of [0, 1, 2, 3]) queue.push(item);
    const order: number[] = [];
    for (let i = 0; i < 8; i++) {
      const front = queue.peek() as number;
      order.push(front);
      used[front] = 4 + i;
      queue.update(front);
    }
    assert.deepEqual(order, [0, 1, 2, 3, 0, 1, 2, 3]);
    for (const item of [0, 1, 2, 3]) assert.equal(positions.get(item), -1, "never in the heap");
  });
});
