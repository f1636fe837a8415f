import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FakeClock } from "../helpers/fake-clock.ts";
import { makeTempDir, startTestServer } from "../helpers/test-server.ts";
import { runCli } from "./run-cli.ts";

const NOW = "2026-01-15T10:00:30.000Z";
const OLD_KEY = randomBytes(32).toString("hex");
const NEW_KEY = randomBytes(32).toString("base64");

// Every field keys.json can hold, each in the form the server writes it, so a
// round trip must give the same entries back. The counters' windows are written
// only for the key never used: the others' are those of their last_used.
const ORIGINAL = [
  {
    id: "default-key-1",
    key: "sk-convert-default-0001",
    status: "Active",
    usage: {
      requests_this_minute: 1,
      requests_this_day: 5,
    },
    last_used: "2026-01-15T10:00:10.000Z",
    created_at: "2026-01-01T08:00:00.000Z",
    deactivated_at: null,
  },
  {
    id: "openai-key-2",
    key: "sk-convert-openai-00002",
    status: "Active",
    usage: {
      requests_this_minute: 0,
      requests_this_day: 2,
    },
    last_used: "2026-01-15T09:58:01.500Z",
    created_at: "2026-01-02T08:00:00.000Z",
    deactivated_at: null,
    pool: "openai",
    limits: { rpm: 3, rpd: 100 },
    expires_at: "2027-01-01T00:00:00.000Z",
    rest_until: "2026-01-15T10:05:00.000Z",
    backoff_level: 2,
    error_streak: 1,
    half_open: true,
    probe_sent_at: "2026-01-15T09:58:01.500Z",
    outcomes: { ok: 4, rate_limited: 1, invalid: 0, error: 2 },
  },
  {
    id: "inactive-key-3",
    key: "AIzaConvertInactive0003",
    status: "Inactive",
    usage: {
      requests_this_minute: 0,
      requests_this_day: 0,
      minute_window: "1970-01-01T00:00:00.000Z",
      day_window: "1970-01-01T00:00:00.000Z",
    },
    last_used: null,
    created_at: "2026-01-03T08:00:00.000Z",
    deactivated_at: "2026-01-15T09:59:00.000Z",
  },
  {
    id: "disabled-key-4",
    key: "sk-convert-disabled-004",
    status: "Disabled",
    usage: {
      requests_this_minute: 0,
      requests_this_day: 1,
    },
    last_used: "2026-01-15T09:00:00.000Z",
    created_at: "2026-01-04T08:00:00.000Z",
    deactivated_at: "2026-01-15T09:00:01.000Z",
    outcomes: { ok: 0, rate_limited: 0, invalid: 1, error: 0 },
  },
];
const SECRETS = ORIGINAL.map((entry) => entry.key);

type Entry = Record<string, unknown>;

async function entries(file: string): Promise<Entry[]> {
  return JSON.parse(await readFile(file, "utf8"));
}

function withoutKey(entry: Entry): Entry {
  const { key: _key, key_encrypted: _sealed, ...rest } = entry;
  return rest;
}

/** Starts a server on a copy of `file` (it saves on stop) and checks it serves what the file holds. */
async function assertServed(file: string, encryptionKey?: string): Promise<void> {
  const dir = await makeTempDir();
  await copyFile(file, join(dir, "keys.json"));
  const clock = new FakeClock(NOW);
  const copy = await startTestServer(
    encryptionKey ? { encryptionKey } : {},
    { clock: clock.now },
    dir,
  );
  try {
    const keys = await (await copy.request("/keys")).json();
    assert.deepEqual(
      keys.map((key: { id: string }) => key.id).sort(),
      ORIGINAL.map((entry) => entry.id).sort(),
    );
    // the only key free to go now: the openai key rests, the others are inactive or disabled
    const next = await (await copy.request("/next")).json();
    assert.equal(next.api_key, "sk-convert-default-0001");
  } finally {
    await copy.stop();
  }
}

function assertNoSecrets(output: string): void {
  for (const secret of [...SECRETS, OLD_KEY, NEW_KEY]) {
    assert.equal(output.includes(secret), false, "no key string or encryption key in the output");
  }
}

async function plainFile(): Promise<string> {
  const file = join(await makeTempDir(), "keys.json");
  await writeFile(file, JSON.stringify(ORIGINAL, null, 2));
  return file;
}

