import { once } from "node:events";
import { createServer } from "node:http";
import Router from "@koa/router";
import Koa from "koa";
import { Secret } from "../../src/core/secret.ts";
import { errorResponder } from "../../src/http/api-error.ts";
import { createAuth } from "../../src/http/auth.ts";
import {
  type KeyTestDeps,
  keyTestRoute,
  type PoolProvider,
} from "../../src/http/key-test-route.ts";
import { createLogger } from "../../src/logger.ts";

/** The app's one admin token; the route sits behind the server's admin guard, as it will in app.ts. */
export const ADMIN_TOKEN = "admin-token-key-test-0123456789";

import type { KeyTestOutcome } from "../../src/providers/key-tester.ts";

export interface StoredKey {
  readonly id: string;
  readonly secret: string;
  readonly pool: string;
}

export interface KeyTestApp {
  readonly url: string;
  /** Every report, in order: [id, outcome, retryAfterMs]. */
  readonly reports: [string, KeyTestOutcome, number | null][];
  close(): Promise<void>;
}

/**
 * POST /keys/:key/test alone in a Koa app with the server's admin guard and error responder, over in-memory
 * keys and pools, as the lead's wiring will plug the store and the configuration in.
 */
export async function startKeyTestApp(
  keys: readonly StoredKey[],
  pools: Record<string, PoolProvider>,
  report?: KeyTestDeps["report"],
): Promise<KeyTestApp> {
  const reports: KeyTestApp["reports"] = [];
  const route = keyTestRoute({
    findKey: (ref) => {
      const key =
        keys.find((candidate) => candidate.id === ref) ?? keys.find((k) => k.secret === ref);
      return key && { id: key.id, secret: new Secret(key.secret), pool: key.pool };
    },
    providerOf: async (pool) => pools[pool],
    report:
      report ??
      (async (id, outcome, retryAfterMs) => {
        reports.push([id, outcome, retryAfterMs]);
      }),
  });
  const router = new Router();
  router.post("/keys/:key/test", createAuth([ADMIN_TOKEN], []).admin, route);
  const app = new Koa();
  app.use(errorResponder(createLogger("silent")));
  app.use(router.routes());
  const server = createServer(app.callback());
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    reports,
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    },
  };
}
