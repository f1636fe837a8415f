import * as fc from "fast-check";

// Requests are generated as small descriptions and turned into bytes only when
// sent: a 2 MB body or a 10,000-deep array stays one line in a counterexample,
// and keys already in the pool can be named before they exist (by index).

/** A `:key` path segment. */
export type RefSpec =
  | { readonly kind: "id"; readonly index: number }
  | { readonly kind: "secret"; readonly index: number }
  | { readonly kind: "literal"; readonly text: string }
  | { readonly kind: "long"; readonly char: string; readonly length: number };

export type PathSpec =
  | { readonly kind: "route"; readonly path: string }
  | { readonly kind: "keyRoute"; readonly prefix: string; readonly ref: RefSpec }
  /** `/keys/:key/test`. */
  | { readonly kind: "keyTest"; readonly ref: RefSpec }
  | { readonly kind: "literal"; readonly path: string };

/** A query string, or its parameters (sent URL-encoded), so the checks know what the server parsed. */
export type QuerySpec =
  | string
  | { readonly kind: "params"; readonly params: readonly (readonly [string, string])[] };

/** A value sent where a key is expected. */
export type KeySpec =
  | { readonly kind: "fresh"; readonly secret: string }
  | { readonly kind: "existing"; readonly index: number }
  | { readonly kind: "value"; readonly value: unknown };

/** `expires_at`: a moment relative to the fake clock, written in RFC 3339, or any value. */
export type ExpirySpec =
  | {
      readonly kind: "in";
      readonly ms: number;
      /** `Z` or `±hh:mm`. */
      readonly zone: string;
      /** `""` or `.` and digits. */
      readonly fraction: string;
    }
  | { readonly kind: "value"; readonly value: unknown };

/** The optional fields of /add and /add_bulk; an undefined one is left out of the body. */
export interface KeyOptionsSpec {
  readonly pool: unknown;
  readonly limits: unknown;
  readonly expiresAt: ExpirySpec | undefined;
}

/** What a /report body names its key by: a key of the pool (by index), the one /next gave last, or any value. */
export type ReportRefSpec =
  | { readonly kind: "id" | "secret"; readonly index: number }
  | { readonly kind: "dispensed" }
  | { readonly kind: "value"; readonly value: unknown };

export type BodySpec =
  | {
      readonly kind: "add";
      readonly key: KeySpec;
      readonly extra: Record<string, unknown>;
      readonly options: KeyOptionsSpec;
    }
  | { readonly kind: "bulk"; readonly keys: readonly KeySpec[]; readonly options: KeyOptionsSpec }
  | {
      readonly kind: "report";
      /** Which of `id` and `key` the body holds: one is right, both or neither are not. */
      readonly fields: "id" | "key" | "both" | "neither";
      readonly ref: ReportRefSpec;
      readonly other: ReportRefSpec;
      readonly outcome: unknown;
      readonly retryAfter: unknown;
    }
  | { readonly kind: "tooMany"; readonly count: number }
  | { readonly kind: "json"; readonly value: unknown }
  | {
      readonly kind: "nested";
      readonly depth: number;
      readonly open: string;
      readonly close: string;
      readonly field: "key" | "keys" | null;
      readonly balanced: boolean;
    }
  | { readonly kind: "huge"; readonly size: number; readonly shape: "key" | "keys" | "raw" }
  | { readonly kind: "bytes"; readonly bytes: readonly number[]; readonly inKey: boolean }
  | { readonly kind: "text"; readonly text: string }
  | {
      readonly kind: "compressed";
      readonly encoding: "gzip" | "deflate" | "br";
      readonly inner: BodySpec;
      readonly corrupt: boolean;
    };

/** Who the request claims to be, and in what form. */
export type AuthSpec =
  | { readonly kind: "none" }
  | { readonly kind: "admin" | "client"; readonly form: string }
  | { readonly kind: "garbled"; readonly of: "admin" | "client"; readonly how: string }
  | { readonly kind: "raw"; readonly value: string };

export interface HeaderSpec {
  readonly auth: AuthSpec;
  readonly contentType: string | null;
  readonly origin: string | null;
  readonly secFetchSite: string | null;
  readonly contentEncoding: string | null;
  readonly extra: readonly (readonly [string, string])[];
}

export interface RequestSpec {
  readonly kind: "request";
  readonly method: string;
  readonly path: PathSpec;
  readonly query: QuerySpec;
  readonly headers: HeaderSpec;
  readonly body: BodySpec | null;
}

