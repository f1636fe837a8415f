import { execFile, execFileSync, spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { promisify } from "node:util";

// Where a server's CPU goes, by function, from Linux `perf` (Debian's `linux-perf`), for
// `npm run bench -- --perf <dir>`. perf samples on a timer in the kernel, so it sees the
// kernel's share (the socket writes, and on a VM the hypervisor's) that a V8 CPU profile
// folds into the JS function that made the system call. The server runs with
// `--perf-basic-prof`, which writes /tmp/perf-<pid>.map for perf to name JIT-compiled code.

/** One function's share of the sampled process's CPU, 0 to 1. */
export interface SymbolShare {
  readonly name: string;
  readonly share: number;
}

/**
 * Node flags for a server perf will sample. `--perf-basic-prof` also turns on V8's log, written
 * by default into the working directory as isolate-*-v8.log: `logfile` keeps it elsewhere.
 */
export function perfNodeFlags(logfile: string): string[] {
  return ["--perf-basic-prof", `--logfile=${logfile}`, "--no-logfile-per-isolate"];
}

// Functions under a thousandth of the samples (0.025-0.05 us a request at our rows' 25-50 us)
// are left out: hundreds of them, each under what launches differ by.
const LEAST_SHARE = 0.001;

/** Throws a clear error when `perf` cannot run, before any server is started. */
export function checkPerf(): void {
  try {
    execFileSync("perf", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("--perf needs Linux perf on the PATH (Debian: apt-get install linux-perf)");
  }
}

/** Samples process `pid` with `perf record` for as long as `during` runs. */
export async function sampling<T>(pid: number, file: string, during: () => Promise<T>) {
  const args = ["record", "-q", "-e", "cpu-clock", "-F", "1999", "-p", `${pid}`, "-o", file];
  const perf = spawn("perf", args, { stdio: ["ignore", "ignore", "inherit"] });
  const done = new Promise<void>((resolve) => {
    perf.once("exit", () => resolve());
    perf.once("error", () => resolve());
  });
  try {
    return await during();
  } finally {
    perf.kill("SIGINT");
    await done;
  }
}

/** Reads what `sampling` recorded into shares by function, then drops the server's symbol map. */
export async function symbolShares(file: string, pid: number): Promise<SymbolShare[]> {
  const { stdout } = await promisify(execFile)(
    "perf",
    ["report", "-i", file, "--no-children", "--sort", "sym", "-g", "none", "-q", "--stdio"],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  await rm(`/tmp/perf-${pid}.map`, { force: true });
  return mergeShares(parseReport(stdout)).filter(({ share }) => share >= LEAST_SHARE);
}

/** `perf report --sort sym -q` lines ("  21.99%  [k] name") as shares, JIT names made readable. */
export function parseReport(text: string): SymbolShare[] {
  return text.split("\n").flatMap((line) => {
    const match = /^\s*([\d.]+)%\s+\[[^\]]*\]\s+(.+?)\s*$/.exec(line);
    if (!match) return [];
    return [{ name: readableName(match[2] as string), share: Number(match[1]) / 100 }];
  });
}

/**
 * `JS:*'acquire file:///tmp/x/dist/cli.js:53557:10` becomes `acquire (cli.js)`: the tier mark
 * (`*` optimised, `+` Maglev, `~` interpreted) and the bundle's line go, so a function reads the
 * same whichever tier ran it and from whichever build.
 */
export function readableName(raw: string): string {
  const js = /^JS:[*+~^]?'(.*?) (\S+?)(?::\d+:\d+)?$/.exec(raw);
  if (!js) return raw;
  const where = js[2] as string;
  const file = where.startsWith("file://") ? where.slice(where.lastIndexOf("/") + 1) : where;
  return `${js[1] || "(anonymous)"} (${file})`;
}

function mergeShares(shares: readonly SymbolShare[]): SymbolShare[] {
  const merged = new Map<string, number>();
  for (const { name, share } of shares) merged.set(name, (merged.get(name) ?? 0) + share);
  return [...merged].map(([name, share]) => ({ name, share })).sort((a, b) => b.share - a.share);
}

/** A measured run, as far as these figures need it (report.ts's RunRecord is one). */
export interface SampledRun {
  readonly symbols?: readonly SymbolShare[];
  readonly cpuUsPerRequest: number;
}

/** Microseconds a request by function: each run's shares times its CPU a request, averaged over runs. */
export function usPerRequest(runs: readonly SampledRun[]): Map<string, number> {
  const sampled = runs.filter((run) => run.symbols !== undefined);
  const costs = new Map<string, number>();
  for (const run of sampled) {
    for (const { name, share } of run.symbols ?? []) {
      const us = (share * run.cpuUsPerRequest) / sampled.length;
      costs.set(name, (costs.get(name) ?? 0) + us);
    }
  }
  return costs;
}

/** Each row's costliest functions, and what each `-random` row spends beyond its in-order row. */
export function formatSymbols(
  rows: readonly {
    readonly id: string;
    readonly label: string;
    readonly runs: readonly SampledRun[];
  }[],
  top = 10,
): string {
  const costs = new Map(rows.map((row) => [row.id, usPerRequest(row.runs)]));
  const lines = ["Where a request's CPU went (perf; us a request, mean over runs):"];
  for (const row of rows) {
    const sorted = [...(costs.get(row.id) ?? [])].sort((a, b) => b[1] - a[1]);
    lines.push(`  ${row.label}`, ...sorted.slice(0, top).map(([name, us]) => costLine(name, us)));
  }
  for (const row of rows.filter((r) => r.id.endsWith("-random"))) {
    const base = costs.get(row.id.slice(0, -"-random".length));
    const random = costs.get(row.id);
    if (!base || !random) continue;
    const differences = difference(random, base).slice(0, top);
    lines.push(`  ${row.label}, beyond the same pool in order`);
    lines.push(...differences.map(([name, us]) => costLine(name, us, us >= 0 ? "+" : "")));
  }
  return lines.join("\n");
}

/** `a` minus `b` by function, largest first either way. */
function difference(a: Map<string, number>, b: Map<string, number>): [string, number][] {
  return [...new Set([...b.keys(), ...a.keys()])]
    .map((name): [string, number] => [name, (a.get(name) ?? 0) - (b.get(name) ?? 0)])
    .sort((x, y) => Math.abs(y[1]) - Math.abs(x[1]));
}

function costLine(name: string, us: number, sign = ""): string {
  return `    ${`${sign}${us.toFixed(2)}`.padStart(7)}  ${name}`;
}
