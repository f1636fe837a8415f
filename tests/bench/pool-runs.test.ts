import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pooledRatios, poolRuns, poolRunsArgs } from "../../bench/pool-runs.ts";
import { quantile } from "../../bench/report.ts";

const runsOf = (...cpu: number[]) => cpu.map((cpuUsPerRequest) => ({ cpuUsPerRequest }));

describe("pooling bench runs", () => {
  it("takes quartiles between closest ranks", () => {
    assert.equal(quantile([40, 10, 30, 20], 0.25), 17.5);
    assert.equal(quantile([40, 10, 30, 20, 50], 0.5), 30);
    assert.equal(quantile([40, 10, 30], 0), 10);
    assert.ok(Number.isNaN(quantile([], 0.5)));
  });

  it("pools each row's launches across runs and compares rows by their lower quartiles", () => {
    const first = {
      rows: [
        { id: "ours-100k", label: "auto", runs: runsOf(30, 50, 31) },
        { id: "ours-100k-random", label: "random", runs: runsOf(33, 34, 52) },
      ],
    };
    const second = {
      rows: [
        { id: "ours-100k", label: "auto", runs: runsOf(29, 55) },
        { id: "ours-100k-random", label: "random", runs: runsOf(32, 35) },
      ],
    };
    const rows = poolRuns([first, second]);
    assert.deepEqual(
      rows.map((row) => [row.id, row.launches, row.lowest, row.lowerQuartile, row.median]),
      [
        ["ours-100k", 5, 29, 30, 31],
        ["ours-100k-random", 5, 32, 33, 34],
      ],
    );
    assert.deepEqual(pooledRatios(rows), [["random vs auto (100,000 keys), within 5%", 30 / 33]]);
  });

  it("leaves out the launches over --max-steal, keeps those with no steal figure, and makes no ratio of a row left empty", () => {
    const report = {
      rows: [
        {
          id: "ours-100k",
          label: "auto",
          runs: [
            { cpuUsPerRequest: 30, steal: 0.001 },
            { cpuUsPerRequest: 45, steal: 0.05 },
            { cpuUsPerRequest: 31 },
          ],
        },
        { id: "ours-100k-random", label: "random", runs: [{ cpuUsPerRequest: 50, steal: 0.2 }] },
      ],
    };
    const rows = poolRuns([report], 0.01);
    assert.deepEqual(
      rows.map((row) => [row.id, row.launches, row.busy, row.lowest, row.median]),
      [
        ["ours-100k", 2, 1, 30, 30.5],
        ["ours-100k-random", 0, 1, Number.NaN, Number.NaN],
      ],
    );
    assert.deepEqual(pooledRatios(rows), []);
    assert.equal(poolRuns([report])[0]?.launches, 3);
  });

  it("reads --max-steal as a percentage and refuses what would silently keep or drop every launch", () => {
    assert.deepEqual(poolRunsArgs(["--max-steal", "0.5", "a.json", "b.json"]), {
      files: ["a.json", "b.json"],
      maxSteal: 0.005,
    });
    assert.deepEqual(poolRunsArgs(["a.json"]), {
      files: ["a.json"],
      maxSteal: Number.POSITIVE_INFINITY,
    });
    for (const bad of [
      ["--max-steal", "x", "a.json"],
      ["--max-steal=", "a.json"],
      ["--max-steal=-1", "a.json"],
      ["--max-steal", "1e2", "a.json"],
      ["--frob", "a.json"],
      ["--max-steal", "1"],
    ]) {
      assert.ok("error" in poolRunsArgs(bad), bad.join(" "));
    }
  });
});
