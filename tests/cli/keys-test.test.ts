import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { KeyTestJson } from "../../src/cli/admin-client.ts";
import { type FakeProvider, startFakeProvider } from "../providers/fake-provider.ts";
import {
  ADMIN_TOKEN,
  type KeyTestApp,
  type StoredKey,
  startKeyTestApp,
} from "../providers/key-test-app.ts";
import { closedPortUrl, runCli } from "./run-cli.ts";

const GOOD: StoredKey = { id: "key-good", secret: "sk-cli-good-00000000000000", pool: "openai" };
const BAD: StoredKey = { id: "key-bad", secret: "sk-cli-bad-000000000000000", pool: "openai" };
const LIMITED: StoredKey = {
  id: "key-limited",
  secret: "sk-cli-limited-00000000000",
  pool: "openai",
};
const LOOSE: StoredKey = { id: "key-loose", secret: "sk-cli-loose-0000000000000", pool: "default" };
// Characters that mean something in a URL: the CLI must encode them to reach the key.
const ODD: StoredKey = { id: "key-odd", secret: "sk-odd/%2F?q=1#frag+&x", pool: "openai" };
const KEYS = [GOOD, BAD, LIMITED, LOOSE, ODD];

let fake: FakeProvider;
let app: KeyTestApp;
let host: string;

// The route's answers depend only on the fake's fixed behaviour, so one app serves every test.
before(async () => {
  fake = await startFakeProvider({
    [GOOD.secret]: { answer: "ok" },
    [ODD.secret]: { answer: "ok" },
    [LIMITED.secret]: { answer: "rate_limited", retryAfter: "30" },
  });
  app = await startKeyTestApp(KEYS, { openai: { provider: "openai", baseUrl: fake.base.openai } });
  host = new URL(fake.base.openai).host;
});
after(async () => {
  await app.close();
  await fake.close();
});

async function keysTest(...args: string[]) {
  const result = await runCli(["keys", "test", ...args, "--url", app.url], {
    env: { API_KEY_ROTATOR_TOKEN: ADMIN_TOKEN },
  });
  for (const key of KEYS) {
    assert.ok(!result.stdout.includes(key.secret) && !result.stderr.includes(key.secret));
  }
  return result;
}

describe("keys test: exit 0 whenever the server ran the test", { concurrency: true }, () => {
  test("a working key: a table with the outcome", async () => {
    const result = await keysTest(GOOD.id);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        "ID        OUTCOME  HTTP  RETRY AFTER  MESSAGE",
        `key-good  ok       200   -            ${host} accepted the key (HTTP 200)`,
        "",
      ].join("\n"),
    );
    assert.equal(result.stderr, "");
  });

  test("an invalid key is printed, not an error", async () => {
    const result = await keysTest(BAD.id);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^key-bad {2}invalid {2}401 {3}- +\S+ rejected the key \(HTTP 401\)$/m,
    );
  });

  test("a rate-limited key shows when to retry", async () => {
    const result = await keysTest(LIMITED.id);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^key-limited {2}rate_limited {2}429 {3}30 s /m);
  });

  test("--json prints the server's answer", async () => {
    const result = await keysTest(LIMITED.id, "--json");
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout) as KeyTestJson, {
      id: LIMITED.id,
      outcome: "rate_limited",
      status: 429,
      retry_after: 30,
      message: `${host} is rate limiting the key (HTTP 429); retry in 30 s`,
    });
  });

  test("a key string is URL-encoded on its way to the route", async () => {
    const result = await keysTest(ODD.secret, "--json");
    assert.equal(result.code, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as KeyTestJson;
    assert.deepEqual([answer.id, answer.outcome], [ODD.id, "ok"]);
  });
});

describe("keys test: failures", { concurrency: true }, () => {
  test("exit 1: unknown key, with the server's message and code", async () => {
    const result = await keysTest("no-such-key");
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.equal(
      result.stderr,
      "api-key-rotator: no key with that id (or key string) (key_not_found, HTTP 404)\n",
    );
  });

  test("exit 1: the key's pool has no provider", async () => {
    const result = await keysTest(LOOSE.id);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no provider configured \(no_provider, HTTP 409\)\n$/);
  });

  test("exit 1: no token, refused by the admin guard", async () => {
    const result = await runCli(["keys", "test", GOOD.id, "--url", app.url]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\(unauthorized, HTTP 401\)/);
  });

  test("exit 1: a server without the route", async () => {
    const result = await runCli(["keys", "test", GOOD.id, "--url", fake.base.openai]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\(http_error, HTTP 404\)/);
  });

  test("exit 2: no key, or a reference no URL can carry", async () => {
    for (const args of [
      ["keys", "test"],
      ["keys", "test", ".."],
    ]) {
      const result = await runCli([...args, "--url", app.url]);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.equal(result.stdout, "");
    }
  });

  test("exit 3: nothing listening, named by address only", async () => {
    const url = await closedPortUrl();
    const result = await runCli(["keys", "test", GOOD.secret, "--url", url]);
    assert.equal(result.code, 3);
    assert.equal(
      result.stderr,
      `api-key-rotator: cannot reach the server at ${url}/: ECONNREFUSED\n`,
    );
  });
});

test("keys test --help shows an example", async () => {
  const result = await runCli(["keys", "test", "--help"]);
  assert.equal(result.code, 0);
  assert.match(
    result.stdout,
    /Example:\n {2}API_KEY_ROTATOR_TOKEN=\$ADMIN_TOKEN api-key-rotator keys test /,
  );
});
