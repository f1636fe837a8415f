import { type ChildProcess, spawn } from "node:child_process";
import { get } from "node:http";
import { createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { ProbeReply, ProbeRequest } from "./probe.ts";

const STOP_GRACE_MS = 20_000;
const READY_TIMEOUT_MS = 60_000;

/** A server under test, alone in its own process, with the probe preloaded. */
export interface ServerProcess {
  readonly url: string;
  /** From spawn to the first 200 from GET /next, in milliseconds. */
  readonly startMs: number;
  ask<T extends ProbeReply["type"]>(
    request: ProbeRequest,
    reply: T,
  ): Promise<Extract<ProbeReply, { type: T }>>;
  tell(request: ProbeRequest): void;
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
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [...nodeArgs, "--import", probe, entry, ...args(port)], {
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  // The servers' own output (warnings, errors) goes to stderr, never into the report.
  child.stdout?.pipe(process.stderr);
  child.stderr?.pipe(process.stderr);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));

  await waitForFirstDispense(`${url}/next`, exited);
  const startMs = Number(process.hrtime.bigint() - started) / 1e6;
  return {
    url,
    startMs,
    ask: (request, reply) => ask(child, request, reply),
    tell(request) {
      child.send(request);
    },
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
}

function ask<T extends ProbeReply["type"]>(
  child: ChildProcess,
  request: ProbeRequest,
  type: T,
): Promise<Extract<ProbeReply, { type: T }>> {
  return new Promise((resolve) => {
    const onMessage = (message: ProbeReply) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      resolve(message as Extract<ProbeReply, { type: T }>);
    };
    child.on("message", onMessage);
    child.send(request);
  });
}

async function waitForFirstDispense(url: string, exited: Promise<number | null>): Promise<void> {
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    if ((await statusOf(url)) === 200) return;
    // Short enough that polling adds at most a couple of milliseconds to the start-up figure.
    await sleep(2);
  }
  throw new Error(`${url} never answered 200 (${gone ? "the server exited" : "timed out"})`);
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
