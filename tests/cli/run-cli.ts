import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { join } from "node:path";

export const ADMIN = "admin-token-0123456789abcdef";
export const CLIENT = "client-token-0123456789abcdef";

const MAIN = join(import.meta.dirname, "../../src/cli/main.ts");

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRun {
  /** Variables on top of this process's environment (whose API_KEY_ROTATOR_* are dropped). */
  readonly env?: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed (it is closed empty otherwise). */
  readonly input?: string;
}

/** Runs `api-key-rotator <args>` as a real process, on the Node running the tests. */
export async function runCli(args: readonly string[], run: CliRun = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.API_KEY_ROTATOR_URL;
  delete env.API_KEY_ROTATOR_TOKEN;
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...env, ...run.env } });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  child.stdin.end(run.input ?? "");
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

/** An address where nothing listens: a port the OS gave us, closed again. */
export async function closedPortUrl(): Promise<string> {
  const server = await listening(createServer());
  const url = urlOf(server);
  server.close();
  await once(server, "close");
  return url;
}

/** A TCP server that accepts connections and never answers. */
export async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = await listening(createServer((socket) => sockets.add(socket)));
  return {
    url: urlOf(server),
    async close() {
      for (const socket of sockets) socket.destroy();
      server.close();
      await once(server, "close");
    },
  };
}

async function listening(server: Server): Promise<Server> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return server;
}

function urlOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
