import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { Secret } from "../../src/core/secret.ts";
import { KeyCipher, parseEncryptionKey } from "../../src/store/key-cipher.ts";
import { runUntilExit, spawnServer } from "../helpers/server-process.ts";
import { makeTempDir, request, startTestServer } from "../helpers/test-server.ts";

const ENCRYPTION_KEY = randomBytes(32).toString("hex");
const OTHER_KEY = randomBytes(32).toString("base64url");
const SECRETS = [
  "sk-encrypted-at-rest-0001",
  "sk-encrypted-at-rest-0002",
  "AIzaEncryptedAtRest0003",
];

interface Entry {
  id: string;
  key?: string;
  key_encrypted?: string;
  [field: string]: unknown;
}

async function entries(file: string): Promise<Entry[]> {
  return JSON.parse(await readFile(file, "utf8"));
}

/** `v1:<iv>:<tag>:<ciphertext>` split into its parts. */
function parts(sealed: string | undefined): { iv: string; tag: string; body: string } {
  const [version, iv = "", tag = "", body = ""] = (sealed ?? "").split(":");
  assert.equal(version, "v1");
  return { iv, tag, body };
}

/** A keys.json written by a server under ENCRYPTION_KEY, holding the first two secrets. */
async function encryptedFile(): Promise<string> {
  const server = await startTestServer({ encryptionKey: ENCRYPTION_KEY });
  try {
    for (const key of SECRETS.slice(0, 2)) {
      const added = await server.request("/add", { method: "POST", json: { key } });
      assert.equal(added.status, 201);
    }
    await server.close();
    return await readFile(server.keysFile, "utf8");
  } finally {
    await server.stop();
  }
}

describe("with ENCRYPTION_KEY set", () => {
  it("keys.json holds only ciphertext, and a restart with the same key serves the keys", async () => {
    const dir = await makeTempDir();
    const file = join(dir, "keys.json");
    const env = { ENCRYPTION_KEY };
    const first = await spawnServer(["--keys-file", file], env);
    const added = await request(first.url, "/add_bulk", {
      method: "POST",
      json: { keys: SECRETS },
    });
    assert.equal(added.status, 200);
    first.child.kill("SIGTERM");
    assert.equal(await first.exited, 0);

    const text = await readFile(file, "utf8");
    for (const secret of [...SECRETS, ENCRYPTION_KEY]) {
      assert.equal(text.includes(secret), false, "no key string or encryption key in the file");
    }
    const saved = await entries(file);
    assert.equal(saved.length, 3);
    for (const entry of saved) {
      assert.equal(Object.hasOwn(entry, "key"), false);
      assert.equal(typeof entry.key_encrypted, "string");
    }
    const ivs = new Set(saved.map((entry) => parts(entry.key_encrypted).iv));
    assert.equal(ivs.size, 3, "a fresh IV for every key");

    const second = await spawnServer(["--keys-file", file], env);
    const served = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const next = await request(second.url, "/next");
      assert.equal(next.status, 200);
      served.add((await next.json()).api_key);
    }
    second.child.kill("SIGTERM");
    assert.equal(await second.exited, 0);
    assert.deepEqual([...served].sort(), [...SECRETS].sort());
    const logs = [...first.lines, ...second.lines].join("\n");
    assert.equal(logs.includes(ENCRYPTION_KEY), false, "the encryption key is never logged");
    // The counters changed and were saved; the key strings were not sealed anew.
    assert.deepEqual(
      (await entries(file)).map((entry) => entry.key_encrypted),
      saved.map((entry) => entry.key_encrypted),
    );
  });

  it("the same key string in two files gets a different IV and ciphertext", async () => {
    const sealed: string[] = [];
    for (let run = 0; run < 2; run++) {
      const server = await startTestServer({ encryptionKey: ENCRYPTION_KEY });
      try {
        await server.request("/add", { method: "POST", json: { key: SECRETS[0] } });
        await server.close();
        const [entry] = await entries(server.keysFile);
        sealed.push(entry?.key_encrypted ?? "");
      } finally {
        await server.stop();
      }
    }
    const [a, b] = sealed.map(parts);
    assert.notEqual(a?.iv, b?.iv);
    assert.notEqual(a?.body, b?.body);
  });
});