export type Command = RequestSpec | { readonly kind: "tick"; readonly ms: number };

const printable = fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c));
const latin1 = fc.integer({ min: 0x20, max: 0xff }).map((c) => String.fromCharCode(c));
// What fetch lets through in a header value: latin1 without DEL (control bytes
// in headers are the raw-socket test's).
const headerChar = fc
  .integer({ min: 0x20, max: 0xfe })
  .map((c) => String.fromCharCode(c < 0x7f ? c : c + 1));

/** Key strings the server must accept; 16+ characters, so a leak of one is unmistakable. */
export const validSecret: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^sk-fz-[A-Za-z0-9]{16,24}$/),
  // Every printable ASCII character, `/`, `%`, `.`, `?`, `#` and `\` included.
  fc.string({ unit: printable, minLength: 16, maxLength: 40 }).map((s) => `sk-${s}`),
  fc.stringMatching(/^[A-Za-z0-9]{16}$/).map((s) => s.padEnd(512, "k")),
);

// Mostly invalid; a random one may happen to be a valid key, which the
// checks judge by the documented format rather than by which list it came from.
const doubtfulKeyString = fc.oneof(
  fc.constantFrom(
    "",
    " ",
    "sk-has space-0000000",
    "sk-tab\t000000000000",
    "sk-newline-00000000\n",
    "sk-nul-\u0000-0000000000",
    "sk-ключ-000000000000",
    "sk-emoji-😀-000000000",
    "sk-é-0000000000000000",
    "\u202esk-rtl-000000000000",
  ),
  fc.stringMatching(/^[A-Za-z0-9]{16}$/).map((s) => s.padEnd(513, "k")),
  fc.string({ unit: "binary", minLength: 1, maxLength: 30 }),
  fc.string({ unit: latin1, minLength: 1, maxLength: 30 }),
);

const wrongTypedValue = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1e308, [], {}, ["sk-in-an-array-00000"]),
  fc.jsonValue({ maxDepth: 3 }),
);

const keySpec: fc.Arbitrary<KeySpec> = fc.oneof(
  { weight: 4, arbitrary: validSecret.map((secret) => ({ kind: "fresh" as const, secret })) },
  { weight: 2, arbitrary: fc.nat(20).map((index) => ({ kind: "existing" as const, index })) },
  { weight: 2, arbitrary: doubtfulKeyString.map((value) => ({ kind: "value" as const, value })) },
  { weight: 1, arbitrary: wrongTypedValue.map((value) => ({ kind: "value" as const, value })) },
);

/** Pool names the server must take: the configured ones, some that only keys create, corners. */
const validPoolName = fc.constantFrom(
  "default",
  "openai",
  "spare",
  "team-b",
  "x.y_z",
  "constructor",
  "0",
  "p".repeat(64),
);
// Refused, or (a leading `_`, `.`, `-`) left open by the README.
const doubtfulPoolName = fc.constantFrom(
  "",
  "Default",
  "OPENAI",
  "a b",
  "a/b",
  "team-b ",
  "é",
  "ключ",
  "p".repeat(65),
  "-lead",
  ".hidden",
  "_x",
  "__proto__",
);

const poolValue = fc.oneof(
  { weight: 8, arbitrary: validPoolName },
  { weight: 3, arbitrary: doubtfulPoolName },
  { weight: 1, arbitrary: fc.constantFrom(null, 5, true, [], {}, ["openai"]) },
);

const limitsValue = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom({ rpm: 1 }, { rpd: 2 }, { rpm: 1, rpd: 3 }, { rpm: 3 }, {}, null),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      { rpm: 0 },
      { rpd: -1 },
      { rpm: 1.5 },
      { rpm: "2" },
      { rpm: null },
      { rpm: 2 ** 53 },
      { rpm: 1e300 },
      { rpm: 1, tpm: 5 },
      { rpm: 1, extra: true },
      [],
      [1, 2],
      "1",
      5,
      true,
    ),
  },
);

