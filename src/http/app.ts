import { bodyParser } from "@koa/bodyparser";
import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "pino";
import type { Limits } from "../core/limits.ts";
import type { KeyStore } from "../store/key-store.ts";
import { accessLog } from "./access-log.ts";
import { errorResponder } from "./api-error.ts";
import { createAuth } from "./auth.ts";
import { keyRoutes } from "./key-routes.ts";
import { nextRoute } from "./next-route.ts";
import { refuseCrossSite, requireJsonBody } from "./request-guards.ts";

export interface AppOptions {
  readonly store: KeyStore;
  readonly limits: Limits;
  readonly adminTokens: readonly string[];
  readonly clientTokens: readonly string[];
  readonly logger: Logger;
  /** Largest accepted JSON body. */
  readonly bodyLimit?: string;
}

/** Builds the HTTP app; it does not listen and never touches the disk itself. */
export function createApp(options: AppOptions): Koa {
  const { store, logger } = options;
  const auth = createAuth(options.adminTokens, options.clientTokens);
  const keys = keyRoutes(store, options.limits);
  const json = [
    requireJsonBody,
    bodyParser({ enableTypes: ["json"], jsonLimit: options.bodyLimit ?? "1mb", encoding: "utf-8" }),
  ];
  const router = new Router();

  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/next", auth.client, nextRoute(store));
  router.get("/keys", auth.admin, keys.list);
  router.get("/stats", auth.admin, keys.stats);
  router.post("/add", auth.admin, refuseCrossSite, ...json, keys.add);
  router.post("/add_bulk", auth.admin, refuseCrossSite, ...json, keys.addBulk);
  router.delete("/delete/:key", auth.admin, refuseCrossSite, keys.remove);
  router.post("/deactivate/:key", auth.admin, refuseCrossSite, keys.deactivate);
  router.post("/reactivate/:key", auth.admin, refuseCrossSite, keys.reactivate);

  const app = new Koa();
  // Only when asked for: at the default level /next pays nothing for it.
  if (logger.isLevelEnabled("debug")) app.use(accessLog(logger));
  app.use(errorResponder(logger));
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return app;
}
