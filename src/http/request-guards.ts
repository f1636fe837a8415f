import type { Context, Next } from "koa";
import { ApiError } from "./api-error.ts";

/** Refuses a body that is not declared as JSON before anything reads it. */
export async function requireJsonBody(ctx: Context, next: Next): Promise<void> {
  if (!ctx.is("application/json")) {
    throw new ApiError(
      415,
      "unsupported_media_type",
      "send the body as JSON with Content-Type: application/json",
    );
  }
  await next();
}

/**
 * Reading a body fails with an HTTP status (400, 413, 415) for everything the
 * body parser checks; what fails without one comes from the stream itself: a
 * gzip, deflate or br body that does not decompress. That is the client's
 * mistake, not ours, so it is a 400 rather than a 500.
 */
export function bodyReadFailed(error: Error): never {
  if (typeof (error as { status?: unknown }).status === "number") throw error;
  throw new ApiError(400, "invalid_json", "the request body could not be decompressed");
}

/**
 * A browser page on another site can make a plain POST (a form, or fetch in
 * no-cors mode) to a server on this machine. Browsers mark such requests with
 * Origin / Sec-Fetch-Site; curl and server-side clients send neither. So a
 * change request that a browser says comes from another site is refused:
 * there is no CORS, and no web page may manage keys.
 */
export async function refuseCrossSite(ctx: Context, next: Next): Promise<void> {
  const site = ctx.get("sec-fetch-site");
  if (ctx.get("origin") !== "" || (site !== "" && site !== "none" && site !== "same-origin")) {
    throw new ApiError(403, "cross_site_request", "changes cannot be made from a web page");
  }
  await next();
}
