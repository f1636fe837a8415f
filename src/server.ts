import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { nanoid } from "nanoid";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { createApp } from "./http/app.ts";
import { answerClientError } from "./http/client-errors.ts";
import { createLogger } from "./logger.ts";
import { KeysFile } from "./store/keys-file.ts";
import { MemoryKeyStore } from "./store/memory-store.ts";

export interface ServerDeps {
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly store: MemoryKeyStore;
  /** Stops accepting, finishes requests in flight, saves, and resolves. */
  close(): Promise<void>;
}

// A client that trickles its headers or body cannot hold a socket longer than this.
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 30_000;
// In-flight requests get this long to finish on shutdown before their sockets are cut.
const SHUTDOWN_GRACE_MS = 10_000;

/** Loads keys.json, listens, and saves on the interval: the whole service, wired. */
export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const store = await MemoryKeyStore.open({
    file: new KeysFile(config.keysFile),
    limits: config.limits,
    clock: deps.clock ?? systemClock,
    random: deps.random ?? Math.random,
    newId: deps.newId ?? (() => nanoid(12)),
    logger,
  });
  const app = createApp({ ...config, store, logger });
  const server = createServer(app.callback());
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.on("clientError", answerClientError);
  await listen(server, config.port, config.host);

  // Failures are logged by the store, once per episode; the next tick retries.
  const saveTimer = setInterval(() => store.saveIfChanged().catch(() => {}), config.saveIntervalMs);
  saveTimer.unref();

  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  logger.info({ url, keysFile: config.keysFile }, "api-key-rotator listening");

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    close() {
      closing ??= shutdown(server, saveTimer, store, logger);
      return closing;
    },
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

async function shutdown(
  server: Server,
  saveTimer: NodeJS.Timeout,
  store: MemoryKeyStore,
  logger: Logger,
): Promise<void> {
  logger.info("shutting down: no new connections, finishing requests in flight");
  clearInterval(saveTimer);
  const forceClose = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
  // A keep-alive connection whose last request was just answered would
  // otherwise stay open until its keep-alive timeout and hold the exit back.
  const closeIdle = setInterval(() => server.closeIdleConnections(), 50);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  clearTimeout(forceClose);
  clearInterval(closeIdle);
  await store.flush();
  logger.info("stopped; keys saved");
}
