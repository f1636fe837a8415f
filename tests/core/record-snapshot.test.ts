import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { type KeyData, newKeyData } from "../../src/core/key-record.ts";
import { KeyTable } from "../../src/core/key-table.ts";
import { poolSettings } from "../../src/core/limits.ts";
import type { Outcome } from "../../src/core/outcome-rules.ts";
import { PoolSet } from "../../src/core/pool-set.ts";
import { PoolSnapshot } from "../../src/core/record-snapshot.ts";
import { Secret } from "../../src/core/secret.ts";

const T0 = Date.parse("2026-01-15T10:00:00.000Z");
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
const settings = poolSettings({ rpm: 2, rpd: 4, tpm: 50, cooldownMs: 30_000 });
const POOLS = ["default", "other"];
const OUTCOMES: Outcome[] = ["ok", "rate_limited", "invalid", "error"];

/** What a save writes of a key: its data fields, the key string revealed. */
function persisted(key: KeyData): Record<string, unknown> {
  return {
    id: key.id,
    secret: key.secret.reveal(),
    pool: key.pool,
    limits: key.limits,
    expiresAt: key.expiresAt,
    status: key.status,
    minuteCount: key.minuteCount,
    minuteWindow: key.minuteWindow,
    dayCount: key.dayCount,
    dayWindow: key.dayWindow,
    lastUsed: key.lastUsed,
    createdAt: key.createdAt,
    deactivatedAt: key.deactivatedAt,
    restUntil: key.restUntil,
    backoffLevel: key.backoffLevel,
    errorStreak: key.errorStreak,
    halfOpen: key.halfOpen,
    probeSentAt: key.probeSentAt,
    outcomes: { ...key.outcomes },
  };
}

type Op =
  | { kind: "acquire"; pool: number; random: boolean }
  | { kind: "deactivate" | "reactivate" | "remove" | "restore"; key: number }
  | { kind: "report"; key: number; outcome: number }
  | { kind: "add"; pool: number }
  | { kind: "wait"; ms: number }
  | { kind: "read"; count: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant("acquire" as const), pool: fc.nat(1), random: fc.boolean() }),
  fc.record({
    kind: fc.constantFrom("deactivate" as const, "reactivate" as const, "remove" as const),
    key: fc.nat(11),
  }),
  fc.record({ kind: fc.constant("restore" as const), key: fc.nat(11) }),
  fc.record({ kind: fc.constant("report" as const), key: fc.nat(11), outcome: fc.nat(3) }),
  fc.record({ kind: fc.constant("add" as const), pool: fc.nat(1) }),
  fc.record({ kind: fc.constant("wait" as const), ms: fc.integer({ min: 1, max: 90_000 }) }),
  fc.record({ kind: fc.constant("read" as const), count: fc.integer({ min: 1, max: 4 }) }),
);

