import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { ADMIN, CLIENT, closedPortUrl, runCli, silentServer } from "./run-cli.ts";

const KEY = "sk-exit-codes-0000000000";

let server: TestServer;

before(async () => {
  server = await startTestServer({ adminToken: [ADMIN], clientToken: [CLIENT] });
  const response = await server.request("/add", {
    method: "POST",
    token: ADMIN,
    json: { key: KEY },
  });
  assert.equal(response.status, 201);
});
after(() => server.stop());

// Each case is its own process with nothing shared, so they run side by side.
describe("exit 2: usage errors, before anything is sent", { concurrency: true }, () => {
  // Without the usage check each of these would reach for localhost:8080 and exit 3 (or 0).
  const cases: string[][] = [
    ["keys", "list", "--bogus"],
    ["keys", "delete"],
    // URL parsers would resolve this path segment away, so it cannot name a key.
    ["keys", "delete", ".."],
    ["keys", "add"],
    ["keys", "import"],
    ["keys"],
    ["frobnicate"],
    ["next", "--mode", "sideways"],
    ["stats", "--timeout", "0"],
    ["stats", "--url", "localhost:8080"],
    ["stats", "--url", "ftp://127.0.0.1/"],
  ];
  for (const args of cases) {
    test(args.join(" "), async () => {
      const result = await runCli(args);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stdout, "");
      assert.notEqual(result.stderr, "");
    });
  }

  test("a --url with credentials is refused without echoing them", async () => {
    const result = await runCli(["stats", "--url", "http://admin:hunter2-secret@127.0.0.1:9/"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /must not contain credentials; use --token/);
    assert.ok(!result.stderr.includes("hunter2"));
  });

  test("a token that cannot go in a header is refused without echoing it", async () => {
    const result = await runCli(["stats", "--url", server.url], {
      env: { API_KEY_ROTATOR_TOKEN: "line-one-secret\nline-two" },
    });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /printable ASCII without spaces/);
    assert.ok(!result.stderr.includes("secret"));
  });
});

describe("--help", { concurrency: true }, () => {
  const commands = [
    ["keys", "add"],
    ["keys", "import"],
    ["keys", "list"],
    ["keys", "delete"],
    // URL parsers would resolve this path segment away, so it cannot name a key.
    ["keys", "delete", ".."],
    ["keys", "deactivate"],
    ["keys", "reactivate"],
    ["stats"],
    ["next"],
  ];
  for (const command of commands) {
    test(`${command.join(" ")} --help shows an example and exits 0`, async () => {
      const result = await runCli([...command, "--help"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(
        result.stdout,
        new RegExp(`\\nExample:\\n(.*\\n)*.*api-key-rotator ${command.join(" ")}`),
      );
      assert.match(result.stdout, /--url <url>.*\n.*API_KEY_ROTATOR_URL/);
    });
  }
});

describe("exit 3: the server cannot be reached", () => {
  test("connection refused names the URL, never the token", async () => {
    const url = await closedPortUrl();
    for (const args of [["keys", "list"], ["next"], ["keys", "delete", KEY]]) {
      const result = await runCli([...args, "--url", url, "--token", ADMIN]);
      assert.equal(result.code, 3, args.join(" "));
      assert.equal(result.stdout, "");
      assert.equal(
        result.stderr,
        `api-key-rotator: cannot reach the server at ${url}/: ECONNREFUSED\n`,
      );
    }
  });

  test("a server that never answers times out after --timeout", async () => {
    const silent = await silentServer();
    try {
      const result = await runCli(["stats", "--url", silent.url, "--timeout", "0.2"]);
      assert.equal(result.code, 3);
      assert.equal(
        result.stderr,
        `api-key-rotator: cannot reach the server at ${silent.url}/: no answer within 0.2 s\n`,
      );
    } finally {
      await silent.close();
    }
  });
});

describe("exit 1: the server says no", () => {
  test("a wrong token is a 401, and the token is not repeated", async () => {
    const wrong = "wrong-token-shhhh-0123456789";
    const result = await runCli(["keys", "list", "--url", server.url, "--token", wrong]);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /\(unauthorized, HTTP 401\)\n$/);
    assert.ok(!result.stderr.includes(wrong));
  });

  test("a client token on an admin command is a 403", async () => {
    const result = await runCli(["stats", "--url", server.url, "--token", CLIENT]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /HTTP 403\)\n$/);
  });
});

describe("environment", () => {
  test("API_KEY_ROTATOR_URL and API_KEY_ROTATOR_TOKEN stand in for --url and --token", async () => {
    const result = await runCli(["next"], {
      env: { API_KEY_ROTATOR_URL: server.url, API_KEY_ROTATOR_TOKEN: CLIENT },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${KEY}\n`);
  });

  test("flags win over the variables", async () => {
    const result = await runCli(["stats", "--json", "--url", server.url, "--token", ADMIN], {
      env: { API_KEY_ROTATOR_URL: await closedPortUrl(), API_KEY_ROTATOR_TOKEN: CLIENT },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).total_keys, 1);
  });

  test("an empty API_KEY_ROTATOR_TOKEN sends no token", async () => {
    const result = await runCli(["stats", "--url", server.url], {
      env: { API_KEY_ROTATOR_TOKEN: "" },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\(unauthorized, HTTP 401\)\n$/);
  });
});
