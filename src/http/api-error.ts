import type { Context, Next } from "koa";
import type { Logger } from "pino";
import { PersistError } from "../store/key-store.ts";

/** An answer we chose to give: a status, a stable code and a message safe to show. */
export class ApiError extends Error {
  override name = "ApiError";
  readonly status: number;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

// Errors thrown by koa, the router and the body parser carry a status; their
// messages can quote the request (a JSON parse error quotes the body, which may
// hold a key), so each is answered with a fixed message of ours instead.
const KNOWN_STATUSES: Record<number, { code: string; message: string }> = {
  400: { code: "invalid_json", message: "the request body is not valid JSON" },
  405: { code: "method_not_allowed", message: "this route does not accept that method" },
  413: { code: "body_too_large", message: "the request body is too large" },
  415: {
    code: "unsupported_media_type",
    message: "the request body must be JSON, uncompressed or gzip, deflate or br",
  },
  501: { code: "method_not_allowed", message: "this route does not accept that method" },
};

/** The one place where errors become responses: `{error, code, ...details}` with the right status. */
export function errorResponder(logger: Logger) {
  return async function respondToErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        throw new ApiError(404, "not_found", "no such route");
      }
    } catch (error) {
      const { status, body } = errorResponse(error, logger);
      ctx.status = status;
      ctx.body = body;
      const retryAfter = retryAfterOf(body);
      if (retryAfter !== undefined) ctx.set("Retry-After", retryAfter);
    }
  };
}

/** A status and the JSON body that goes with it. */
export interface JsonReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** The Retry-After header an error body calls for, if any. */
export function retryAfterOf(body: Record<string, unknown>): string | undefined {
  return typeof body.retry_after === "number" ? String(body.retry_after) : undefined;
}

/** What the error responder answers for an error; /next's path outside Koa answers the same. */
export function errorResponse(error: unknown, logger: Logger): JsonReply {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      body: { error: error.message, code: error.code, ...error.details },
    };
  }
  if (error instanceof PersistError) {
    return { status: 503, body: { error: error.message, code: "persist_failed" } };
  }
  const status = (error as { status?: unknown } | null)?.status;
  const known = typeof status === "number" ? KNOWN_STATUSES[status] : undefined;
  if (known) {
    return {
      status: status === 501 ? 405 : (status as number),
      body: { error: known.message, code: known.code },
    };
  }
  logger.error({ err: error }, "request failed");
  return { status: 500, body: { error: "internal error", code: "internal" } };
}
