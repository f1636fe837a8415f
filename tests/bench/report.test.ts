import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatTable, judge, type RowSpec, type RunRecord, summarize } from "../../bench/report.ts";

function run(
  round: number,
  rps: number,
  cpuUsPerRequest: number,
  p99: number,
  steal: number | null = null,
): RunRecord {
  return {
    round,
    load: { requests: rps * 8, rps, p50: 1, p99, max: 10, non2xx: 0, socketErrors: 0 },
    startMs: 300,
    rssReady: 80e6,
    anonReady: 30e6,
    rssAfter: 90e6,
    maxRss: 100e6,
    loopDelay: { p50: 1, p99: 3, max: 9 },
    gc: { count: 10, totalMs: 5, maxMs: 2 },
    cpuUsPerRequest,
    loadAverage: 1,
    steal,
    saves: null,
  };
}

const SPECS: RowSpec[] = [
  { id: "bare", label: "(a) bare node:http", keys: null },
  { id: "koa", label: "(b) minimal Koa + router", keys: null },
  { id: "ours-10", label: "ours, 10 keys, auto", keys: 10 },
  { id: "ours-10-random", label: "ours, 10 keys, random", keys: 10 },
];

function targetsOf(runs: Record<string, RunRecord[]>) {
  const targets = judge(summarize(SPECS, new Map(Object.entries(runs))));
  return new Map(targets.map((t) => [t.name, t]));
}

describe("the bench's verdicts", () => {
  it("judge random against auto by throughput and by CPU a request, each on its own", () => {
    const targets = targetsOf({
      bare: [run(1, 40_000, 25, 2)],
      koa: [run(1, 28_000, 36, 3)],
      "ours-10": [run(1, 30_000, 31, 3)],
      "ours-10-random": [run(1, 28_200, 32, 3)],
    });
    const byRps = targets.get("mode=random vs mode=auto (10 keys)");
    assert.deepEqual([byRps?.measured, byRps?.pass], ["-6.0%", false]);
    const byCpu = targets.get("by CPU/request: mode=random vs mode=auto (10 keys)");
    assert.deepEqual([byCpu?.measured, byCpu?.pass], ["-3.1%", true]);
  });

  it("judge p99 on the worst round and show every round's, in round order", () => {
    const targets = targetsOf({
      bare: [run(1, 40_000, 25, 2)],
      koa: [run(1, 28_000, 36, 3)],
      "ours-10": [run(1, 30_000, 31, 3.51), run(2, 30_000, 31, 5.18), run(3, 30_000, 31, 3.42)],
      "ours-10-random": [run(1, 30_000, 31, 4.9)],
    });
    const auto = targets.get("p99 latency, ours, 10 keys, auto");
    assert.deepEqual([auto?.measured, auto?.pass], ["5.18 ms (rounds: 3.51, 5.18, 3.42)", false]);
    assert.equal(targets.get("p99 latency, ours, 10 keys, random")?.pass, true);
  });

  it("show each row's worst steal, and '-' where it could not be read", () => {
    const rows = summarize(
      SPECS.slice(0, 2),
      new Map([
        ["bare", [run(1, 40_000, 25, 2, 0.001), run(2, 40_000, 25, 2, 0.0123)]],
        ["koa", [run(1, 28_000, 36, 3)]],
      ]),
    );
    assert.deepEqual(
      rows.map((r) => r.steal),
      [0.0123, null],
    );
    const [header, , bare, koa] = formatTable(rows).split("\n");
    assert.match(header ?? "", /steal %$/);
    assert.match(bare ?? "", / 1\.23$/);
    assert.match(koa ?? "", / -$/);
  });
});
