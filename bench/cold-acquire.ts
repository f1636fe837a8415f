// Micro-benchmark: what one dispense costs in the core when its data is not in the caches.
//
//   node bench/cold-acquire.ts [MB walked between calls, default 4]
//
// In the server, the HTTP work between two dispenses pushes the pool's data out of the CPU's
// caches; here a buffer walked before each call stands in for it. Each call is
// `KeyPool.acquire` and reading the key's string and id, as /next does, at 10 and 100,000 keys,
// in auto and random mode, twice. Only the calls are timed, not the walks.
//
// Then the floor, with none of our code: one of 100,000 keys taken in order or at random, with the
// same walk between, and four things done to it: reading and writing ten numbers in ten
// Float64Arrays (a column each, as the key table kept them until 2026-11-24), the same ten
// numbers side by side in one 128-byte record (as it keeps them now), reading a character of its
// two strings (made by JSON.parse, as loading keys.json makes them), and the same characters of
// the strings' bytes kept side by side in one Buffer at an offset computed from the slot, with no
// pointer to follow. What random order costs
// there, the memory's and not ours, is what mode=random cannot avoid; the parts say which of a
// key's data costs most to reach, and what another layout could save.

import { KeyPool, type SelectionMode } from "../src/core/key-pool.ts";
import { newKeyData } from "../src/core/key-record.ts";
import { poolSettings } from "../src/core/limits.ts";
import { Secret } from "../src/core/secret.ts";

const POLLUTION_MB = Number(process.argv[2] ?? 4);
const CALLS = 20_000;
const settings = poolSettings({ rpm: 1e9, rpd: 1e9, tpm: 1e9, cooldownMs: 1000 });
const junk = new Float64Array((POLLUTION_MB * 1024 * 1024) / 8);
let sink = 0;

function pollute(): void {
  // One read and write per 64-byte line.
  for (let i = 0; i < junk.length; i += 8) {
    const value = junk[i] as number;
    junk[i] = value + 1;
    sink += value;
  }
}

function poolOf(size: number, now: number): KeyPool {
  const pool = new KeyPool("default", settings);
  for (let i = 0; i < size; i++) {
    const secret = new Secret(`sk-proj-${String(i).padStart(48, "0")}`);
    pool.add(newKeyData(`id-${String(i).padStart(9, "0")}`, secret, now), now);
  }
  return pool;
}

function coldNsPerCall(pool: KeyPool, mode: SelectionMode, start: number): number {
  // Every key dispensed once or more first, as in a server that has been up a while.
  for (let i = 0; i < 200_000; i++) pool.acquire(start + i / 100, mode, Math.random);
  let spent = 0n;
  for (let i = 0; i < CALLS; i++) {
    pollute();
    const t = process.hrtime.bigint();
    const result = pool.acquire(start + 2_000 + i / 100, mode, Math.random);
    if (result.ok) sink += result.secret.reveal().length + result.id.length;
    spent += process.hrtime.bigint() - t;
  }
  return Number(spent) / CALLS;
}

for (const size of [10, 100_000, 10, 100_000]) {
  const yesterday = Date.now() - 86_400_000;
  const pool = poolOf(size, yesterday);
  for (const mode of ["auto", "random"] as const) {
    const ns = coldNsPerCall(pool, mode, Date.now());
    console.log(`${String(size).padStart(7)} keys, ${mode.padEnd(6)} ${ns.toFixed(0)} ns a call`);
  }
}
const FLOOR_KEYS = 100_000;
const RECORD = 16; // doubles: 128 bytes, two cache lines
const floorColumns = Array.from({ length: 10 }, () => new Float64Array(FLOOR_KEYS));
const floorRecords = new Float64Array(FLOOR_KEYS * RECORD);
const floorSecrets: string[] = [];
const floorIds: string[] = [];
const STRING_BYTES = 128; // a key's two strings as bytes: the key at 0, its id at 64
const floorBytes = Buffer.alloc(FLOOR_KEYS * STRING_BYTES);
for (let i = 0; i < FLOOR_KEYS; i++) {
  floorSecrets.push(JSON.parse(`"sk-proj-${String(i).padStart(48, "0")}"`));
  floorIds.push(JSON.parse(`"id-${String(i).padStart(9, "0")}"`));
  floorBytes.write(floorSecrets[i] as string, i * STRING_BYTES, "latin1");
  floorBytes.write(floorIds[i] as string, i * STRING_BYTES + 64, "latin1");
}

const floors: Record<string, (slot: number) => number> = {
  "nothing (the timer)": () => 0,
  "ten numbers, ten arrays": (slot) => {
    let sum = 0;
    for (const column of floorColumns) {
      sum += column[slot] as number;
      column[slot] = sum;
    }
    return sum;
  },
  "ten numbers, one record": (slot) => {
    let sum = 0;
    for (let at = slot * RECORD, end = at + 10; at < end; at++) {
      sum += floorRecords[at] as number;
      floorRecords[at] = sum;
    }
    return sum;
  },
  "two strings": (slot) =>
    (floorSecrets[slot] as string).charCodeAt(40) + (floorIds[slot] as string).charCodeAt(8),
  "their bytes, one buffer": (slot) =>
    (floorBytes[slot * STRING_BYTES + 40] as number) +
    (floorBytes[slot * STRING_BYTES + 72] as number),
};

function floorNsPerCall(touch: (slot: number) => number, random: boolean): number {
  let spent = 0n;
  for (let i = 0; i < CALLS; i++) {
    pollute();
    const slot = random ? Math.floor(Math.random() * FLOOR_KEYS) : i % FLOOR_KEYS;
    const t = process.hrtime.bigint();
    sink += touch(slot);
    spent += process.hrtime.bigint() - t;
  }
  return Number(spent) / CALLS;
}

// Compiled before it is timed, as the pool's code is by its first 200,000 calls.
for (const touch of Object.values(floors)) {
  for (let i = 0; i < 200_000; i++) sink += touch(i % FLOOR_KEYS);
}
for (let round = 0; round < 2; round++) {
  for (const [name, touch] of Object.entries(floors)) {
    const inOrder = floorNsPerCall(touch, false);
    const random = floorNsPerCall(touch, true);
    console.log(
      `floor, 100000 keys, ${name.padEnd(24)} in order ${inOrder.toFixed(0)} ns, random ${random.toFixed(0)} ns`,
    );
  }
}
if (sink === 0) console.log("(nothing dispensed)");
