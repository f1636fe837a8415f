// Shared by the build tests: run the build, start what it produced as a real process, talk to it.
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";

export const ROOT = new URL("../..", import.meta.url).pathname;
export const ADMIN_TOKEN = "admin-token-0123456789abcdef";
export const CLIENT_TOKEN = "client-token-0123456789abcdef";

// Generous: a cold start of a 130 MB binary on a loaded CI machine.
const LISTEN_DEADLINE_MS = 20_000;

export const run = promisify(execFile);

export function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "akr-build-"));
}

/** `npm run <script> -- --outdir <dir>`: the package.json entry, into a private dir. */
export async function npmBuild(script: "build" | "build:binary", outdir: string): Promise<void> {
  await run("npm", ["run", "--silent", script, "--", "--outdir", outdir], { cwd: ROOT });
}

export interface ServerProcess {
  /** Base URL to send requests to (loopback, even when the server listens on 0.0.0.0). */
  readonly url: string;
  readonly child: ChildProcess;
  /** The log entry that said it is listening. */
  readonly listening: Readonly<Record<string, unknown>>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then the exit code (or signal name). */
  stop(): Promise<number | string>;
}

export interface Started {
  readonly cwd: string;
  readonly env: Record<string, string>;
}

function exitOf(child: ChildProcess): Promise<number | string> {
  return once(child, "exit").then(([code, signal]) => (code ?? signal) as number | string);
}

/** Starts a `serve` process and resolves when it logs that it is listening. */
export async function startServer(
  file: string,
  args: readonly string[],
  { cwd, env }: Started,
): Promise<ServerProcess> {
  const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  const exited = exitOf(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const listening = new Promise<Record<string, unknown>>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (entry.msg === "api-key-rotator listening" && typeof entry.url === "string") {
        resolve(entry);
      }
    });
    exited.then((code) => reject(new Error(`exited (${code}) before listening: ${stderr}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`not listening after ${LISTEN_DEADLINE_MS} ms: ${stderr}`)),
      LISTEN_DEADLINE_MS,
    );
  });
  let entry: Record<string, unknown>;
  try {
    entry = await Promise.race([listening, deadline]);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const url = new URL(entry.url as string);
  if (url.hostname === "0.0.0.0") url.hostname = "127.0.0.1";
  return {
    url: url.origin,
    child,
    listening: entry,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** Runs a command to its end; resolves with its exit code and output (never rejects on exit). */
export async function runToExit(
  file: string,
  args: readonly string[],
  { cwd, env }: Started,
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(file, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const code = await exitOf(child);
  return { code, stdout, stderr };
}

function auth(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Adds `key` through POST /add and checks GET /next hands exactly that key out. */
export async function addAndDispense(
  baseUrl: string,
  key: string,
  tokens: { admin?: string; client?: string } = {},
): Promise<void> {
  const added = await fetch(`${baseUrl}/add`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth(tokens.admin) },
    body: JSON.stringify({ key }),
  });
  assert.equal(added.status, 201, await added.text());
  const next = await fetch(`${baseUrl}/next`, { headers: auth(tokens.client) });
  assert.equal(next.status, 200);
  assert.equal(((await next.json()) as { api_key: string }).api_key, key);
}