describe("keys-file convert", () => {
  it("plain -> encrypted -> another key -> plain keeps every field, and the server serves each step", async () => {
    const file = await plainFile();
    const dir = join(file, "..");
    const newKeyFile = join(dir, "new.key");
    await writeFile(newKeyFile, `${NEW_KEY}\n`);

    const encrypt = await runCli(
      ["keys-file", "convert", "--keys-file", file, "--from", "plain", "--to", "env:OLD"],
      { env: { OLD: OLD_KEY } },
    );
    assert.equal(encrypt.code, 0, encrypt.stderr);
    assert.equal(encrypt.stdout, `converted 4 keys in ${file}: plain -> encrypted (env:OLD)\n`);
    const encrypted = await entries(file);
    assertNoSecrets(await readFile(file, "utf8"));
    assert.deepEqual(encrypted.map(withoutKey), ORIGINAL.map(withoutKey));
    assert.ok(encrypted.every((entry) => typeof entry.key_encrypted === "string"));
    await assertServed(file, OLD_KEY);

    // the keys file named by KEYS_FILE, as for serve
    const rekey = await runCli(
      ["keys-file", "convert", "--from", "env:OLD", "--to", `file:${newKeyFile}`],
      { env: { OLD: OLD_KEY, KEYS_FILE: file } },
    );
    assert.equal(rekey.code, 0, rekey.stderr);
    const rekeyed = await entries(file);
    assert.deepEqual(rekeyed.map(withoutKey), ORIGINAL.map(withoutKey));
    rekeyed.forEach((entry, index) => {
      assert.notEqual(entry.key_encrypted, encrypted[index]?.key_encrypted);
    });
    await assertServed(file, NEW_KEY);

    const decrypt = await runCli([
      "keys-file",
      "convert",
      "--keys-file",
      file,
      "--from",
      `file:${newKeyFile}`,
      "--to",
      "plain",
    ]);
    assert.equal(decrypt.code, 0, decrypt.stderr);
    assert.deepEqual(await entries(file), ORIGINAL);
    await assertServed(file);
    for (const run of [encrypt, rekey, decrypt]) assertNoSecrets(run.stdout + run.stderr);
  });

  it("the retired key opens the file no more: exit 1, the file left byte-identical", async () => {
    const file = await plainFile();
    const env = { OLD: OLD_KEY, NEW: NEW_KEY };
    const convert = (from: string, to: string) =>
      runCli(["keys-file", "convert", "--keys-file", file, "--from", from, "--to", to], { env });
    assert.equal((await convert("plain", "env:NEW")).code, 0);
    const text = await readFile(file, "utf8");

    const wrongKey = await convert("env:OLD", "plain");
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /entry 0: cannot be decrypted with this encryption key/);
    const notPlain = await convert("plain", "env:OLD");
    assert.equal(notPlain.code, 1);
    assert.match(notPlain.stderr, /holds encrypted keys .*give their key with --from env:VARIABLE/);
    for (const run of [wrongKey, notPlain]) {
      assert.equal(run.stdout, "");
      assertNoSecrets(run.stderr);
    }
    assert.equal(await readFile(file, "utf8"), text);
  });

  it("a plain file given --from a key: exit 1, told to use --from plain", async () => {
    const file = await plainFile();
    const text = await readFile(file, "utf8");
    const result = await runCli(
      ["keys-file", "convert", "--keys-file", file, "--from", "env:OLD", "--to", "plain"],
      { env: { OLD: OLD_KEY } },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /holds plain keys .*it is not encrypted: use --from plain/);
    assert.equal(await readFile(file, "utf8"), text);
  });

  // Refused as the server's load would refuse them, naming the same entry.
  const repeats: [name: string, text: string][] = [
    ["a key twice", '[{"key": "sk-twice-0000000001"}, {"key": "sk-twice-0000000001"}]\n'],
    [
      "a key twice before a bad entry (the first fault is named)",
      '[{"key": "sk-twice-0000000001"}, {"key": "sk-twice-0000000001"}, {"key": "has a space"}]\n',
    ],
    [
      "a key string that is another key's id",
      '[{"id": "sk-taken-as-id-001", "key": "sk-first-0000001"}, {"key": "sk-taken-as-id-001"}]\n',
    ],
  ];

  for (const [name, text] of repeats) {
    it(`${name}: exit 1, naming entry 1, the file left byte-identical`, async () => {
      const file = join(await makeTempDir(), "keys.json");
      await writeFile(file, text);
      const result = await runCli(
        ["keys-file", "convert", "--keys-file", file, "--from", "plain", "--to", "env:NEW"],
        { env: { NEW: NEW_KEY } },
      );
      assert.equal(result.code, 1);
      assert.match(result.stderr, /keys\.json: entry 1: the same key appears earlier in the file/);
      assert.equal(await readFile(file, "utf8"), text);
    });
  }

  it("a missing keys file: exit 1, and no file is created", async () => {
    const file = join(await makeTempDir(), "keys.json");
    const result = await runCli(
      ["keys-file", "convert", "--keys-file", file, "--from", "plain", "--to", "env:NEW"],
      { env: { NEW: NEW_KEY } },
    );
    assert.equal(result.code, 1);
    assert.match(result.stderr, /keys\.json: cannot read the file \(ENOENT\)/);
    await assert.rejects(readFile(file), { code: "ENOENT" });
  });
});

describe("keys-file convert usage errors: exit 2, nothing written, no value quoted", () => {
  const BAD = "not-a-32-byte-key-but-secret";
  const cases: [string, string[], RegExp][] = [
    ["the key itself as --to", ["--to", OLD_KEY], /--to must be plain, env:VARIABLE or file:PATH/],
    [
      "a variable holding no encryption key",
      ["--to", "env:BAD"],
      /--to env:BAD must hold 64 hex characters or the base64 of 32 bytes/,
    ],
    ["an unset variable", ["--to", "env:UNSET_KEY"], /--to env:UNSET_KEY: the variable is not set/],
    [
      "an unreadable key file",
      ["--to", "file:/nonexistent/new.key"],
      /--to file:\/nonexistent\/new\.key: cannot read the file \(ENOENT\)/,
    ],
    ["no --to", [], /required option '--to <source>'/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const file = await plainFile();
      const text = await readFile(file, "utf8");
      const result = await runCli(
        ["keys-file", "convert", "--keys-file", file, "--from", "plain", ...args],
        { env: { BAD } },
      );
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, message);
      assert.equal(result.stderr.includes(BAD), false);
      assertNoSecrets(result.stderr);
      assert.equal(await readFile(file, "utf8"), text);
    });
  }
});
