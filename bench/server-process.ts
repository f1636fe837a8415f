import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { get } from "node:http";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProbeReport } from "./probe.ts";

const STOP_GRACE_MS = 20_000;
const READY_TIMEOUT_MS = 60_000;
// How the probe is asked and where it answers: the same in probe.ts.
const PROBE_SIGNAL = "SIGUSR2";
const probeReportFile = (dir: string, seq: number) => join(dir, `report-${seq}.json`);

/** A server under test, alone in its own process, with the probe preloaded. */
export interface ServerProcess {
  readonly url: string;
  readonly pid: number;
  /** From spawn to the first 200 from GET /next, in milliseconds. */
  readonly startMs: number;
  /** The server's memory now and its figures since the previous report (see probe.ts). */
  report(): Promise<ProbeReport>;
  stop(): Promise<void>;
}

/** Spawns `node ...nodeArgs --import <probe> <entry> ...args(port)` and waits for its first answered /next. */
export async function startServerProcess(
  nodeArgs: readonly string[],
  probe: string,
  entry: string,
  args: (port: number) => string[],
): Promise<ServerProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const reports = await mkdtemp(join(tmpdir(), "akr-probe-"));
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, "--import", probe, entry, ...args(port)], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, BENCH_PROBE_DIR: reports },
  });
  // The servers' own output (warnings, errors) goes to stderr, never into the report.
  child.stdout?.pipe(process.stderr);
  child.stderr?.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  await waitForFirstDispense(`${url}/next`, exited);
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  let asked = 0;
  return {
    url,
    pid: child.pid as number,
    startMs,
    report() {
      child.kill(PROBE_SIGNAL);
      return readReport(probeReportFile(reports, ++asked), exited);
    },
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
      await rm(reports, { recursive: true, force: true });
    },
  };
}

function readReport(file: string, exited: Promise<number | null>): Promise<ProbeReport> {
  const read = () =>
    readFile(file, "utf8").then(
      (text) => JSON.parse(text) as ProbeReport,
      () => undefined,
    );
  return poll(read, 5, exited, `no probe report at ${file}`);
}

async function waitForFirstDispense(url: string, exited: Promise<number | null>): Promise<void> {
  const answered = async () => ((await statusOf(url)) === 200 ? true : undefined);
  // Short enough that polling adds at most a couple of milliseconds to the start-up figure.
  await poll(answered, 2, exited, `${url} never answered 200`);
}

/** Tries `attempt` every `everyMs` until it gives a value; fails when the server exits or time is up. */
async function poll<T>(
  attempt: () => Promise<T | undefined>,
  everyMs: number,
  exited: Promise<number | null>,
  failure: string,
): Promise<T> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    const value = await attempt();
    if (value !== undefined) return value;
    await sleep(everyMs);
  }
  throw new Error(`${failure} (${gone ? "the server exited" : "timed out"})`);
}

function statusOf(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once("error", () => resolve(0));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createServer();
    socket.once("error", reject);
    socket.listen(0, "127.0.0.1", () => {
      const address = socket.address();
      socket.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}