const DAY_MS = 86_400_000;
const expirySpec: fc.Arbitrary<ExpirySpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("in" as const),
      // Past, now, and moments the fuzz's clock ticks reach.
      ms: fc.constantFrom(-400 * DAY_MS, -1_000, 0, 1_000, 30_000, 61_000, 600_000, DAY_MS + 1),
      zone: fc.constantFrom("Z", "Z", "+00:00", "-00:00", "+05:30", "-08:00", "+23:59"),
      fraction: fc.constantFrom("", "", ".5", ".123", ".123456789"),
    }),
  },
  {
    weight: 2,
    // Dates and times that do not exist, which Date.parse rolls over to ones that do.
    arbitrary: fc
      .constantFrom(
        "2026-02-30T00:00:00Z",
        "2026-04-31T12:00:00Z",
        "2026-01-15T24:00:00Z",
        "2025-02-29T00:00:00+01:00",
      )
      .map((value) => ({ kind: "value" as const, value })),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom<unknown>(
        "2026-01-15T10:60:00Z",
        "2026-13-01T00:00:00Z",
        "2026-01-15T10:00:00+24:00",
        "2026-01-15T23:59:60Z",
        "2026-01-15t10:00:00z",
        "2026-01-15 10:00:00Z",
        "2026-01-15T10:00:00",
        "2026-01-15",
        "2026-01-15T10:00:00.Z",
        "2026-01-15T10:00:00.1234567890Z",
        "+002026-01-15T10:00:00Z",
        "2000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999Z",
        "tomorrow",
        "",
        1_768_471_200_000,
        null,
        true,
        {},
      )
      .map((value) => ({ kind: "value" as const, value })),
  },
);

/** Usually none of the optional fields, so plain adds stay common. */
const keyOptions: fc.Arbitrary<KeyOptionsSpec> = fc.record({
  pool: fc.option(poolValue, { nil: undefined, freq: 2 }),
  limits: fc.option(limitsValue, { nil: undefined, freq: 4 }),
  expiresAt: fc.option(expirySpec, { nil: undefined, freq: 4 }),
});

const NO_OPTIONS: KeyOptionsSpec = { pool: undefined, limits: undefined, expiresAt: undefined };

const refValue = fc
  .constantFrom<unknown>("", "zzzzzzzzzzzz", "sk-fz-no-such-key-0000", 5, null, [], {}, true)
  .map((value) => ({ kind: "value" as const, value }));

/**
 * Mostly the kind of reference the field is for, often to the key /next gave
 * last (as a caller reports on the key it used); sometimes the other kind, or junk.
 */
const reportRef = (usual: "id" | "secret"): fc.Arbitrary<ReportRefSpec> =>
  fc.oneof(
    { weight: 3, arbitrary: fc.nat(20).map((index) => ({ kind: usual, index })) },
    ...(usual === "id"
      ? [{ weight: 4, arbitrary: fc.constant({ kind: "dispensed" as const }) }]
      : []),
    {
      weight: 1,
      arbitrary: fc.nat(20).map((index) => ({
        kind: usual === "id" ? ("secret" as const) : ("id" as const),
        index,
      })),
    },
    { weight: 1, arbitrary: refValue },
  );

const reportBody: fc.Arbitrary<BodySpec> = fc
  .constantFrom("id" as const, "id" as const, "id" as const, "key" as const, "both" as const)
  .chain((fields) =>
    fc.record({
      kind: fc.constant("report" as const),
      fields: fc.oneof(
        { weight: 12, arbitrary: fc.constant(fields) },
        { weight: 1, arbitrary: fc.constant("neither" as const) },
      ),
      ref: reportRef(fields === "key" ? "secret" : "id"),
      other: reportRef("secret"),
      outcome: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom("ok", "rate_limited", "invalid", "error") },
        {
          weight: 1,
          arbitrary: fc.constantFrom<unknown>(
            "OK",
            "rate-limited",
            "",
            "valid",
            "toString",
            "__proto__",
            1,
            null,
            undefined,
          ),
        },
      ),
      retryAfter: fc.oneof(
        { weight: 3, arbitrary: fc.constant(undefined) },
        // Mostly rests the fuzz's ticks outlast, so probes follow.
        { weight: 4, arbitrary: fc.constantFrom(0, 0.001, 1, 30, 61) },
        { weight: 1, arbitrary: fc.constantFrom(600, 3600, 86_400) },
        {
          weight: 2,
          arbitrary: fc.constantFrom<unknown>(
            -1,
            -0.001,
            86_400.001,
            1e21,
            1e308,
            "30",
            null,
            true,
            [],
            {},
          ),
        },
      ),
    }),
  );

