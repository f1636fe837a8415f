import * as fc from "fast-check";
import type { Tokens } from "./requests.ts";

/**
 * A request written byte by byte, the way fetch never would: invalid UTF-8
 * and NULs in the request line, broken header lines, contradictory framing.
 * Strings are latin1, so each character is one byte on the wire. Nothing in
 * it names a key of the pool or carries a body that could add one, so the
 * key list must come out unchanged.
 */
export interface RawSpec {
  readonly method: string;
  readonly target: string | { readonly long: number };
  readonly version: string;
  readonly eol: string;
  readonly headers: readonly (string | { readonly big: number })[];
  readonly endOfHead: boolean;
  readonly body: string;
}

const latin1Char = fc.integer({ min: 0, max: 0xff }).map((c) => String.fromCharCode(c));
const latin1 = (maxLength: number) => fc.string({ unit: latin1Char, maxLength });

// Each part is usually right, so that a request gets far enough for its one
// or two wrong parts to be what the server has to deal with.
const method = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "DELETE", "HEAD", "PUT", "OPTIONS") },
  fc.constantFrom(
    "FOO",
    "get",
    "G ET",
    "",
    "GET\x00",
    "\xffGET",
    "PRI",
    "CONNECT",
    "TRACE",
    "GET\t",
  ),
  latin1(8),
);

const target = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.constantFrom(
      "/healthz",
      "/next",
      "/next?mode=random",
      "/add",
      "/add_bulk",
      "/keys",
      "/stats",
      "/delete/sk-fz-not-in-pool-000",
      "/deactivate/sk-fz-not-in-pool-000",
      "/report",
      "/keys/sk-fz-not-in-pool-000/test",
      "/next?pool=default&wait=0.01",
      "/next?pool=no-such-pool",
      "/keys?pool=default",
    ),
  },
  fc.constantFrom(
    "/next?mode=\xff",
    "/next?pool=\xff",
    "/next?wait=\xe0\xa4",
    "/keys?pool=%zz",
    "/delete/\xff\xfe",
    "/delete/sk-fz-\xe0\xa4",
    "/deactivate/\x00",
    "/keys/\x80",
    "/\xc3\x28",
    "/\xed\xa0\x80",
    "/a b",
    "/%",
    "*",
    "http://127.0.0.1/next",
    "",
  ),
  latin1(30).map((s) => `/${s}`),
  fc.integer({ min: 17_000, max: 40_000 }).map((long) => ({ long })),
);

const version = fc.constantFrom(
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.1",
  "HTTP/1.0",
  "HTTP/2.0",
  "HTTP/9.9",
  "",
  "http/1.1",
  "HTTP/1.1\x00",
  "HTTP/1.1 extra",
);

const header = (tokens: Tokens) =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.constantFrom(
        "Content-Type: application/json",
        `Authorization: Bearer ${tokens.admin}`,
        `Authorization: Bearer ${tokens.client}`,
        "Content-Length: 0",
        "Content-Length: 5",
        "Transfer-Encoding: chunked",
        "Content-Encoding: gzip",
        "Expect: 100-continue",
        "Connection: close",
      ),
    },
    {
      weight: 4,
      arbitrary: fc.constantFrom(
        "Host:",
        "Host: a\xffb",
        "Authorization: Bearer \xff\xfe",
        "Content-Length: -1",
        "Content-Length: abc",
        "Content-Length: 99999999999999999999",
        "Content-Length: 1, 2",
        "Transfer-Encoding: gzip, chunked",
        "Transfer-Encoding: chunked, identity",
        "Transfer-Encoding: xchunked",
        "X-Nul: a\x00b",
        "X-High: \xff\xfe\x80",
        "X\x80Name: v",
        "NoColon",
        " folded: continuation",
        "Bad Name: v",
        ": empty-name",
        "X-CR: a\rb",
        "Expect: nonsense",
        "Connection: upgrade",
        "Upgrade: websocket",
      ),
    },
    fc.tuple(latin1(12), latin1(30)).map(([name, value]) => `${name}: ${value}`),
    // Past Node's 16 KB limit for the request head.
    { weight: 1, arbitrary: fc.integer({ min: 17_000, max: 40_000 }).map((big) => ({ big })) },
  );

// Bytes after the head that no header frames are read as a second request,
// so an empty body is common enough to let the first one reach the app.
const body = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  fc.constantFrom(
    '{"key": 5}',
    '{"keys": [1, 2]}',
    "\xff\xfe{",
    "\x00\x00",
    "0\r\n\r\n",
    "zz\r\nabc\r\n0\r\n\r\n",
    '5\r\n{"key\r\n',
    "ffffffffffffffffff\r\n",
  ),
  latin1(60),
);

export function rawRequest(tokens: Tokens): fc.Arbitrary<RawSpec> {
  return fc.record({
    method,
    target,
    version,
    eol: fc.constantFrom("\r\n", "\r\n", "\r\n", "\r\n", "\r\n", "\n", "\r"),
    headers: fc
      .tuple(fc.boolean(), fc.array(header(tokens), { maxLength: 4 }))
      .map(([host, rest]) => (host ? ["Host: localhost", ...rest] : rest)),
    endOfHead: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, fc.constant(false)),
    body,
  });
}

/** The bytes of a raw spec, built only when sent so a counterexample prints short. */
export function rawBytes(spec: RawSpec): Buffer {
  const target = typeof spec.target === "string" ? spec.target : `/${"a".repeat(spec.target.long)}`;
  const lines = [
    `${spec.method} ${target} ${spec.version}`,
    ...spec.headers.map((h) => (typeof h === "string" ? h : `X-Big: ${"b".repeat(h.big)}`)),
  ];
  const head = lines.join(spec.eol) + spec.eol + (spec.endOfHead ? spec.eol : "");
  return Buffer.from(head + spec.body, "latin1");
}
