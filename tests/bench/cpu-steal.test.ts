import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseProcStat, readCpuTicks, stealShare } from "../../bench/cpu-steal.ts";

// A 2-CPU VM's /proc/stat as Linux 6.x writes it: the machine's line first, then one a CPU.
const PROC_STAT = `cpu  4705 150 1120 1664687 214 0 96 373 17 3
cpu0 2370 80 560 832300 100 0 50 190 9 1
cpu1 2335 70 560 832387 114 0 46 183 8 2
intr 1 2 3
`;

describe("steal from /proc/stat", () => {
  it("reads the machine's line: steal is the eighth field, guest time is not counted twice", () => {
    assert.deepEqual(parseProcStat(PROC_STAT), {
      steal: 373,
      total: 4705 + 150 + 1120 + 1664687 + 214 + 0 + 96 + 373,
    });
  });

  it("refuses what is not that line", () => {
    assert.equal(parseProcStat("cpu0 1 2 3 4 5 6 7 8\n"), null);
    assert.equal(parseProcStat("cpu  1 2 3\n"), null);
    assert.equal(parseProcStat("cpu  1 2 3 4 5 6 7 x\n"), null);
  });

  it("gives steal as a share of the CPU time between two readings", () => {
    const share = stealShare({ steal: 100, total: 10_000 }, { steal: 130, total: 12_000 });
    assert.equal(share, 30 / 2000);
    assert.equal(stealShare(null, { steal: 1, total: 2 }), null);
    assert.equal(stealShare({ steal: 1, total: 2 }, { steal: 1, total: 2 }), null);
  });

  it("reads this machine's counters, which only grow", async () => {
    const before = await readCpuTicks();
    // Busy for a few clock ticks, so that the total must move.
    const until = process.hrtime.bigint() + 50_000_000n;
    while (process.hrtime.bigint() < until);
    const after = await readCpuTicks();
    assert.ok(before && after);
    assert.ok(after.total > before.total, `${after.total} > ${before.total}`);
    assert.ok(after.steal >= before.steal);
  });
});
