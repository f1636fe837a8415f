import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { SelectionMode } from "../core/key-pool.ts";
import type { KeyStore } from "../store/key-store.ts";
import { ApiError, errorResponse, type JsonReply, retryAfterOf } from "./api-error.ts";
import {
  dispensed,
  parseMode,
  parsePool,
  parseWaitMs,
  queryReader,
  refusal,
} from "./next-route.ts";

export interface FastPathOptions {
  readonly store: KeyStore;
  readonly maxWaitMs: number;
  readonly clientAccepts: (authorization: string | undefined) => boolean;
  readonly logger: Logger;
}

interface PlainNext {
  readonly mode: SelectionMode;
  readonly pool: string;
}

const JSON_TYPE = "application/json; charset=utf-8";

/**
 * Answers `GET /next` without Koa when the request is one the route would
 * serve: authorised, valid, not waiting. Koa's layer cost more per request
 * than everything else in /next put together (bench/README.md, "/next outside
 * Koa"). Anything else, from a bad token to `/next/` or HEAD, goes to `koa`
 * untouched, which answers it as before; that is decided before a key is taken,
 * so no request is ever answered twice or spends a key it is not given.
 */
export function nextFastPath(options: FastPathOptions, koa: RequestListener): RequestListener {
  return function serve(req, res) {
    const plain = plainNext(req, options);
    if (plain === null) return koa(req, res);
    void answer(res, plain, options);
  };
}

function plainNext(req: IncomingMessage, options: FastPathOptions): PlainNext | null {
  const url = req.url ?? "";
  if (req.method !== "GET" || !url.startsWith("/next")) return null;
  // Koa's router also takes `/next/` and `/NEXT`, and its URL parser cuts a '#'.
  if (url.length > 5 && (url[5] !== "?" || url.includes("#"))) return null;
  if (!options.clientAccepts(req.headers.authorization)) return null;
  try {
    const query = queryReader(url.slice(6));
    if (parseWaitMs(query("wait"), options.maxWaitMs) > 0) return null;
    return { mode: parseMode(query("mode")), pool: parsePool(query("pool"), options.store) };
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}

async function answer(res: ServerResponse, plain: PlainNext, options: FastPathOptions) {
  let reply: JsonReply;
  try {
    const result = await options.store.acquire(plain.mode, plain.pool);
    reply = result.ok
      ? { status: 200, body: dispensed(result, plain.pool) }
      : errorResponse(refusal(result), options.logger);
  } catch (error) {
    reply = errorResponse(error, options.logger);
  }
  send(res, reply);
}

// The same status, headers and bytes as Koa's answer (tests/http/next-fast-path.test.ts).
function send(res: ServerResponse, { status, body }: JsonReply): void {
  const json = JSON.stringify(body);
  const retryAfter = retryAfterOf(body);
  const headers: Record<string, string | number> =
    status === 200 ? { "Cache-Control": "no-store" } : {};
  headers["Content-Type"] = JSON_TYPE;
  if (retryAfter !== undefined) headers["Retry-After"] = retryAfter;
  headers["Content-Length"] = Buffer.byteLength(json);
  res.writeHead(status, headers).end(json);
}
