import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { type ServerProcess, spawnServer } from "../helpers/server-process.ts";
import { makeTempDir, request } from "../helpers/test-server.ts";

const KILLS = Number(process.env.CRASH_KILLS ?? 50);
const SEED = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const WORKERS = 6;
// A pool of realistic size makes each save take a few milliseconds, which is
// the window in which an answer given before its write would be exposed.
const FILLER_KEYS = 5000;
const SAVE_INTERVAL_MS = 1000;

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed with CRASH_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Known<T> = { known: true; value: T } | { known: false };

interface ModelKey {
  exists: Known<boolean>;
  status: Known<"Active" | "Inactive">;
  /** A bulk add that got no answer: all of its keys or none of them may exist. */
  group?: string[];
  ackedDispenses: number;
}

interface ObservedKey {
  id: string;
  status: "Active" | "Inactive";
  usage: { requests_this_day: number };
}

/** What the acknowledged answers say must be true, and what is left open by unanswered calls. */
class Model {
  readonly keys = new Map<string, ModelKey>();
  readonly ids = new Map<string, string>();
  readonly dispenseTimes: number[] = [];
  /** /next calls cut off by the kill: each may have been counted, and even saved. */
  unansweredDispenses = 0;
  /** Management calls answered 2xx over the whole run, to show the harness did something. */
  acknowledged = 0;

  entry(key: string): ModelKey {
    let entry = this.keys.get(key);
    if (!entry) {
      entry = {
        exists: { known: true, value: false },
        status: { known: true, value: "Active" },
        ackedDispenses: 0,
      };
      this.keys.set(key, entry);
    }
    return entry;
  }

  /** Checks the restarted server against the model, then adopts what it shows for what was open. */
  reconcile(observed: Map<string, ObservedKey>, killedAt: number): void {
    for (const [key, entry] of this.keys) {
      const seen = observed.get(key);
      if (entry.exists.known) assert.equal(Boolean(seen), entry.exists.value, `${key} exists`);
      if (entry.group) {
        const present = entry.group.filter((k) => observed.has(k)).length;
        assert.ok(
          present === 0 || present === entry.group.length,
          `bulk add half applied: ${entry.group}`,
        );
        entry.group = undefined;
      }
      entry.exists = { known: true, value: Boolean(seen) };
      if (!seen) continue;
      this.ids.set(key, seen.id);
      if (entry.status.known) assert.equal(seen.status, entry.status.value, `${key} status`);
      entry.status = { known: true, value: seen.status };
    }
    this.#checkCounts(observed, killedAt);
  }

  #checkCounts(observed: Map<string, ObservedKey>, killedAt: number): void {
    // A crash may lose the dispenses since the last save: at most one interval, plus the save itself.
    const allowedLoss = this.dispenseTimes.filter(
      (t) => t > killedAt - 2 * SAVE_INTERVAL_MS,
    ).length;
    let lost = 0;
    for (const [key, entry] of this.keys) {
      const counted = observed.get(key)?.usage.requests_this_day ?? entry.ackedDispenses;
      assert.ok(
        counted <= entry.ackedDispenses + this.unansweredDispenses,
        `${key}: ${counted} counted, only ${entry.ackedDispenses} + ${this.unansweredDispenses} dispensed`,
      );
      lost += Math.max(0, entry.ackedDispenses - counted);
      entry.ackedDispenses = counted;
    }
    this.unansweredDispenses = 0;
    assert.ok(
      lost <= allowedLoss,
      `lost ${lost} dispenses, more than the ${allowedLoss} of the last save interval`,
    );
    this.dispenseTimes.length = 0;
  }
}

async function observe(url: string): Promise<Map<string, ObservedKey>> {
  // /keys shows previews only; keys.json is read for the key strings, /keys for the rolled counters.
  const listed: ObservedKey[] = await (await request(url, "/keys")).json();
  const byId = new Map(listed.map((k) => [k.id, k]));
  return byId;
}

