import { execFileSync } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { stripTypeScriptTypes } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { NODE_FLAGS } from "../scripts/node-flags.ts";
import { readCpuTicks, stealShare } from "./cpu-steal.ts";
import { writeSeedKeysFile } from "./keys-file.ts";
import { type LoadOptions, pickTool, runLoad } from "./load.ts";
import { checkPerf, formatSymbols, perfNodeFlags, sampling, symbolShares } from "./perf-symbols.ts";
import {
  formatTable,
  formatTargets,
  judge,
  type RowSpec,
  type RunRecord,
  summarize,
} from "./report.ts";
import { startServerProcess } from "./server-process.ts";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const CLI = here("../src/cli/main.ts");
const HIGH = "1000000000";

interface Row extends RowSpec {
  readonly entry: "bare" | "koa-min" | "koa-shaped" | "floor" | "cli";
  readonly path: string;
  /** The seed file a server other than ours reads (ours read theirs by `keys`). */
  readonly seedKeys?: number;
  readonly saveInterval?: number;
  /** Run only when `--only` names it. */
  readonly optional?: boolean;
}

const ROWS: readonly Row[] = [
  { id: "bare", label: "(a) bare node:http", keys: null, entry: "bare", path: "/next" },
  { id: "koa", label: "(b) minimal Koa + router", keys: null, entry: "koa-min", path: "/next" },
  {
    id: "koa-shaped",
    label: "Koa shaped like ours, without src/",
    keys: null,
    entry: "koa-shaped",
    path: "/next",
    optional: true,
  },
  {
    id: "floor-100k",
    label: "floor: node:http holding 100,000 keys, in order",
    keys: null,
    seedKeys: 100_000,
    entry: "floor",
    path: "/next",
    optional: true,
  },
  {
    id: "floor-100k-random",
    label: "floor: node:http holding 100,000 keys, at random",
    keys: null,
    seedKeys: 100_000,
    entry: "floor",
    path: "/next?mode=random",
    optional: true,
  },
  // Our auto rows ask for `?mode=auto`, as apps are told to, so that each random row differs
  // from its auto row by the mode alone and not also by a query to read (bench/README.md).
  { id: "ours-10", label: "ours, 10 keys, auto", keys: 10, entry: "cli", path: "/next?mode=auto" },
  {
    id: "ours-10-random",
    label: "ours, 10 keys, random",
    keys: 10,
    entry: "cli",
    path: "/next?mode=random",
  },
  {
    id: "ours-10k",
    label: "ours, 10,000 keys, auto",
    keys: 10_000,
    entry: "cli",
    path: "/next?mode=auto",
  },
  {
    id: "ours-100k",
    label: "ours, 100,000 keys, auto",
    keys: 100_000,
    entry: "cli",
    path: "/next?mode=auto",
  },
  {
    id: "ours-100k-random",
    label: "ours, 100,000 keys, random",
    keys: 100_000,
    entry: "cli",
    path: "/next?mode=random",
  },
  {
    id: "ours-100k-save1s",
    label: "ours, 100,000 keys, auto, saving every 1 s",
    keys: 100_000,
    entry: "cli",
    path: "/next?mode=auto",
    saveInterval: 1,
  },
];

const USAGE = `npm run bench -- [options]

  --quick              smoke run: 2 rounds of 2 s runs, 1 s warm-up (figures are rough)
  --duration <s>       seconds per measured run (env BENCH_DURATION, default 8)
  --warmup <s>         seconds of discarded load before each run (env BENCH_WARMUP, default 2)
  --rounds <n>         times each server is measured, in alternation (env BENCH_ROUNDS, default 3)
  --connections <n>    concurrent connections (env BENCH_CONNECTIONS, default 50)
  --tool <name>        wrk or autocannon (default: wrk when installed)
  --only <ids>         comma-separated rows to run (ratios need bare and koa):
                       ${ROWS.map((row) => row.id).join(", ")}
                       (koa-shaped and floor-* run only when named: Koa with our answer and
                       middleware shape; node:http holding 100,000 keys, none of our code)
  --node-flags=<flags> Node flags for our server only, space-separated (default: the shipped
                       binary's, ${NODE_FLAGS.join(" ")}; --node-flags= for none)
  --dist               run our server as built (scripts/build.ts into a temp dir), not from src/
  --cpu-prof <dir>     write a V8 CPU profile of every server process into <dir>
  --perf <dir>         sample every server's measured load with Linux perf into <dir> and print
                       each row's costliest functions in us a request (needs perf installed)
  --json               print the figures as JSON instead of the table
  --out <path>         also write the JSON to <path>`;

