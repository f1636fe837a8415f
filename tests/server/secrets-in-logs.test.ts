import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { inspect } from "node:util";
import { Secret } from "../../src/core/secret.ts";
import { spawnServer } from "../helpers/server-process.ts";
import { makeTempDir, request } from "../helpers/test-server.ts";

const ADMIN = "admin-secret-token-aaaaaaaaaaaa";
const CLIENT = "client-secret-token-bbbbbbbbbbb";
const KEYS = [
  "sk-live-secret-one-111111",
  "sk-live-secret-two-222222",
  "sk-live-secret-three-3333",
];

describe("secrets", () => {
  it("never reach a log line, even at trace level, whatever the requests carry", async () => {
    const file = join(await makeTempDir(), "keys.json");
    const server = await spawnServer([
      "--keys-file",
      file,
      "--log-level",
      "trace",
      "--admin-token",
      ADMIN,
      "--client-token",
      CLIENT,
    ]);
    let stderr = "";
    server.child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    const admin = { token: ADMIN };
    const answers: string[] = [];
    const send = async (path: string, init: Parameters<typeof request>[2] = {}) => {
      const res = await request(server.url, path, init);
      answers.push(path.startsWith("/next") ? "" : await res.text());
      return res;
    };
    await send("/add", { ...admin, method: "POST", json: { key: KEYS[0] } });
    await send("/add", { ...admin, method: "POST", json: { key: KEYS[0] } }); // duplicate
    await send("/add_bulk", {
      ...admin,
      method: "POST",
      json: { keys: [KEYS[1], KEYS[2], "bad key"] },
    });
    await send("/next", { token: CLIENT });
    await send("/next?mode=random", { token: ADMIN });
    await send(`/deactivate/${encodeURIComponent(KEYS[1] as string)}`, {
      ...admin,
      method: "POST",
    });
    await send(`/reactivate/${KEYS[1]}`, { ...admin, method: "POST" });
    await send(`/delete/${KEYS[2]}`, { ...admin, method: "DELETE" });
    await send(`/delete/${KEYS[2]}`, { ...admin, method: "DELETE" }); // 404 for a key string
    await send("/add", {
      ...admin,
      method: "POST",
      body: `{"key": ${KEYS[2]}}`,
      headers: { "content-type": "application/json" },
    });
    await send(`/next?mode=${KEYS[0]}`, { token: CLIENT });
    await send("/keys", { token: `${ADMIN}-wrong` });
    await send("/keys", { token: CLIENT });
    await send("/keys", admin);
    await send("/stats", admin);
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);

    const logs = server.lines.join("\n") + stderr;
    assert.ok(server.lines.length >= 17, "the session was logged request by request");
    assert.match(logs, /"route":"\/delete\/:key"/);
    for (const secret of [...KEYS, ADMIN, CLIENT]) {
      assert.equal(logs.includes(secret), false, `a log line holds ${secret.slice(0, 8)}…`);
      for (const answer of answers) assert.equal(answer.includes(secret), false);
    }
  });

  it("a key prints as its preview wherever it is logged or serialised by accident", () => {
    const secret = new Secret("sk-proj-abcdefghijklmnopqrstuvwx");
    const leaks = [
      JSON.stringify({ secret }),
      String(secret),
      `${secret}`,
      inspect({ nested: { secret } }),
      inspect(secret, { showHidden: true, depth: 5 }),
    ];
    for (const text of leaks) {
      assert.equal(text.includes("abcdefghijklmnop"), false, text);
      assert.match(text, /sk-pro…vwx/);
    }
    assert.equal(secret.reveal(), "sk-proj-abcdefghijklmnopqrstuvwx");
  });
});
