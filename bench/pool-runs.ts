// Pools the launches of several bench runs, row by row:
//
//   node bench/pool-runs.ts run1.json run2.json ...   (files written by `npm run bench -- --out`)
//   node bench/pool-runs.ts --max-steal 1 run1.json ...   launches with over 1% steal left out
//
// On a VM whose processes run fast or slow for their whole life, a row of three launches takes its
// median from whichever kind it drew, and one run's ratios swing by tens of percent
// (bench/README.md, "Every launch of eight whole runs, pooled"). Pooled over many launches, the
// lower quartile of CPU a request stands for a launch that ran fast. The figures are printed for
// reading, not judged: pool only runs of the same code, and say which. Since 2026-12-08 a run
// records its steal (bench/cpu-steal.ts): `--max-steal` leaves out the launches that ran on a busy
// host, and keeps those from older files that have no steal figure.

import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { quantile } from "./report.ts";

interface Report {
  readonly rows: readonly {
    readonly id: string;
    readonly label: string;
    readonly runs: readonly { readonly cpuUsPerRequest: number; readonly steal?: number | null }[];
  }[];
}

export interface PooledRow {
  readonly id: string;
  readonly label: string;
  readonly launches: number;
  /** Launches left out for their steal. */
  readonly busy: number;
  readonly lowest: number;
  readonly lowerQuartile: number;
  readonly median: number;
}

/** `maxSteal` is a share (0.01 for 1%); a launch with no steal figure is kept. */
export function poolRuns(
  reports: readonly Report[],
  maxSteal = Number.POSITIVE_INFINITY,
): PooledRow[] {
  const rows = new Map<string, { label: string; cpu: number[]; busy: number }>();
  for (const report of reports) {
    for (const row of report.rows) {
      const pooled = rows.get(row.id) ?? { label: row.label, cpu: [], busy: 0 };
      for (const run of row.runs) {
        if ((run.steal ?? 0) > maxSteal) pooled.busy++;
        else pooled.cpu.push(run.cpuUsPerRequest);
      }
      rows.set(row.id, pooled);
    }
  }
  return [...rows].map(([id, { label, cpu, busy }]) => ({
    id,
    label,
    launches: cpu.length,
    busy,
    // NaN, all three, for a row whose every launch was left out: no ratio is made of it.
    lowest: quantile(cpu, 0),
    lowerQuartile: quantile(cpu, 0.25),
    median: quantile(cpu, 0.5),
  }));
}

/** The CPU ratios from the pooled lower quartiles: cheaper over dearer, as the bench's. */
export function pooledRatios(rows: readonly PooledRow[]): [string, number][] {
  const cost = (id: string) => rows.find((row) => row.id === id)?.lowerQuartile;
  const ratios: [string, string, string][] = [
    ["/next (10 keys) vs bare, >= 0.65", "bare", "ours-10"],
    ["/next (10 keys) vs Koa, >= 0.9", "koa", "ours-10"],
    ["100,000 vs 10 keys, >= 0.9", "ours-10", "ours-100k"],
    ["random vs auto (10 keys), within 5%", "ours-10", "ours-10-random"],
    ["random vs auto (100,000 keys), within 5%", "ours-100k", "ours-100k-random"],
  ];
  return ratios.flatMap(([name, numerator, denominator]) => {
    const [a, b] = [cost(numerator), cost(denominator)];
    const ratio = a === undefined || b === undefined ? Number.NaN : a / b;
    return Number.isNaN(ratio) ? [] : [[name, ratio] as [string, number]];
  });
}

const USAGE = "usage: node bench/pool-runs.ts [--max-steal <percent>] <bench --out file>...";

const parsedArgs = (args: readonly string[]) =>
  parseArgs({
    args: [...args],
    options: { "max-steal": { type: "string" } },
    allowPositionals: true,
  });

/** The files and the steal share to keep, or the reason the arguments are refused. */
export function poolRunsArgs(
  args: readonly string[],
): { files: string[]; maxSteal: number } | { error: string } {
  let parsed: ReturnType<typeof parsedArgs>;
  try {
    parsed = parsedArgs(args);
  } catch (error) {
    return { error: (error as Error).message };
  }
  const percent = parsed.values["max-steal"];
  // A plain number of percent: "", "-1" or "1e2" would silently keep or drop every launch.
  if (percent !== undefined && !/^\d+(\.\d+)?$/.test(percent)) {
    return { error: `--max-steal takes a percentage such as 1 or 0.5, got "${percent}"` };
  }
  if (parsed.positionals.length === 0) return { error: "no bench --out file given" };
  const maxSteal = percent === undefined ? Number.POSITIVE_INFINITY : Number(percent) / 100;
  return { files: parsed.positionals, maxSteal };
}

if (import.meta.main) {
  const args = poolRunsArgs(process.argv.slice(2));
  if ("error" in args) {
    process.stderr.write(`${args.error}\n${USAGE}\n`);
    process.exit(2);
  }
  const { files, maxSteal } = args;
  const reports = await Promise.all(
    files.map(async (file) => JSON.parse(await readFile(file, "utf8")) as Report),
  );
  const rows = poolRuns(reports, maxSteal);
  process.stdout.write(`CPU us a request over ${files.length} runs' launches\n`);
  for (const row of rows) {
    const figures = [row.lowest, row.lowerQuartile, row.median].map((v) => v.toFixed(1));
    process.stdout.write(
      `${row.label.padEnd(44)} n ${String(row.launches).padStart(3)}  lowest ${figures[0]}  ` +
        `lower quartile ${figures[1]}  median ${figures[2]}` +
        (row.busy > 0 ? `  (${row.busy} left out for steal)\n` : "\n"),
    );
  }
  process.stdout.write("\nratios of the lower quartiles\n");
  for (const [name, value] of pooledRatios(rows)) {
    process.stdout.write(`${name.padEnd(44)} ${value.toFixed(3)}x\n`);
  }
}
