import type { LoadResult } from "./load.ts";
import type { SymbolShare } from "./perf-symbols.ts";

/** One measured run of one server. Times in milliseconds, memory in bytes. */
export interface RunRecord {
  readonly round: number;
  readonly load: LoadResult;
  readonly startMs: number;
  readonly rssReady: number;
  /** The private part of rssReady (RssAnon), without the executable's pages; null off Linux. */
  readonly anonReady: number | null;
  readonly rssAfter: number;
  readonly maxRss: number;
  /** Event-loop delay inside the server during the measured load. */
  readonly loopDelay: { readonly p50: number; readonly p99: number; readonly max: number };
  /** Garbage-collection pauses inside the server during the measured load. */
  readonly gc: { readonly count: number; readonly totalMs: number; readonly maxMs: number };
  /** Server CPU time (user + system) per answered request: the figure least moved by other load. */
  readonly cpuUsPerRequest: number;
  /** The machine's 1-minute load average as the run began: other work competing for the 2 cores. */
  readonly loadAverage: number;
  /**
   * The share of the machine's CPU time the hypervisor gave to other guests
   * during the measured load (cpu-steal.ts); null off Linux.
   */
  readonly steal: number | null;
  /** How many times keys.json was replaced during the measured load (null: no file). */
  readonly saves: number | null;
  /** With `--perf`: the server's CPU during the measured load by function, costliest first. */
  readonly symbols?: readonly SymbolShare[];
}

export interface RowSpec {
  readonly id: string;
  readonly label: string;
  readonly keys: number | null;
}

/** Every run of a row folded into the figures the table shows. */
export interface RowSummary {
  readonly id: string;
  readonly label: string;
  readonly keys: number | null;
  readonly runs: readonly RunRecord[];
  /** Median over runs (one disturbed run moves it least); min and max show how far runs agreed. */
  readonly rps: number;
  readonly rpsMin: number;
  readonly rpsMax: number;
  /** Latency: median p50, worst p99 and worst max over runs. */
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly vsBare: number;
  readonly vsKoa: number;
  /** Median server CPU per request, and as a ratio to (a) and (b): cost, not speed, so lower is better. */
  readonly cpuUs: number;
  readonly cpuVsBare: number;
  readonly cpuVsKoa: number;
  readonly loopP99: number;
  readonly loopMax: number;
  /** The longest GC pause in any round, and GC pause time as a share of the measured time. */
  readonly gcMax: number;
  readonly gcShare: number;
  readonly saves: number | null;
  readonly rssReady: number;
  readonly anonReady: number | null;
  readonly maxRss: number;
  readonly startMedian: number;
  readonly startMax: number;
  readonly non2xx: number;
  readonly socketErrors: number;
  readonly loadAverage: number;
  /** The largest steal share of any round; null off Linux. */
  readonly steal: number | null;
}

