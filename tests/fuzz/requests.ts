import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import type {
  AuthSpec,
  BodySpec,
  ExpirySpec,
  KeyOptionsSpec,
  KeySpec,
  PathSpec,
  QuerySpec,
  RefSpec,
  ReportRefSpec,
  RequestSpec,
} from "./arbitraries.ts";

export interface Tokens {
  readonly admin: string;
  readonly client: string;
}

/** The keys the model says are in the pool, in a stable order, for specs that name one by index. */
export interface Pool {
  readonly ids: readonly string[];
  readonly secrets: readonly string[];
  /** The server's (fake) time, for `expires_at` values relative to it. */
  readonly now: number;
  /** The id of the key /next handed out last, if any. */
  readonly lastDispensed: string | null;
}

/** A spec turned into what goes on the wire, plus what the checks need to know about it. */
export interface BuiltRequest {
  readonly method: string;
  readonly pathAndQuery: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer | undefined;
  /** The body before any compression, to learn which keys a 2xx added. */
  readonly plainBody: Buffer | undefined;
  /** The query's parameters, decoded, when the spec gave them as such (else null: unknown). */
  readonly params: readonly (readonly [string, string])[] | null;
  /** Who the server must take the sender for. */
  readonly auth: "admin" | "client" | "none";
  /** The pool key the path names, when it names one. */
  readonly targetId: string | null;
  /** Strings sent as keys that are long enough that finding one in an answer means a leak. */
  readonly watched: readonly string[];
}

/** The shortest string we look for in answers: shorter ones occur in them by chance. */
export const WATCH_MIN_LENGTH = 16;
// Valid, and outside everything the generators make, so an `existing` key
// asked of an empty pool still sends something a server could add.
const EMPTY_POOL_SECRET = "sk-fz-empty-pool-00000";
const EMPTY_POOL_REF = "sk-fz-no-such-key-0000";

const pick = <T>(items: readonly T[], index: number): T | undefined =>
  items.length === 0 ? undefined : items[index % items.length];

function refText(ref: RefSpec, pool: Pool): { text: string; targetId: string | null } {
  switch (ref.kind) {
    case "id": {
      const id = pick(pool.ids, ref.index);
      return id === undefined
        ? { text: EMPTY_POOL_REF, targetId: null }
        : { text: id, targetId: id };
    }
    case "secret": {
      const index = pool.secrets.length === 0 ? -1 : ref.index % pool.secrets.length;
      const secret = pool.secrets[index];
      if (secret === undefined) return { text: EMPTY_POOL_REF, targetId: null };
      return { text: encodeURIComponent(secret), targetId: pool.ids[index] ?? null };
    }
    case "literal":
      return { text: ref.text, targetId: null };
    case "long":
      return { text: ref.char.repeat(ref.length), targetId: null };
  }
}

function pathOf(path: PathSpec, pool: Pool): { path: string; targetId: string | null } {
  if (path.kind === "route" || path.kind === "literal") return { path: path.path, targetId: null };
  const { text, targetId } = refText(path.ref, pool);
  if (path.kind === "keyTest") return { path: `/keys/${text}/test`, targetId };
  return { path: `${path.prefix}/${text}`, targetId };
}

function queryOf(query: QuerySpec): string {
  if (typeof query === "string") return query;
  if (query.params.length === 0) return "";
  return `?${query.params.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join("&")}`;
}

function reportRefValue(ref: ReportRefSpec, pool: Pool): unknown {
  if (ref.kind === "value") return ref.value;
  if (ref.kind === "dispensed") return pool.lastDispensed ?? EMPTY_POOL_REF;
  return pick(ref.kind === "id" ? pool.ids : pool.secrets, ref.index) ?? EMPTY_POOL_REF;
}

/** An RFC 3339 date-time `spec.ms` from now, written in the spec's zone. */
function expiryValue(spec: ExpirySpec, now: number): unknown {
  if (spec.kind === "value") return spec.value;
  const [sign, hours = 0, minutes = 0] =
    spec.zone === "Z" ? ["+"] : [spec.zone[0], ...spec.zone.slice(1).split(":").map(Number)];
  const offsetMs = (sign === "-" ? -1 : 1) * (hours * 60 + minutes) * 60_000;
  // The wall-clock time in that zone, to the second; the fraction is the spec's.
  const local = new Date(now + spec.ms + offsetMs).toISOString().slice(0, 19);
  return `${local}${spec.fraction}${spec.zone}`;
}

