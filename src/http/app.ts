import type { RequestListener } from "node:http";
import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { KeyStore } from "../store/key-store.ts";
import { accessLog } from "./access-log.ts";
import { errorResponder } from "./api-error.ts";
import { createAuth } from "./auth.ts";
import { keyRoutes } from "./key-routes.ts";
import { keyTestRoute, type PoolProvider } from "./key-test-route.ts";
import { nextFastPath } from "./next-fast-path.ts";
import { nextRoute } from "./next-route.ts";
import { reportRoute } from "./report-route.ts";
import { bodyReadFailed, refuseCrossSite, requireJsonBody } from "./request-guards.ts";
import type { WaitingLine } from "./waiting-line.ts";

export interface AppOptions {
  readonly store: KeyStore;
  readonly line: WaitingLine;
  readonly maxWaitMs: number;
  /** The provider a pool's config names, if any. */
  readonly providerOf: (pool: string) => PoolProvider | undefined;
  /** How key tests reach providers (tests point it at a fake). */
  readonly fetch?: typeof globalThis.fetch;
  readonly adminTokens: readonly string[];
  readonly clientTokens: readonly string[];
  readonly logger: Logger;
  /** Largest accepted JSON body. */
  readonly bodyLimit?: string;
}

/** Builds the HTTP app; it does not listen and never touches the disk itself. */
export function createApp(options: AppOptions): RequestListener {
  const { store, logger } = options;
  const auth = createAuth(options.adminTokens, options.clientTokens);
  const providerName = (pool: string) => {
    const provider = options.providerOf(pool)?.provider;
    return typeof provider === "string" ? provider : (provider?.name ?? null);
  };
  const keys = keyRoutes(store, providerName);
  const keyTest = keyTestRoute({
    findKey: (ref) => store.find(ref),
    providerOf: options.providerOf,
    report: (id, outcome, retryAfterMs) => store.report(id, outcome, retryAfterMs),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const json = [
    requireJsonBody,
    bodyParser({
      enableTypes: ["json"],
      jsonLimit: options.bodyLimit ?? "1mb",
      encoding: "utf-8",
      onError: bodyReadFailed,
    }),
  ];
  const router = new Router();

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/next", auth.client, nextRoute(store, options.line, options.maxWaitMs));
  router.post("/report", auth.client, refuseCrossSite, ...json, reportRoute(store));
  router.get("/keys", auth.admin, keys.list);
  router.get("/stats", auth.admin, keys.stats);
  router.post("/add", auth.admin, refuseCrossSite, ...json, keys.add);
  router.post("/add_bulk", auth.admin, refuseCrossSite, ...json, keys.addBulk);
  router.delete("/delete/:key", auth.admin, refuseCrossSite, keys.remove);
  router.post("/deactivate/:key", auth.admin, refuseCrossSite, keys.deactivate);
  router.post("/reactivate/:key", auth.admin, refuseCrossSite, keys.reactivate);
  router.post("/keys/:key/test", auth.admin, refuseCrossSite, keyTest);

  const app = new Koa();
  // Only when asked for: at the default level /next pays nothing for it.
  const logged = logger.isLevelEnabled("debug");
  if (logged) app.use(accessLog(logger));
  app.use(errorResponder(logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  // The access log is written by Koa, so with it every request goes through Koa.
  if (logged) return app.callback();
  const { maxWaitMs } = options;
  return nextFastPath(
    { store, maxWaitMs, clientAccepts: auth.clientAccepts, logger },
    app.callback(),
  );
}
