import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { type Clock, systemClock } from "./core/clock.ts";
import { poolSettings } from "./core/limits.ts";
import { createApp } from "./http/app.ts";
import { answerClientError } from "./http/client-errors.ts";
import { WaitingLine } from "./http/waiting-line.ts";
import { newKeyId } from "./key-id.ts";
import { createLogger } from "./logger.ts";
import { loadPoolConfigs, type PoolConfig, settingsResolver } from "./pool-config.ts";
import { KeysFile } from "./store/keys-file.ts";
import { MemoryKeyStore } from "./store/memory-store.ts";

export interface ServerDeps {
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly newId?: () => string;
  readonly logger?: Logger;
  /** Tests shorten these to watch a slow client being cut off. */
  readonly timeouts?: Partial<ServerTimeouts>;
}

export interface ServerTimeouts {
  /** Longest wait for a request's headers. */
  readonly headersMs: number;
  /** Longest wait for a whole request, body included. */
  readonly requestMs: number;
  /** How often Node checks connections against the two limits above (it adds to them). */
  readonly checkIntervalMs: number;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly store: MemoryKeyStore;
  /** How many /next?wait= requests wait in a pool's line. */
  waiting(pool: string): number;
  /** Stops accepting, finishes requests in flight, saves, and resolves. */
  close(): Promise<void>;
}

// A client that trickles its headers or body cannot hold a socket longer than
// this (plus up to one check interval).
const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersMs: 10_000,
  requestMs: 30_000,
  // Node's default is 30 s, which would let a slow client hold a socket up to 40 s.
  checkIntervalMs: 1_000,
};
// In-flight requests get this long to finish on shutdown before their sockets are cut.
const SHUTDOWN_GRACE_MS = 10_000;

/** Loads keys.json, listens, and saves on the interval: the whole service, wired. */
export async function startServer(config: Config, deps: ServerDeps = {}): Promise<RunningServer> {
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? systemClock;
  const pools: Map<string, PoolConfig> = config.configFile
    ? await loadPoolConfigs(config.configFile)
    : new Map();
  const store = await MemoryKeyStore.open({
    file: new KeysFile(config.keysFile, config.cipher),
    settingsOf: settingsResolver(poolSettings(config.limits), pools),
    configuredPools: [...pools.keys()],
    clock,
    random: deps.random ?? Math.random,
    newId: deps.newId ?? newKeyId,
    logger,
  });
  const line = new WaitingLine(store, clock);
  const listener = createApp({
    ...config,
    store,
    line,
    logger,
    providerOf: (pool) => {
      const { provider, baseUrl } = pools.get(pool) ?? {};
      return provider ? { provider, baseUrl } : undefined;
    },
  });
  const timeouts = { ...DEFAULT_TIMEOUTS, ...deps.timeouts };
  const server = createServer({ connectionsCheckingInterval: timeouts.checkIntervalMs }, listener);
  server.headersTimeout = timeouts.headersMs;
  server.requestTimeout = timeouts.requestMs;
  server.on("clientError", answerClientError);
  await listen(server, config.port, config.host);

  // Failures are logged by the store, once per episode; the next tick retries.
  const saveTimer = setInterval(() => store.saveIfChanged().catch(() => {}), config.saveIntervalMs);
  saveTimer.unref();

  const { port } = server.address() as AddressInfo;
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
  // Which Node, with which flags: what an operator comparing memory or speed needs to know.
  logger.info(
    { url, keysFile: config.keysFile, node: process.version, nodeFlags: process.execArgv },
    "api-key-rotator listening",
  );

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    store,
    waiting: (pool) => line.waiting(pool),
    close() {
      closing ??= shutdown(server, saveTimer, store, logger).finally(() => line.close());
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