describe("the ciphertexts a KeyCipher keeps between saves", () => {
  const cipher = () => new KeyCipher(parseEncryptionKey(ENCRYPTION_KEY) as Buffer);

  it("gives a key string the same ciphertext for the same id, whichever Secret holds it", () => {
    const keys = cipher();
    const first = keys.seal(new Secret("sk-kept-ciphertext-1"), "a");
    assert.equal(keys.seal(new Secret("sk-kept-ciphertext-1"), "a"), first);
    const moved = keys.seal(new Secret("sk-kept-ciphertext-1"), "b");
    assert.notEqual(moved, first);
    assert.equal(keys.open(moved, "b")?.reveal(), "sk-kept-ciphertext-1");
  });

  it("keeps, after a save, only the ciphertexts that save wrote", () => {
    const keys = cipher();
    const gone = keys.seal(new Secret("sk-removed-before-save"), "a");
    const kept = keys.seal(new Secret("sk-still-in-the-pool"), "b");
    keys.beginSave();
    assert.equal(keys.seal(new Secret("sk-still-in-the-pool"), "b"), kept);
    keys.endSave();
    assert.equal(keys.seal(new Secret("sk-still-in-the-pool"), "b"), kept);
    assert.notEqual(keys.seal(new Secret("sk-removed-before-save"), "a"), gone);
  });
});

describe("an encrypted keys.json that cannot be opened", () => {
  let sealedFile: string;
  before(async () => {
    sealedFile = await encryptedFile();
  });

  const cases: {
    name: string;
    env: () => Record<string, string>;
    content: () => string;
    message: RegExp;
  }[] = [
    {
      name: "a wrong encryption key",
      env: () => ({ ENCRYPTION_KEY: OTHER_KEY }),
      content: () => sealedFile,
      message:
        /entry 0: cannot be decrypted with this encryption key \(wrong key, or the entry was altered\)/,
    },
    {
      name: "no encryption key",
      env: () => ({}),
      content: () => sealedFile,
      message:
        /holds encrypted keys \(entry 0 is one\), and no encryption key was given; set ENCRYPTION_KEY/,
    },
    {
      name: "an altered ciphertext",
      env: () => ({ ENCRYPTION_KEY }),
      content: () => {
        const saved = JSON.parse(sealedFile) as Entry[];
        const { iv, tag, body } = parts(saved[1]?.key_encrypted);
        const middle = Math.floor(body.length / 2);
        const flipped = body[middle] === "A" ? "B" : "A";
        const altered = `${body.slice(0, middle)}${flipped}${body.slice(middle + 1)}`;
        (saved[1] as Entry).key_encrypted = `v1:${iv}:${tag}:${altered}`;
        return JSON.stringify(saved);
      },
      message: /entry 1: cannot be decrypted with this encryption key/,
    },
    {
      name: "ciphertexts swapped between two entries",
      env: () => ({ ENCRYPTION_KEY }),
      content: () => {
        const [first, second] = JSON.parse(sealedFile) as [Entry, Entry];
        [first.key_encrypted, second.key_encrypted] = [second.key_encrypted, first.key_encrypted];
        return JSON.stringify([first, second]);
      },
      message: /entry 0: cannot be decrypted with this encryption key/,
    },
    {
      name: "a plain file under an encryption key",
      env: () => ({ ENCRYPTION_KEY }),
      content: () => JSON.stringify(SECRETS.map((key) => ({ key }))),
      message:
        /holds plain keys \(entry 0 is one\), and an encryption key was given; encrypt it first with "api-key-rotator keys-file convert --from plain --to env:ENCRYPTION_KEY"/,
    },
  ];

  for (const { name, env, content, message } of cases) {
    // A server that wrongly starts would never exit: the timeout turns that into a failure.
    it(`${name}: refused at start (exit 1), the file left byte-identical`, {
      timeout: 30_000,
    }, async () => {
      const file = join(await makeTempDir(), "keys.json");
      const text = content();
      await writeFile(file, text);
      const result = await runUntilExit(["--keys-file", file], env());
      assert.equal(result.code, 1, result.stderr);
      assert.match(result.stderr, message);
      for (const secret of [...SECRETS, ENCRYPTION_KEY, OTHER_KEY]) {
        assert.equal(result.stderr.includes(secret), false, "no secret in the message");
      }
      assert.equal(await readFile(file, "utf8"), text);
    });
  }
});

describe("an encryption key that is not one", () => {
  const values: [string, string][] = [
    ["too short", "00ff"],
    ["33 bytes of hex", `${ENCRYPTION_KEY}00`],
    ["a passphrase", "correct horse battery staple"],
    // most likely a substitution that failed: refused rather than read as "no encryption"
    ["set but empty", ""],
  ];
  for (const [name, value] of values) {
    it(`${name}: exit 2, saying what it must be, never quoting it`, {
      timeout: 30_000,
    }, async () => {
      const dir = await makeTempDir();
      const result = await runUntilExit(["--keys-file", join(dir, "keys.json")], {
        ENCRYPTION_KEY: value,
      });
      assert.equal(result.code, 2);
      assert.match(
        result.stderr,
        /--encryption-key \(ENCRYPTION_KEY\) must be 64 hex characters or the base64 of 32 bytes/,
      );
      if (value !== "") assert.equal(result.stderr.includes(value), false);
    });
  }
});