const WAIT_VALUES = {
  // Kept tiny: a wait with no key free holds the request that long.
  valid: ["0", "0.0", "0.001", "0.01", "0.02", "0.05", "00.01", "0.050"],
  invalid: ["", "abc", "-1", "-0.01", "NaN", "Infinity", "1,5", "0x1", "0.01 ", "½", "0.0.1"],
  open: [".01", "1e-2", "+0.01", "0.01e0"],
};

const nextParam = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(
      fc.constant("pool"),
      // The seeded pools most, so their caps are reached.
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom("default", "openai") },
        { weight: 2, arbitrary: validPoolName },
        { weight: 2, arbitrary: doubtfulPoolName },
      ),
    ),
  },
  {
    weight: 4,
    arbitrary: fc.tuple(
      fc.constant("wait"),
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...WAIT_VALUES.valid) },
        { weight: 2, arbitrary: fc.constantFrom(...WAIT_VALUES.invalid) },
        { weight: 1, arbitrary: fc.constantFrom(...WAIT_VALUES.open) },
      ),
    ),
  },
  {
    weight: 2,
    arbitrary: fc.tuple(fc.constant("mode"), fc.constantFrom("auto", "random", "AUTO", "")),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom("x", "pools", "Pool"), fc.constant("openai")) },
);

/** Parameters of /next (and of /keys, which reads only `pool`); two of a name happen too. */
const paramsQuery: fc.Arbitrary<QuerySpec> = fc
  .array(nextParam, { maxLength: 3 })
  .map((params) => ({ kind: "params" as const, params }));

const segmentLiteral = fc.oneof(
  fc.constantFrom(
    "/",
    "%2F",
    "%2f",
    "a%2Fb",
    "..",
    ".",
    "%2E%2E",
    "%00",
    "a%00b",
    "%E0%A4%A",
    "%",
    "%%",
    "%zz",
    "%C0%AF",
    "%FF%FE",
    "ключ",
    "%D0%BA%D0%BB%D1%8E%D1%87",
    "😀",
    "a b",
    "a+b",
    "a;b",
    "?",
    "#",
    "__proto__",
    "constructor",
    "hasOwnProperty",
    "zzzzzzzzzzzz",
    "sk-fz-no-such-key",
    "",
  ),
  fc.string({ unit: "binary", maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: printable, maxLength: 20 }),
);

const refSpec: fc.Arbitrary<RefSpec> = fc.oneof(
  { weight: 3, arbitrary: fc.nat(20).map((index) => ({ kind: "id" as const, index })) },
  { weight: 3, arbitrary: fc.nat(20).map((index) => ({ kind: "secret" as const, index })) },
  { weight: 3, arbitrary: segmentLiteral.map((text) => ({ kind: "literal" as const, text })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("long" as const),
      char: fc.constantFrom("k", "%41", "/", "é"),
      // Stays under Node's 16 KB header limit: longer lines are the raw-socket test's.
      length: fc.integer({ min: 100, max: 2_000 }),
    }),
  },
);

const ROUTES = ["/next", "/keys", "/stats", "/healthz", "/add", "/add_bulk", "/report"];
const KEY_ROUTES = ["/delete", "/deactivate", "/reactivate"];

const pathSpec: fc.Arbitrary<PathSpec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.constantFrom(...ROUTES).map((path) => ({ kind: "route" as const, path })),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("keyRoute" as const),
      prefix: fc.constantFrom(...KEY_ROUTES),
      ref: refSpec,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("keyTest" as const), ref: refSpec }) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          "/",
          "/NEXT",
          "/next/",
          "//next",
          "/next/..",
          "/keys/../next",
          "/%6Eext",
          "/keys%2F",
          "/add_bulk/extra",
          "/delete",
          "/delete/",
          "/delete/a/b",
          "/deactivate//",
          "/ADD",
          "/healthz/x",
          "/report/",
          "/keys//test",
          "/keys/test",
          "/%00",
          "/%E0%A4%A",
          "/ключ",
        ),
        fc.webPath(),
        fc.string({ unit: printable, maxLength: 40 }).map((s) => `/${s}`),
      )
      .map((path) => ({ kind: "literal" as const, path })),
  },
);

const queryPart = fc.oneof(
  fc.constantFrom(
    "mode=auto",
    "mode=random",
    "mode=AUTO",
    "mode=",
    "mode",
    "mode[]=auto",
    "mode=auto%00",
    "mode=%E0%A4%A",
    "mode=ключ",
    "__proto__=1",
    "constructor=x",
    "%%%",
    "=",
    "&&",
  ),
  fc
    .tuple(fc.string({ unit: printable, maxLength: 10 }), fc.string({ maxLength: 20 }))
    .map(([k, v]) => `${k}=${v}`),
);