export interface Target {
  readonly name: string;
  readonly measured: string;
  readonly limit: string;
  /** null: a figure shown beside a target for comparison, not judged. */
  readonly pass: boolean | null;
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const maxOrNull = (values: readonly (number | null)[]) =>
  values.some((v) => v === null) ? null : Math.max(...(values as number[]));
/** Linear interpolation between closest ranks, as a spreadsheet's QUARTILE.INC; NaN of no values. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const below = sorted[Math.floor(at)] as number;
  const above = sorted[Math.ceil(at)] as number;
  return below + (above - below) * (at - Math.floor(at));
}
const median = (values: readonly number[]) => quantile(values, 0.5);
const MB = 1024 * 1024;

export function summarize(
  specs: readonly RowSpec[],
  runs: ReadonlyMap<string, RunRecord[]>,
): RowSummary[] {
  const rpsOf = (id: string) => median((runs.get(id) ?? []).map((r) => r.load.rps));
  const cpuOf = (id: string) => median((runs.get(id) ?? []).map((r) => r.cpuUsPerRequest));
  const bare = rpsOf("bare");
  const koa = rpsOf("koa");
  return specs.flatMap((spec) => {
    const rs = runs.get(spec.id) ?? [];
    if (rs.length === 0) return [];
    const all = (pick: (r: RunRecord) => number) => rs.map(pick);
    const rps = median(all((r) => r.load.rps));
    const saves = rs.every((r) => r.saves === null) ? null : sum(all((r) => r.saves ?? 0));
    return [
      {
        ...spec,
        runs: rs,
        rps,
        rpsMin: Math.min(...all((r) => r.load.rps)),
        rpsMax: Math.max(...all((r) => r.load.rps)),
        p50: median(all((r) => r.load.p50)),
        p99: Math.max(...all((r) => r.load.p99)),
        max: Math.max(...all((r) => r.load.max)),
        vsBare: rps / bare,
        vsKoa: rps / koa,
        cpuUs: cpuOf(spec.id),
        cpuVsBare: cpuOf(spec.id) / cpuOf("bare"),
        cpuVsKoa: cpuOf(spec.id) / cpuOf("koa"),
        loopP99: Math.max(...all((r) => r.loopDelay.p99)),
        loopMax: Math.max(...all((r) => r.loopDelay.max)),
        gcMax: Math.max(...all((r) => r.gc.maxMs)),
        gcShare:
          sum(all((r) => r.gc.totalMs)) / sum(all((r) => r.load.requests / r.load.rps)) / 1000,
        saves,
        rssReady: Math.max(...all((r) => r.rssReady)),
        anonReady: maxOrNull(rs.map((r) => r.anonReady)),
        maxRss: Math.max(...all((r) => r.maxRss)),
        startMedian: median(all((r) => r.startMs)),
        startMax: Math.max(...all((r) => r.startMs)),
        non2xx: sum(all((r) => r.load.non2xx)),
        socketErrors: sum(all((r) => r.load.socketErrors)),
        loadAverage: Math.max(...all((r) => r.loadAverage)),
        steal: maxOrNull(rs.map((r) => r.steal)),
      },
    ];
  });
}

/** The targets, judged on the worst run where a row has several. */
export function judge(rows: readonly RowSummary[]): Target[] {
  const row = (id: string) => rows.find((r) => r.id === id);
  const targets: Target[] = [];
  const ratio = (name: string, value: number | undefined, limit: number) => {
    if (value === undefined || Number.isNaN(value)) return;
    targets.push({
      name,
      measured: `${value.toFixed(3)}x`,
      limit: `>= ${limit}x`,
      pass: value >= limit,
    });
  };
  const at = (id: string) => row(id)?.rps;
  const div = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : a / b;

  ratio("/next (auto, 10 keys) vs bare node:http", row("ours-10")?.vsBare, 0.65);
  ratio("/next (auto, 10 keys) vs minimal Koa", row("ours-10")?.vsKoa, 0.9);
  ratio("/next at 100,000 keys vs at 10 keys", div(at("ours-100k"), at("ours-10")), 0.9);
  // The same three ratios from server CPU per request: throughput on a shared
  // machine moves with other load, CPU cost per request much less.
  const cost = (id: string) => row(id)?.cpuUs;
  ratio("by CPU/request: /next (10 keys) vs bare", div(cost("bare"), cost("ours-10")), 0.65);
  ratio("by CPU/request: /next (10 keys) vs Koa", div(cost("koa"), cost("ours-10")), 0.9);
  ratio("by CPU/request: 100,000 vs 10 keys", div(cost("ours-10"), cost("ours-100k")), 0.9);
  for (const [random, auto] of [
    ["ours-10-random", "ours-10"],
    ["ours-100k-random", "ours-100k"],
  ] as const) {
    const keys = row(auto)?.keys?.toLocaleString("en-US");
    // By CPU too, as the ratios above: auto's cost over random's, so that a negative figure
    // means random costs more, as in the line before it means random answers fewer requests.
    for (const [name, value] of [
      [`mode=random vs mode=auto (${keys} keys)`, div(at(random), at(auto))],
      [`by CPU/request: mode=random vs mode=auto (${keys} keys)`, div(cost(auto), cost(random))],
    ] as const) {
      if (value === undefined || Number.isNaN(value)) continue;
      targets.push({
        name,
        measured: percentChange(value),
        limit: "within ±5%",
        pass: Math.abs(value - 1) <= 0.05,
      });
    }
  }
  const floor = div(at("floor-100k-random"), at("floor-100k"));
  if (floor !== undefined && !Number.isNaN(floor)) {
    targets.push({
      name: "the floor's own: at random vs in order (100,000 keys, none of our code)",
      measured: percentChange(floor),
      limit: "for comparison",
      pass: null,
    });
  }
  for (const r of rows.filter((r) => r.keys !== null)) {
    // Judged on the worst round; each round's, in round order, shows whether one round failed it.
    const rounds = r.runs.map((run) => run.load.p99.toFixed(2)).join(", ");
    targets.push({
      name: `p99 latency, ${r.label}`,
      measured: `${r.p99.toFixed(2)} ms (rounds: ${rounds})`,
      limit: "<= 5 ms",
      pass: r.p99 <= 5,
    });
  }
  const big = rows.filter((r) => r.keys === 100_000);
  if (big.length > 0) {
    const rss = Math.max(...big.map((r) => r.rssReady));
    const peak = Math.max(...big.map((r) => r.maxRss));
    targets.push(limitTarget("100,000 keys: RSS once loaded", rss / MB, 150, "MB"));
    targets.push(limitTarget("100,000 keys: peak RSS under load", peak / MB, 150, "MB"));
    const start = Math.max(...big.map((r) => r.startMax));
    targets.push(limitTarget("100,000 keys: start to first /next (worst)", start, 2000, "ms"));
  }
  const saving = row("ours-100k-save1s");
  if (saving) {
    targets.push(limitTarget("100,000 keys saving: loop delay p99", saving.loopP99, 20, "ms"));
    targets.push(limitTarget("100,000 keys saving: loop delay max", saving.loopMax, 50, "ms"));
    targets.push({
      name: "100,000 keys saving: saves seen in the window",
      measured: String(saving.saves),
      limit: ">= 1 per run",
      pass: (saving.saves ?? 0) >= saving.runs.length,
    });
  }
  for (const r of rows) {
    if (r.non2xx + r.socketErrors > 0) {
      targets.push({
        name: `every answer a 200, ${r.label}`,
        measured: `${r.non2xx} non-2xx, ${r.socketErrors} socket errors`,
        limit: "0",
        pass: false,
      });
    }
  }
  return targets;
}

/** A ratio of two throughputs as the change it is: 0.9 is "-10.0%". */
function percentChange(ratio: number): string {
  return `${((ratio - 1) * 100).toFixed(1)}%`;
}

function limitTarget(name: string, value: number, limit: number, unit: string): Target {
  return {
    name,
    measured: `${value.toFixed(1)} ${unit}`,
    limit: `<= ${limit} ${unit}`,
    pass: value <= limit,
  };
}

export function formatTable(rows: readonly RowSummary[]): string {
  const header = [
    "server",
    "req/s",
    "runs min-max",
    "p50 ms",
    "p99 ms",
    "max ms",
    "x(a)",
    "x(b)",
    "CPU us/req",
    "x(a)",
    "x(b)",
    "loop p99",
    "loop max",
    "GC max",
    "GC %",
    "saves",
    "RSS ready",
    "anon ready",
    "RSS peak",
    "start ms",
    "load avg",
    "steal %",
  ];
  const ours = (r: RowSummary, text: string) => (r.keys === null ? "-" : text);
  // A ratio to a row the run left out (`--only`) is NaN: shown as "-".
  const times = (value: number, digits: number) =>
    Number.isNaN(value) ? "-" : value.toFixed(digits);
  const body = rows.map((r) => [
    r.label,
    Math.round(r.rps).toLocaleString("en-US"),
    `${k(r.rpsMin)}-${k(r.rpsMax)}`,
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.max.toFixed(1),
    times(r.vsBare, 3),
    times(r.vsKoa, 3),
    r.cpuUs.toFixed(1),
    times(r.cpuVsBare, 2),
    times(r.cpuVsKoa, 2),
    r.loopP99.toFixed(1),
    r.loopMax.toFixed(1),
    r.gcMax.toFixed(1),
    (r.gcShare * 100).toFixed(1),
    r.saves === null ? "-" : String(r.saves),
    `${(r.rssReady / MB).toFixed(0)} MB`,
    r.anonReady === null ? "-" : `${(r.anonReady / MB).toFixed(0)} MB`,
    `${(r.maxRss / MB).toFixed(0)} MB`,
    ours(r, `${r.startMedian.toFixed(0)} (${r.startMax.toFixed(0)})`),
    r.loadAverage.toFixed(1),
    r.steal === null ? "-" : (r.steal * 100).toFixed(2),
  ]);
  return align([header, ...body]);
}

export function formatTargets(targets: readonly Target[]): string {
  return align([
    ["target", "measured", "limit", ""],
    ...targets.map((t) => [
      t.name,
      t.measured,
      t.limit,
      t.pass === null ? "" : t.pass ? "PASS" : "FAIL",
    ]),
  ]);
}

const k = (n: number) => `${(n / 1000).toFixed(1)}k`;

function align(rows: readonly string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) =>
    r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)));
  const [head, ...rest] = rows;
  const rule = widths.map((w) => "-".repeat(w));
  return [line(head ?? []), rule, ...rest.map(line)].map((r) => r.join("  ").trimEnd()).join("\n");
}
