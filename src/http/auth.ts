import { createHash, timingSafeEqual } from "node:crypto";
import type { Context, Next } from "koa";
import { ApiError } from "./api-error.ts";

type Digest = Buffer;

const digest = (token: string): Digest => createHash("sha256").update(token).digest();

// Hashing first makes every comparison the same length, and checking every
// token without stopping early keeps the time independent of which one matched.
function matchesAny(presented: Digest, accepted: readonly Digest[]): boolean {
  let matched = false;
  for (const candidate of accepted) matched = timingSafeEqual(presented, candidate) || matched;
  return matched;
}

function bearerOf(authorization: string | undefined): Digest | null {
  const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
  return match?.[1] ? digest(match[1]) : null;
}

function unauthorized(ctx: Context): ApiError {
  ctx.set("WWW-Authenticate", 'Bearer realm="api-key-rotator"');
  // One answer for a missing, malformed or wrong token: it tells an attacker nothing.
  return new ApiError(401, "unauthorized", "a valid bearer token is required");
}

export interface AuthGuards {
  /** Management routes, /keys and /stats: admin tokens, when any are configured. */
  readonly admin: (ctx: Context, next: Next) => Promise<void>;
  /** /next: client or admin tokens, when client tokens are configured. */
  readonly client: (ctx: Context, next: Next) => Promise<void>;
  /** The client guard's verdict on an Authorization header, for /next's path outside Koa. */
  readonly clientAccepts: (authorization: string | undefined) => boolean;
}

export function createAuth(
  adminTokens: readonly string[],
  clientTokens: readonly string[],
): AuthGuards {
  const admin = adminTokens.map(digest);
  const client = clientTokens.map(digest);
  const clientOrAdmin = [...client, ...admin];
  const clientAccepts = (authorization: string | undefined): boolean => {
    if (client.length === 0) return true;
    const presented = bearerOf(authorization);
    return presented !== null && matchesAny(presented, clientOrAdmin);
  };
  return {
    async admin(ctx, next) {
      if (admin.length > 0) {
        const presented = bearerOf(ctx.get("authorization"));
        if (!presented) throw unauthorized(ctx);
        if (!matchesAny(presented, admin)) {
          if (matchesAny(presented, client)) {
            throw new ApiError(403, "forbidden", "this route needs an admin token");
          }
          throw unauthorized(ctx);
        }
      }
      await next();
    },
    async client(ctx, next) {
      if (!clientAccepts(ctx.get("authorization"))) throw unauthorized(ctx);
      await next();
    },
    clientAccepts,
  };
}