const query: fc.Arbitrary<QuerySpec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  {
    weight: 3,
    arbitrary: fc
      .array(queryPart, { minLength: 1, maxLength: 4 })
      .map((parts) => `?${parts.join("&")}`),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 4_000 }).map((n) => `?mode=${"a".repeat(n)}`) },
  { weight: 2, arbitrary: paramsQuery },
);

const authSpec: fc.Arbitrary<AuthSpec> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: "none" as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constantFrom("admin" as const, "client" as const),
      // Forms the server takes as that token: the scheme is case-insensitive (RFC 7235).
      form: fc.constantFrom("Bearer %s", "bearer %s", "BEARER %s", "Bearer   %s  "),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("garbled" as const),
      of: fc.constantFrom("admin" as const, "client" as const),
      how: fc.constantFrom(
        "Bearer %sx",
        "Bearer x%s",
        "Bearer %s %s",
        "Bearer\t%s",
        "Basic %s",
        "%s",
        "Bearer",
        "Bearer ",
        "Bearer %S",
        "Token %s",
        "Bearer %s,Bearer %s",
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .string({ unit: headerChar, maxLength: 60 })
      .map((value) => ({ kind: "raw" as const, value })),
  },
);

const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant("application/json") },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      null,
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "application/json; charset=latin1",
      "application/json; charset=utf-16",
      "application/json; charset=bogus",
      "application/json;;;",
      "application/vnd.api+json",
      "application/merge-patch+json",
      "application/json, text/plain",
      "text/plain",
      "text/json",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/*",
      "*/*",
      "",
      "garbage",
      "application/json; boundary=\u00ff",
    ),
  },
);

const extraHeaders = fc.array(
  fc.tuple(
    fc.oneof(
      fc.constantFrom(
        "accept",
        "accept-encoding",
        "cookie",
        "x-forwarded-for",
        "if-none-match",
        "range",
      ),
      fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
    ),
    // fetch refuses an empty value, and trims the ends anyway.
    fc.string({ unit: headerChar, maxLength: 40 }).map((v) => `v${v}`.trim()),
  ),
  { maxLength: 3 },
);

const origin = fc.constantFrom("https://evil.example", "null", "http://127.0.0.1");
const secFetchSite = fc.constantFrom("cross-site", "same-site", "same-origin", "none", "x");
const contentEncoding = fc.constantFrom("identity", "bogus", "gzip, gzip", "x-gzip");

/** Usually `usual`, sometimes anything from `other`. */
const mostly = <T, U>(usual: T, other: fc.Arbitrary<U>, weight = 6): fc.Arbitrary<T | U> =>
  fc.oneof({ weight, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: other });

const headerSpec: fc.Arbitrary<HeaderSpec> = fc.record({
  auth: authSpec,
  contentType,
  origin: mostly(null, origin, 8),
  secFetchSite: mostly(null, secFetchSite, 8),
  contentEncoding: mostly(null, contentEncoding, 12),
  extra: extraHeaders,
});

const hugeBody = fc.record({
  kind: fc.constant("huge" as const),
  size: fc.integer({ min: 900_000, max: 2_100_000 }),
  shape: fc.constantFrom("key" as const, "keys" as const, "raw" as const),
});