const { values: flags } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    duration: { type: "string" },
    warmup: { type: "string" },
    rounds: { type: "string" },
    connections: { type: "string" },
    tool: { type: "string" },
    only: { type: "string" },
    dist: { type: "boolean", default: false },
    "node-flags": { type: "string" },
    "cpu-prof": { type: "string" },
    perf: { type: "string" },
    json: { type: "boolean", default: false },
    out: { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (flags.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function number(flag: string | undefined, env: string, fallback: number): number {
  const text = flag ?? process.env[env];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`${env} / its flag must be a positive number, got ${text}`);
  return value;
}

const load: LoadOptions = {
  tool: pickTool(flags.tool),
  connections: number(flags.connections, "BENCH_CONNECTIONS", 50),
  seconds: number(flags.duration, "BENCH_DURATION", flags.quick ? 2 : 8),
};
const warmup = number(flags.warmup, "BENCH_WARMUP", flags.quick ? 1 : 2);
// Three rounds: on a shared 2-core VM single runs of the same server differed by up to 2x.
const rounds = number(flags.rounds, "BENCH_ROUNDS", flags.quick ? 2 : 3);
const only = flags.only?.split(",");
const rows = only ? ROWS.filter((row) => only.includes(row.id)) : ROWS.filter((r) => !r.optional);
const profileDir = flags["cpu-prof"];
const perfDir = flags.perf;
if (perfDir) checkPerf();
const nodeFlags = flags["node-flags"]?.split(/\s+/).filter(Boolean) ?? NODE_FLAGS;
const log = (line: string) => process.stderr.write(`${line}\n`);

const dir = await mkdtemp(join(tmpdir(), "akr-bench-"));
try {
  // The probe runs as plain JS: loading it as .ts would load Node's type
  // stripper into every server, and with it some 17 MB of RSS that is not theirs.
  const probe = join(dir, "probe.mjs");
  await writeFile(probe, stripTypeScriptTypes(await readFile(here("./probe.ts"), "utf8")));
  const cli = flags.dist ? await buildDist() : CLI;
  const sizes = [...new Set(rows.flatMap((row) => seedSize(row) ?? []))];
  const seeds = new Map<number, string>();
  for (const size of sizes) {
    const path = join(dir, `seed-${size}.json`);
    await writeSeedKeysFile(path, size, Date.now());
    seeds.set(size, path);
  }
  if (profileDir) await mkdir(profileDir, { recursive: true });
  if (perfDir) await mkdir(perfDir, { recursive: true });

  const runs = new Map<string, RunRecord[]>();
  for (let round = 1; round <= rounds; round++) {
    // Reversing every other round keeps slow drift (heat, other load) from favouring one row.
    const order = round % 2 ? rows : [...rows].reverse();
    for (const row of order) {
      log(`round ${round}/${rounds}: ${row.label}`);
      const record = await measure(row, round, seeds, { probe, cli });
      runs.set(row.id, [...(runs.get(row.id) ?? []), record]);
      log(
        `  ${Math.round(record.load.rps)} req/s, p99 ${record.load.p99.toFixed(2)} ms, ` +
          `start ${record.startMs.toFixed(0)} ms`,
      );
    }
  }

  const summary = summarize(rows, runs);
  const targets = judge(summary);
  const report = {
    meta: {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      tool: load.tool,
      connections: load.connections,
      seconds: load.seconds,
      warmupSeconds: warmup,
      rounds,
      server: flags.dist ? "dist/cli.js (built)" : "src/cli/main.ts (type stripping)",
      serverNodeFlags: nodeFlags,
      units: { time: "ms", memory: "bytes", rps: "requests per second" },
    },
    rows: summary,
    targets,
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  if (flags.out) await writeFile(flags.out, json);
  if (flags.json) {
    process.stdout.write(json);
  } else {
    process.stdout.write(
      `\n${load.tool}, 1 thread, ${load.connections} connections, ${load.seconds} s per run, ` +
        `${rounds} run(s) per row, ${process.version}, ${cpus().length} CPUs, ` +
        `ours from ${report.meta.server} with node ${nodeFlags.join(" ") || "(no flags)"}` +
        "\n\n" +
        `${formatTable(summary)}\n\n${formatTargets(targets)}\n`,
    );
    if (perfDir) process.stdout.write(`\n${formatSymbols(summary)}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

async function measure(
  row: Row,
  round: number,
  seeds: Map<number, string>,
  paths: { probe: string; cli: string },
): Promise<RunRecord> {
  // A fresh copy per run: the previous run's saves must not change what this one loads.
  const size = seedSize(row);
  const keysFile = size === undefined ? null : join(dir, `${row.id}-${round}.json`);
  if (size !== undefined && keysFile) await copyFile(seeds.get(size) as string, keysFile);
  const profile = profileDir
    ? [
        "--cpu-prof",
        `--cpu-prof-dir=${profileDir}`,
        `--cpu-prof-name=${row.id}-${round}.cpuprofile`,
      ]
    : [];
  if (perfDir) profile.push(...perfNodeFlags(join(dir, `${row.id}-${round}.v8.log`)));
  const nodeArgs = row.entry === "cli" ? [...nodeFlags, ...profile] : profile;
  const entry = row.entry === "cli" ? paths.cli : here(`./servers/${row.entry}.ts`);
  const server = await startServerProcess(nodeArgs, paths.probe, entry, (port) =>
    argsOf(row, port, keysFile),
  );
  const perfFile = perfDir ? join(perfDir, `${row.id}-${round}.data`) : null;
  let record: RunRecord;
  try {
    const ready = (await server.report()).memory;
    await runLoad(server.url + row.path, { ...load, seconds: warmup });
    const loadBefore = loadavg()[0] as number;
    // Ends the warm-up's window: the next report covers the measured load alone.
    await server.report();
    const saves = keysFile && row.entry === "cli" ? countReplacements(keysFile) : null;
    const measured = () => runLoad(server.url + row.path, load);
    const ticksBefore = await readCpuTicks();
    const result = perfFile ? await sampling(server.pid, perfFile, measured) : await measured();
    const ticksAfter = await readCpuTicks();
    const saveCount = saves ? await saves.stop() : null;
    const { window, memory: after } = await server.report();
    record = {
      round,
      load: result,
      startMs: server.startMs,
      rssReady: ready.rss,
      anonReady: ready.rssAnon,
      rssAfter: after.rss,
      maxRss: after.maxRss,
      loopDelay: window.loopDelay,
      gc: window.gc,
      cpuUsPerRequest: (window.cpuMs * 1000) / result.requests,
      loadAverage: loadBefore,
      steal: stealShare(ticksBefore, ticksAfter),
      saves: saveCount,
    };
  } finally {
    await server.stop();
    if (keysFile) await rm(keysFile, { force: true });
  }
  return perfFile ? { ...record, symbols: await symbolShares(perfFile, server.pid) } : record;
}

/** Builds what ships into the temp dir, as `npm run build` would, and returns its CLI. */
async function buildDist(): Promise<string> {
  const outdir = join(dir, "dist");
  execFileSync(process.execPath, [here("../scripts/build.ts"), "--outdir", outdir], {
    stdio: ["ignore", "ignore", "inherit"],
  });
  // As installed, dist/cli.js sits under our package.json ("type": "module"). Without it,
  // Node compiles the bundle as CommonJS first, fails, and compiles it again as ESM: 4 MB
  // more RSS and a slower start than a user sees.
  await writeFile(join(dir, "package.json"), '{ "type": "module" }\n');
  return join(outdir, "cli.js");
}

function seedSize(row: Row): number | undefined {
  return row.keys ?? row.seedKeys;
}

function argsOf(row: Row, port: number, keysFile: string | null): string[] {
  if (keysFile === null) return [String(port)];
  if (row.entry !== "cli") return [String(port), keysFile];
  // Our real CLI, with limits so high that nothing in the run is refused.
  const args = ["serve", "--port", String(port), "--keys-file", keysFile];
  args.push("--rpm", HIGH, "--rpd", HIGH, "--tpm", HIGH, "--log-level", "warn");
  if (row.saveInterval) args.push("--save-interval", String(row.saveInterval));
  return args;
}

/** Counts atomic replacements of `path` (each save renames a new file over it) until stopped. */
function countReplacements(path: string): { stop(): Promise<number> } {
  let count = 0;
  let last: number | undefined;
  let running = true;
  const poll = (async () => {
    while (running) {
      const ino = await stat(path).then(
        (s) => s.ino,
        () => last,
      );
      if (last !== undefined && ino !== last) count++;
      last = ino;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async stop() {
      running = false;
      await poll;
      return count;
    },
  };
}
