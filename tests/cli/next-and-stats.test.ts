import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, test } from "node:test";
import type { KeyJson } from "../../src/cli/admin-client.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { ADMIN, CLIENT, runCli } from "./run-cli.ts";

const KEY_A = "sk-alpha-aaaaaaaaaaaaaaaa";
const KEY_B = "sk-bravo-bbbbbbbbbbbbbbbb";

let server: TestServer;
const cli = (token: string, ...args: string[]) =>
  runCli([...args, "--url", server.url], { env: { API_KEY_ROTATOR_TOKEN: token } });

async function add(...keys: string[]): Promise<void> {
  const response = await server.request("/add_bulk", {
    method: "POST",
    token: ADMIN,
    json: { keys },
  });
  assert.equal(response.status, 200);
}

async function listed(): Promise<KeyJson[]> {
  return (await (await server.request("/keys", { token: ADMIN })).json()) as KeyJson[];
}

beforeEach(async () => {
  // A still clock: `/stats` and `available_at` must not move between two reads.
  const clock = new FakeClock();
  server = await startTestServer(
    { adminToken: [ADMIN], clientToken: [CLIENT] },
    { clock: clock.now },
  );
});
afterEach(() => server.stop());

describe("next", () => {
  test("prints the key alone, so $(api-key-rotator next) is the key; auto goes least recently used", async () => {
    await add(KEY_A, KEY_B);
    const first = await cli(CLIENT, "next");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, `${KEY_A}\n`);
    const second = await cli(CLIENT, "next", "--mode", "auto");
    assert.equal(second.stdout, `${KEY_B}\n`);
    assert.deepEqual(
      (await listed()).map((key) => key.usage.requests_this_day),
      [1, 1],
    );
  });

  test("--mode random --json prints the server's answer: the key and its id", async () => {
    await add(KEY_A);
    const result = await cli(CLIENT, "next", "--mode", "random", "--json");
    assert.equal(result.code, 0, result.stderr);
    const [key] = await listed();
    assert.deepEqual(JSON.parse(result.stdout), {
      api_key: KEY_A,
      id: key?.id,
      pool: "default",
      probe: false,
    });
    assert.equal(key?.usage.requests_this_minute, 1);
  });

  test("an empty pool is a 503: exit 1, nothing on stdout, the code and when to retry on stderr", async () => {
    const result = await cli(CLIENT, "next");
    assert.equal(result.code, 1);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /\(no_key_available, HTTP 503; retry in 60 s\)\n$/);
  });
});

describe("stats", () => {
  test("prints totals, dispenses, the global cap and the limits", async () => {
    await add(KEY_A, KEY_B);
    await server.request("/next", { token: CLIENT });
    await server.request(`/deactivate/${(await listed())[1]?.id}`, {
      method: "POST",
      token: ADMIN,
    });
    const result = await cli(ADMIN, "stats");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      [
        "keys        2 total: 1 active, 1 inactive, 1 available now",
        "dispensed   1 this minute, 1 today",
        "global cap  124999 of 125000 left this minute",
        "limits      rpm 2, rpd 50, tpm 125000, cooldown 300 s",
        "",
      ].join("\n"),
    );
  });

  test("--json prints exactly what GET /stats answers", async () => {
    await add(KEY_A);
    const result = await cli(ADMIN, "stats", "--json");
    assert.equal(result.code, 0, result.stderr);
    const expected = await (await server.request("/stats", { token: ADMIN })).json();
    assert.deepEqual(JSON.parse(result.stdout), expected);
  });
});
