import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { KeyStore } from "../store/key-store.ts";
import { errorResponse, type JsonReply, retryAfterOf } from "./api-error.ts";
import { dispensed, type NextParams, nextParams, refusal } from "./next-route.ts";

export interface FastPathOptions {
  readonly store: KeyStore;
  readonly maxWaitMs: number;
  readonly clientAccepts: (authorization: string | undefined) => boolean;
  readonly logger: Logger;
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

function plainNext(req: IncomingMessage, options: FastPathOptions): NextParams | null {
  const url = req.url ?? "";
  if (req.method !== "GET" || !url.startsWith("/next")) return null;
  // Koa's router also takes `/next/` and `/NEXT`, and its URL parser cuts a '#'.
  if (url.length > 5 && (url[5] !== "?" || url.includes("#"))) return null;
  if (!options.clientAccepts(req.headers.authorization)) return null;
  try {
    const params = nextParams(url.slice(6), options.store, options.maxWaitMs);
    return params.waitMs > 0 ? null : params;
  } catch {
    // Koa reads the parameters again and answers whatever failed: a 4xx, or a 500 it logs.
    // Rethrown here, an error would escape the request listener and end the process.
    return null;
  }
}

async function answer(res: ServerResponse, plain: NextParams, options: FastPathOptions) {
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
