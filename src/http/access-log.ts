import type { Context, Next } from "koa";
import type { Logger } from "pino";

/**
 * One debug line per request. It logs the route pattern (`/delete/:key`), never
 * the path: a path may carry a key, and a query string anything at all.
 */
export function accessLog(logger: Logger) {
  return async function logRequest(ctx: Context, next: Next): Promise<void> {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.debug(
        {
          method: ctx.method,
          route: (ctx as { _matchedRoute?: unknown })._matchedRoute ?? "(no route)",
          status: ctx.status,
          ms: Math.round((performance.now() - started) * 10) / 10,
        },
        "request",
      );
    }
  };
}