/** The optional /add fields the spec gives (left out, not sent as undefined, so `extra` keeps its own). */
function optionFields(options: KeyOptionsSpec, pool: Pool): Record<string, unknown> {
  const fields = {
    pool: options.pool,
    limits: options.limits,
    expires_at: options.expiresAt && expiryValue(options.expiresAt, pool.now),
  };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function reportFields(body: Extract<BodySpec, { kind: "report" }>, pool: Pool) {
  const ref = reportRefValue(body.ref, pool);
  const other = reportRefValue(body.other, pool);
  switch (body.fields) {
    case "id":
      return { id: ref };
    case "key":
      return { key: ref };
    case "both":
      return { id: ref, key: other };
    case "neither":
      return {};
  }
}

function keyValue(key: KeySpec, pool: Pool): unknown {
  switch (key.kind) {
    case "fresh":
      return key.secret;
    case "existing":
      return pick(pool.secrets, key.index) ?? EMPTY_POOL_SECRET;
    case "value":
      return key.value;
  }
}

function plainBytes(body: BodySpec, pool: Pool): Buffer {
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  switch (body.kind) {
    case "add":
      return json({
        ...body.extra,
        key: keyValue(body.key, pool),
        ...optionFields(body.options, pool),
      });
    case "bulk":
      return json({
        keys: body.keys.map((key) => keyValue(key, pool)),
        ...optionFields(body.options, pool),
      });
    case "report":
      return json({
        ...reportFields(body, pool),
        outcome: body.outcome,
        retry_after: body.retryAfter,
      });
    case "tooMany":
      return json({ keys: Array.from({ length: body.count }, (_, i) => manyKey(i)) });
    case "json":
      return json(body.value);
    case "nested": {
      const head = body.field === null ? "" : `{"${body.field}":`;
      const tail = body.field === null ? "" : "}";
      const closing = body.balanced ? body.close.repeat(body.depth) + tail : "";
      return Buffer.from(`${head}${body.open.repeat(body.depth)}0${closing}`);
    }
    case "huge": {
      const filler = "k".repeat(body.size);
      if (body.shape === "raw") return Buffer.from(filler);
      return Buffer.from(body.shape === "key" ? `{"key":"${filler}"}` : `{"keys":["${filler}"]}`);
    }
    case "bytes": {
      const bytes = Buffer.from(body.bytes);
      if (!body.inKey) return bytes;
      return Buffer.concat([Buffer.from('{"key":"sk-fz-bytes-'), bytes, Buffer.from('-0000"}')]);
    }
    case "text":
      return Buffer.from(body.text);
    case "compressed":
      return plainBytes(body.inner, pool);
  }
}

/** The keys of a too-large add_bulk: valid, so only the count can be why it is refused. */
const manyKey = (i: number): string => `sk-fz-many-${String(i).padStart(8, "0")}`;

const COMPRESS = { gzip: gzipSync, deflate: deflateSync, br: brotliCompressSync };

function wireBytes(body: BodySpec, plain: Buffer): Buffer {
  if (body.kind !== "compressed") return plain;
  const packed = COMPRESS[body.encoding](plain);
  if (!body.corrupt) return packed;
  // Keep the first bytes (a plausible header) and scramble the rest.
  const broken = Buffer.from(packed);
  for (let i = Math.min(4, broken.length - 1); i < broken.length; i += 3) {
    broken[i] = (broken[i] ?? 0) ^ 0x5a;
  }
  return broken;
}

function authHeader(auth: AuthSpec, tokens: Tokens): string | undefined {
  const fill = (form: string, token: string) =>
    form.replaceAll("%s", token).replaceAll("%S", token.toUpperCase());
  switch (auth.kind) {
    case "none":
      return undefined;
    case "admin":
    case "client":
      return fill(auth.form, tokens[auth.kind]);
    case "garbled":
      return fill(auth.how, tokens[auth.of]);
    case "raw":
      return auth.value;
  }
}

function keysSent(body: BodySpec | null, pool: Pool): unknown[] {
  if (body === null) return [];
  switch (body.kind) {
    case "add":
      return [keyValue(body.key, pool)];
    case "bulk":
      return body.keys.map((key) => keyValue(key, pool));
    case "report":
      return Object.values(reportFields(body, pool));
    case "compressed":
      return keysSent(body.inner, pool);
    default:
      return [];
  }
}

const BODYLESS = new Set(["GET", "HEAD"]);

export function buildRequest(spec: RequestSpec, pool: Pool, tokens: Tokens): BuiltRequest {
  const { path, targetId } = pathOf(spec.path, pool);
  const headers: Record<string, string> = {};
  const h = spec.headers;
  const authorization = authHeader(h.auth, tokens);
  if (authorization !== undefined) headers.authorization = authorization;
  if (h.contentType !== null) headers["content-type"] = h.contentType;
  if (h.origin !== null) headers.origin = h.origin;
  if (h.secFetchSite !== null) headers["sec-fetch-site"] = h.secFetchSite;
  if (h.contentEncoding !== null) headers["content-encoding"] = h.contentEncoding;
  for (const [name, value] of h.extra) headers[name] = value;

  // fetch refuses a body on GET and HEAD; the raw-socket property sends those.
  const bodySpec = BODYLESS.has(spec.method) ? null : spec.body;
  const plainBody = bodySpec === null ? undefined : plainBytes(bodySpec, pool);
  const body =
    bodySpec === null || plainBody === undefined ? undefined : wireBytes(bodySpec, plainBody);
  if (bodySpec?.kind === "compressed") headers["content-encoding"] = bodySpec.encoding;

  const watched = keysSent(bodySpec, pool).filter(
    (key): key is string => typeof key === "string" && key.length >= WATCH_MIN_LENGTH,
  );
  if (bodySpec?.kind === "tooMany") watched.push(manyKey(0), manyKey(bodySpec.count - 1));
  return {
    method: spec.method,
    pathAndQuery: `${path}${queryOf(spec.query)}`,
    params: typeof spec.query !== "string" ? spec.query.params : spec.query === "" ? [] : null,
    headers,
    body,
    plainBody,
    auth: h.auth.kind === "admin" || h.auth.kind === "client" ? h.auth.kind : "none",
    targetId,
    watched,
  };
}