const plainBody: fc.Arbitrary<BodySpec> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant("add" as const),
      key: keySpec,
      extra: fc.oneof(
        { weight: 4, arbitrary: fc.constant({}) },
        {
          weight: 1,
          arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), {
            maxKeys: 3,
          }),
        },
      ),
      options: keyOptions,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("bulk" as const),
      keys: fc.array(keySpec, { maxLength: 12 }),
      options: keyOptions,
    }),
  },
  { weight: 3, arbitrary: reportBody },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("tooMany" as const),
      count: fc.integer({ min: 10_001, max: 10_050 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        wrongTypedValue,
        fc.record({ keys: wrongTypedValue }),
        fc.record({ key: wrongTypedValue, keys: wrongTypedValue }),
      )
      .map((value) => ({ kind: "json" as const, value })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        depth: fc.oneof(fc.constant(10_000), fc.integer({ min: 1, max: 300_000 })),
        // `[[[…]]]` and `{"a":{"a":…}}`.
        brackets: fc.constantFrom(["[", "]"], ['{"a":', "}"]),
        field: fc.constantFrom("key" as const, "keys" as const, null),
        balanced: fc.boolean(),
      })
      .map(({ brackets: [open = "", close = ""], ...rest }) => ({
        kind: "nested" as const,
        open,
        close,
        ...rest,
      })),
  },
  { weight: 1, arbitrary: hugeBody },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("bytes" as const),
      bytes: fc.oneof(
        fc.constantFrom(
          [0xff],
          [0xfe, 0xff],
          [0xc0, 0x80],
          [0x80],
          [0xe0, 0xa4],
          [0xed, 0xa0, 0x80],
          [0xf4, 0x90, 0x80, 0x80],
          [0x00],
        ),
        fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 64 }),
      ),
      inKey: fc.boolean(),
    }),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom(
          "",
          "{",
          "{}",
          "[]",
          "null",
          '"sk-a-bare-string-000000"',
          '{"key": "sk-nul-\u0000-in-raw-json0"}',
          '{"key": "sk-escaped-nul-\\u0000-000"}',
          '{"key": "sk-dup-000000000000", "key": 5}',
          '{"__proto__": {"key": "sk-proto-00000000000"}}',
          '{"constructor": {"prototype": {"key": 1}}}',
          '{"key": "\\ud800"}',
          "key=sk-form-00000000000",
          "\ufeff{}",
        ),
        fc.string({ unit: "binary", maxLength: 200 }),
      )
      .map((text) => ({ kind: "text" as const, text })),
  },
);

const bodySpec: fc.Arbitrary<BodySpec> = fc.oneof(
  { weight: 10, arbitrary: plainBody },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("compressed" as const),
      encoding: fc.constantFrom("gzip" as const, "deflate" as const, "br" as const),
      inner: plainBody,
      corrupt: fc.boolean(),
    }),
  },
);

const METHODS = [
  "GET",
  "POST",
  "PUT",
  "DELETE",
  "PATCH",
  "HEAD",
  "OPTIONS",
  "PROPFIND",
  "M-SEARCH",
  "PURGE",
  "LOCK",
];

/** Anything at all: most of these miss every route or fail the first check they meet. */
const wildRequest: fc.Arbitrary<RequestSpec> = fc.record({
  kind: fc.constant("request" as const),
  method: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("GET", "POST", "DELETE") },
    { weight: 2, arbitrary: fc.constantFrom(...METHODS) },
  ),
  path: pathSpec,
  query,
  headers: headerSpec,
  body: fc.option(bodySpec, { freq: 4 }),
});

const addBody = fc.record({
  kind: fc.constant("add" as const),
  key: keySpec,
  extra: fc.constant({}),
  options: mostly(NO_OPTIONS, keyOptions, 1),
});
const bulkBody = fc.record({
  kind: fc.constant("bulk" as const),
  keys: fc.array(keySpec, { maxLength: 12 }),
  options: mostly(NO_OPTIONS, keyOptions, 1),
});

// [weight, route, its method, the token it needs]; /next most, so the caps are reached.
const TARGETS = [
  [10, "/next", "GET", "client"],
  [4, "/report", "POST", "client"],
  [1, "/keys/:key/test", "POST", "admin"],
  [1, "/keys", "GET", "admin"],
  [1, "/stats", "GET", "admin"],
  [3, "/add", "POST", "admin"],
  [2, "/add_bulk", "POST", "admin"],
  [1, "/delete", "DELETE", "admin"],
  [2, "/deactivate", "POST", "admin"],
  [1, "/reactivate", "POST", "admin"],
] as const;

const aimedRef: fc.Arbitrary<RefSpec> = fc.oneof(
  { weight: 6, arbitrary: fc.nat(20).map((index) => ({ kind: "id" as const, index })) },
  { weight: 1, arbitrary: refSpec },
);

const aimedPath = (route: string): fc.Arbitrary<PathSpec> => {
  if (route === "/keys/:key/test") {
    return fc.record({ kind: fc.constant("keyTest" as const), ref: aimedRef });
  }
  return KEY_ROUTES.includes(route)
    ? fc.record({
        kind: fc.constant("keyRoute" as const),
        prefix: fc.constant(route),
        ref: aimedRef,
      })
    : fc.constant({ kind: "route" as const, path: route });
};