describe("a snapshot of every key, read while the pools change", () => {
  it("reads every key exactly as it was when opened, whatever changes in between", () => {
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 60 }),
        fc.array(op, { maxLength: 20 }),
        (during, before) => {
          let now = T0;
          let added = 0;
          const set = new PoolSet(() => settings, ["other"]);
          const ids = () => Array.from({ length: 12 }, (_, i) => `k${i}`);
          const addKey = (pool: string) => {
            const id = `k${added}`;
            set.add(newKeyData(id, new Secret(`sk-snapshot-${added++}-key`), now, { pool }), now);
          };
          for (let i = 0; i < 8; i++) addKey(POOLS[i % 2] as string);
          const saved = new Map<string, KeyData>();
          const apply = (step: Op, read: () => void) => {
            switch (step.kind) {
              case "acquire":
                set.acquire(
                  POOLS[step.pool] as string,
                  now,
                  step.random ? "random" : "auto",
                  () => 0.5,
                );
                break;
              case "deactivate":
                set.deactivate(ids()[step.key] as string, now);
                break;
              case "reactivate":
                set.reactivate(ids()[step.key] as string, now);
                break;
              case "remove": {
                const key = set.find(ids()[step.key] as string);
                if (key) saved.set(key.id, { ...key, outcomes: { ...key.outcomes } });
                set.remove(ids()[step.key] as string, now);
                break;
              }
              case "restore": {
                const key = saved.get(ids()[step.key] as string);
                if (key && !set.find(key.id)) set.restore(key, now);
                break;
              }
              case "report":
                set.report(ids()[step.key] as string, OUTCOMES[step.outcome] as Outcome, null, now);
                break;
              case "add":
                if (added < 12) addKey(POOLS[step.pool] as string);
                break;
              case "wait":
                now += step.ms;
                set.advance(now);
                break;
              case "read":
                read();
                break;
            }
          };
          for (const step of before) apply(step, () => {});

          const snapshot = set.openSnapshot();
          const expected = Array.from(
            POOLS.flatMap((pool) => set.list(now, pool).map((view) => view.id)),
            (id) => persisted(set.find(id) as KeyData),
          );
          const keys = snapshot.keys();
          const got: Record<string, unknown>[] = [];
          const read = (count: number) => {
            for (let i = 0; i < count; i++) {
              const next = keys.next();
              if (next.done) return;
              got.push(persisted(next.value));
            }
          };
          for (const step of during) apply(step, () => read(step.kind === "read" ? step.count : 0));
          read(Number.POSITIVE_INFINITY);
          assert.equal(snapshot.size, expected.length);
          snapshot.close();
          assert.deepEqual(got, expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("cannot be read once closed, and keeps no copies nor its list of keys after", () => {
    const set = new PoolSet(() => settings);
    set.add(newKeyData("a", new Secret("sk-closed-snapshot-1"), T0), T0);
    const snapshot = set.openSnapshot();
    snapshot.close();
    set.acquire("default", T0, "auto", Math.random);
    assert.throws(() => [...snapshot.keys()], /the snapshot is closed/);
    assert.equal(snapshot.size, 0);
  });

  it("copies only keys it has yet to read, and reads those from their copies", () => {
    const table = new KeyTable();
    const add = (n: number) =>
      table.add(newKeyData(`k${n}`, new Secret(`sk-copy-${n}-key`), T0), n);
    for (let n = 0; n < 10; n++) add(n);
    const snapshot = new PoolSnapshot(table, "default", new KeyTable());
    add(10);
    add(11);
    const keys = snapshot.keys();
    for (let i = 0; i < 4; i++) keys.next(); // reads slots 0-3
    for (const slot of [0, 3, 4, 9, 9, 10, 11, 40]) snapshot.preserve(slot);
    assert.equal(
      snapshot.copied,
      2,
      "only 4 and 9: read, repeated, added later or unknown are not",
    );
    for (const slot of [4, 9]) table.dayCount.set(slot, 99);
    table.delete(9);
    const rest = [...keys];
    assert.deepEqual(
      rest.map((key) => [key.id, key.dayCount]),
      ["k4", "k5", "k6", "k7", "k8", "k9"].map((id) => [id, 0]),
    );
    snapshot.preserve(5);
    assert.equal(snapshot.copied, 2, "nothing is copied once everything is read");
  });

  it("gives every copy back to the copies table, read or not, for the next snapshot", () => {
    const table = new KeyTable();
    for (let n = 0; n < 10; n++)
      table.add(newKeyData(`k${n}`, new Secret(`sk-reuse-${n}-key`), T0), n);
    const copies = new KeyTable();
    const copyAll = (snapshot: PoolSnapshot) => {
      for (let slot = 0; slot < 10; slot++) snapshot.preserve(slot);
    };
    const read = new PoolSnapshot(table, "default", copies);
    copyAll(read);
    assert.equal([...read.keys()].length, 10);
    read.close();
    const unread = new PoolSnapshot(table, "default", copies);
    copyAll(unread);
    unread.close();
    const next = new PoolSnapshot(table, "default", copies);
    copyAll(next);
    assert.equal(next.copied, 10);
    assert.equal(copies.slotLimit, 10, "ten slots, reused by each snapshot in turn");
    table.dayCount.set(3, 7);
    assert.deepEqual(
      [...next.keys()].map((key) => [key.id, key.dayCount]),
      Array.from({ length: 10 }, (_, n) => [`k${n}`, 0]),
    );
  });
});