async function workload(
  server: ServerProcess,
  model: Model,
  random: () => number,
  worker: number,
  round: number,
) {
  let serial = 0;
  for (;;) {
    const mine = [...model.keys.keys()].filter((k) => k.startsWith(`w${worker}-`));
    const pick = mine[Math.floor(random() * mine.length)];
    const roll = random();
    try {
      if (roll < 0.3) {
        await dispense(server, model);
      } else if (roll < 0.55 || !pick || mine.length < 3) {
        const key = `w${worker}-r${round}-${serial++}-padding`;
        const entry = model.entry(key);
        entry.exists = { known: false };
        const res = await request(server.url, "/add", { method: "POST", json: { key } });
        assert.equal(res.status, 201);
        model.ids.set(key, (await res.json()).id);
        entry.exists = { known: true, value: true };
        entry.status = { known: true, value: "Active" };
        model.acknowledged++;
      } else if (roll < 0.6) {
        const keys = Array.from(
          { length: 2 + Math.floor(random() * 4) },
          () => `w${worker}-r${round}-${serial++}-bulk`,
        );
        for (const key of keys)
          Object.assign(model.entry(key), { exists: { known: false }, group: keys });
        const res = await request(server.url, "/add_bulk", { method: "POST", json: { keys } });
        assert.equal(res.status, 200);
        for (const added of (await res.json()).added)
          model.ids.set(keys[added.index] as string, added.id);
        for (const key of keys)
          Object.assign(model.entry(key), {
            exists: { known: true, value: true },
            group: undefined,
          });
        model.acknowledged++;
      } else {
        const { exists } = model.entry(pick);
        if (exists.known && exists.value) await change(server, model, pick, roll);
      }
    } catch (error) {
      if (!isCutOff(error)) throw error;
      return;
    }
  }
}

async function dispense(server: ServerProcess, model: Model) {
  model.unansweredDispenses++;
  const res = await request(server.url, "/next");
  model.unansweredDispenses--;
  if (res.status !== 200) return;
  const { api_key } = await res.json();
  model.entry(api_key).ackedDispenses++;
  model.dispenseTimes.push(Date.now());
}

async function change(server: ServerProcess, model: Model, key: string, roll: number) {
  const entry = model.entry(key);
  const id = model.ids.get(key) as string;
  const [method, path, after] =
    roll < 0.75
      ? (["POST", `/deactivate/${id}`, "Inactive"] as const)
      : roll < 0.9
        ? (["POST", `/reactivate/${id}`, "Active"] as const)
        : (["DELETE", `/delete/${id}`, "gone"] as const);
  if (after === "gone") entry.exists = { known: false };
  else entry.status = { known: false };
  const res = await request(server.url, path, { method });
  assert.equal(res.status, 200);
  if (after === "gone") entry.exists = { known: true, value: false };
  else entry.status = { known: true, value: after };
  model.acknowledged++;
}

async function addFillers(url: string, model: Model) {
  const keys = Array.from({ length: FILLER_KEYS }, (_, i) => `filler-${i}-padding-padding`);
  const res = await request(url, "/add_bulk", { method: "POST", json: { keys } });
  assert.equal((await res.json()).added_count, FILLER_KEYS);
  for (const key of keys) model.entry(key).exists = { known: true, value: true };
}

function isCutOff(error: unknown): boolean {
  return error instanceof TypeError && /fetch failed/.test(error.message);
}

describe("crash safety", () => {
  it(`keeps every acknowledged change across ${KILLS} kill -9 at random moments (seed ${SEED})`, async () => {
    const file = join(await makeTempDir(), "keys.json");
    const random = prng(SEED);
    const model = new Model();
    const args = ["--keys-file", file, "--save-interval", String(SAVE_INTERVAL_MS / 1000)];
    const limits = ["--rpm", "1000000", "--rpd", "1000000000", "--cooldown", "86400"];
    for (let round = 0; round < KILLS; round++) {
      const server = await spawnServer([...args, ...limits]);
      try {
        const byId = await observe(server.url);
        const onDisk: { id: string; key: string }[] = JSON.parse(await readFile(file, "utf8"));
        const observed = new Map(onDisk.map((k) => [k.key, byId.get(k.id) as ObservedKey]));
        model.reconcile(observed, killedAtOf(round));
        if (round === 0) await addFillers(server.url, model);

        const workers = Array.from({ length: WORKERS }, (_, w) =>
          workload(server, model, random, w, round),
        );
        const runFor = 100 + Math.floor(random() * 1400);
        await new Promise((resolve) => setTimeout(resolve, runFor)); // the fault itself: when to pull the plug
        server.child.kill("SIGKILL");
        killTimes[round] = Date.now();
        await Promise.all(workers);
      } finally {
        server.child.kill("SIGKILL");
        await server.exited;
      }
      const text = await readFile(file, "utf8");
      assert.ok(Array.isArray(JSON.parse(text)), "keys.json parses after the kill");
    }
    assert.ok(model.acknowledged >= KILLS * 5, `only ${model.acknowledged} changes acknowledged`);
    console.log(
      `crash test: ${KILLS} kills, ${model.acknowledged} acknowledged changes checked (seed ${SEED})`,
    );
  });
});

const killTimes: number[] = [];
function killedAtOf(round: number): number {
  return killTimes[round - 1] ?? Date.now();
}