/** /next and /keys read parameters; elsewhere a query is only noise. */
const aimedQuery = (route: string): fc.Arbitrary<QuerySpec> =>
  route === "/next" || route === "/keys"
    ? fc.oneof(
        { weight: 3, arbitrary: fc.constant("") },
        { weight: 4, arbitrary: paramsQuery },
        { weight: 1, arbitrary: query },
      )
    : mostly("", query);

const aimedBody = (route: string): fc.Arbitrary<BodySpec | null> => {
  if (route === "/add" || route === "/add_bulk") {
    return fc.oneof(
      { weight: 8, arbitrary: route === "/add" ? addBody : bulkBody },
      { weight: 1, arbitrary: hugeBody },
      { weight: 2, arbitrary: bodySpec },
    );
  }
  if (route === "/report") {
    return fc.oneof({ weight: 8, arbitrary: reportBody }, { weight: 2, arbitrary: bodySpec });
  }
  return mostly(null, bodySpec);
};

/** A request aimed at a real route, right in every part but (sometimes) one or two. */
const aimedRequest: fc.Arbitrary<RequestSpec> = fc
  .oneof(...TARGETS.map(([weight, ...target]) => ({ weight, arbitrary: fc.constant(target) })))
  .chain(([route, method, token]) =>
    fc.record({
      kind: fc.constant("request" as const),
      method: mostly(method, fc.constantFrom(...METHODS)),
      path: aimedPath(route),
      query: aimedQuery(route),
      headers: fc.record({
        auth: mostly({ kind: token, form: "Bearer %s" }, authSpec),
        contentType: mostly("application/json", contentType),
        origin: mostly(null, origin, 12),
        secFetchSite: mostly(null, secFetchSite, 12),
        contentEncoding: mostly(null, contentEncoding, 12),
        extra: mostly([], extraHeaders),
      }),
      body: aimedBody(route),
    }),
  );

const requestSpec: fc.Arbitrary<RequestSpec> = fc.oneof(
  { weight: 2, arbitrary: wildRequest },
  { weight: 5, arbitrary: aimedRequest },
);

export const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 12, arbitrary: requestSpec },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(1_000, 30_000, 61_000, 600_000, 3_600_000, 86_400_000)
      .map((ms) => ({ kind: "tick" as const, ms })),
  },
);

/** A well-formed request from a caller with the right token: what its one wrong part would hide. */
const plainRequest = (
  method: string,
  path: PathSpec,
  query: QuerySpec,
  token: "admin" | "client",
  body: BodySpec | null,
): RequestSpec => ({
  kind: "request",
  method,
  path,
  query,
  headers: {
    auth: { kind: token, form: "Bearer %s" },
    contentType: "application/json",
    origin: null,
    secFetchSite: null,
    contentEncoding: null,
    extra: [],
  },
  body,
});

const validReport: fc.Arbitrary<BodySpec> = fc.record({
  kind: fc.constant("report" as const),
  fields: fc.constant("id" as const),
  ref: fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: "dispensed" as const }) },
    { weight: 1, arbitrary: fc.nat(20).map((index) => ({ kind: "id" as const, index })) },
  ),
  other: fc.constant({ kind: "dispensed" as const }),
  outcome: fc.constantFrom("ok", "ok", "rate_limited", "rate_limited", "error", "invalid"),
  retryAfter: fc.constantFrom(undefined, undefined, 0, 1, 30, 61),
});

/**
 * Callers using keys and reporting on them, with time passing: rests, probes,
 * error streaks, pool rests and Disabled keys, which random requests reach
 * only now and then.
 */
export const reportingCommand: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .constantFrom("", "", "?mode=random", "?wait=0.01")
      .map((query) => plainRequest("GET", { kind: "route", path: "/next" }, query, "client", null)),
  },
  {
    weight: 4,
    arbitrary: validReport.map((body) =>
      plainRequest("POST", { kind: "route", path: "/report" }, "", "client", body),
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        prefix: fc.constantFrom("/deactivate", "/reactivate"),
        index: fc.nat(20),
      })
      .map(({ prefix, index }) =>
        plainRequest(
          "POST",
          { kind: "keyRoute", prefix, ref: { kind: "id", index } },
          "",
          "admin",
          null,
        ),
      ),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(1_000, 5_000, 30_000, 61_000)
      .map((ms) => ({ kind: "tick" as const, ms })),
  },
);
