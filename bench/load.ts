import { execFileSync, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

export type LoadTool = "wrk" | "autocannon";

export interface LoadOptions {
  readonly tool: LoadTool;
  readonly connections: number;
  readonly seconds: number;
}

/** One load run, as the load generator measured it. Latencies in milliseconds. */
export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Answers other than 2xx: must be 0, or the run measured refusals instead of dispensing. */
  readonly non2xx: number;
  readonly socketErrors: number;
}

const WRK_SCRIPT = fileURLToPath(new URL("./wrk-report.lua", import.meta.url));

export function pickTool(wanted: string | undefined): LoadTool {
  if (wanted === "wrk" || wanted === "autocannon") return wanted;
  if (wanted !== undefined) throw new Error(`--tool must be wrk or autocannon, got ${wanted}`);
  try {
    execFileSync("wrk", ["--version"], { stdio: "ignore" });
    return "wrk";
  } catch (error) {
    // wrk prints its version and exits 1; only a missing binary means "not installed".
    return (error as { code?: string }).code === "ENOENT" ? "autocannon" : "wrk";
  }
}

/** Runs the load generator in its own process against `url` and parses its report. */
export async function runLoad(url: string, options: LoadOptions): Promise<LoadResult> {
  return options.tool === "wrk" ? runWrk(url, options) : runAutocannon(url, options);
}

async function runWrk(url: string, { connections, seconds }: LoadOptions): Promise<LoadResult> {
  // One thread, as the ceilings were measured: the other core is the server's.
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "5s", "-s", WRK_SCRIPT];
  const out = await capture("wrk", [...args, url]);
  const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (!line) throw new Error(`wrk printed no report:\n${out}`);
  const r = JSON.parse(line.slice("WRK_JSON ".length)) as Record<string, number>;
  const n = (name: string) => r[name] ?? Number.NaN;
  return {
    requests: n("requests"),
    rps: n("requests") / (n("duration_us") / 1e6),
    p50: n("p50_us") / 1000,
    p99: n("p99_us") / 1000,
    max: n("max_us") / 1000,
    non2xx: n("non2xx"),
    socketErrors: n("socket_errors"),
  };
}

async function runAutocannon(url: string, options: LoadOptions): Promise<LoadResult> {
  const bin = createRequire(import.meta.url).resolve("autocannon/autocannon.js");
  const args = ["-c", String(options.connections), "-d", String(options.seconds), "-j", url];
  const out = await capture(process.execPath, [bin, ...args]);
  const r = JSON.parse(out) as {
    requests: { total: number };
    duration: number;
    latency: { p50: number; p99: number; max: number };
    non2xx: number;
    errors: number;
    timeouts: number;
  };
  return {
    requests: r.requests.total,
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    non2xx: r.non2xx,
    socketErrors: r.errors + r.timeouts,
  };
}

function capture(command: string, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      out += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      err += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} exited with ${code}: ${err || out}`));
    });
  });
}
