import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConfig, type ServeFlags } from "../../src/config.ts";
import { createLogger } from "../../src/logger.ts";
import { type RunningServer, type ServerDeps, startServer } from "../../src/server.ts";

export interface TestServer extends RunningServer {
  readonly dir: string;
  readonly keysFile: string;
  /** fetch() against the server, with JSON bodies and an optional bearer token. */
  request(path: string, init?: TestRequest): Promise<Response>;
  /** Closes the server and removes its directory. */
  stop(): Promise<void>;
}

export interface TestRequest {
  readonly method?: string;
  readonly json?: unknown;
  readonly token?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export async function makeTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), "akr-test-"));
}

/** The real server on an ephemeral loopback port, with its own keys.json in a temp dir. */
export async function startTestServer(
  flags: ServeFlags = {},
  deps: ServerDeps = {},
  dir?: string,
): Promise<TestServer> {
  const ownDir = dir ?? (await makeTempDir());
  const keysFile = flags.keysFile ?? join(ownDir, "keys.json");
  const config = buildConfig({ port: "0", logLevel: "silent", ...flags, keysFile }, {});
  const server = await startServer(config, { logger: createLogger("silent"), ...deps });
  return {
    ...server,
    close: () => server.close(),
    dir: ownDir,
    keysFile,
    request: (path, init) => request(server.url, path, init),
    async stop() {
      await server.close();
      if (!dir) await rm(ownDir, { recursive: true, force: true });
    },
  };
}

export function request(baseUrl: string, path: string, init: TestRequest = {}): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    body = JSON.stringify(init.json);
    headers["content-type"] ??= "application/json";
  }
  return fetch(new URL(path, baseUrl), { method: init.method ?? "GET", headers, body });
}
