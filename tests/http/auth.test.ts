import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const ADMIN = "admin-token-0123456789abcdef";
const CLIENT = "client-token-0123456789abcdef";

describe("with admin and client tokens", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ adminToken: [ADMIN], clientToken: [CLIENT] });
    const res = await server.request("/add", {
      method: "POST",
      json: { key: "sk-auth-000000000" },
      token: ADMIN,
    });
    assert.equal(res.status, 201);
  });
  after(() => server.stop());

  it("/next takes a client token or an admin token", async () => {
    assert.equal((await server.request("/next", { token: CLIENT })).status, 200);
    assert.equal((await server.request("/next", { token: ADMIN })).status, 200);
  });

  it("/next without a token, with a wrong one or a malformed header is 401, all alike", async () => {
    const answers = await Promise.all(
      [
        {},
        { token: "wrong-token-0123456789abcdef" },
        { token: `${CLIENT}x` },
        { headers: { authorization: `Basic ${CLIENT}` } },
        { headers: { authorization: "Bearer" } },
      ].map(async (init) => {
        const res = await server.request("/next", init);
        return [res.status, res.headers.get("www-authenticate"), await res.json()];
      }),
    );
    for (const answer of answers) {
      assert.deepEqual(answer, [
        401,
        'Bearer realm="api-key-rotator"',
        { error: "a valid bearer token is required", code: "unauthorized" },
      ]);
    }
  });

  it("management routes, /keys and /stats need the admin token: a client token is 403", async () => {
    const routes: [string, string][] = [
      ["GET", "/keys"],
      ["GET", "/stats"],
      ["POST", "/deactivate/x"],
      ["POST", "/reactivate/x"],
      ["DELETE", "/delete/x"],
    ];
    for (const [method, path] of routes) {
      assert.equal((await server.request(path, { method })).status, 401, `${method} ${path}`);
      assert.equal((await server.request(path, { method, token: CLIENT })).status, 403);
      assert.notEqual((await server.request(path, { method, token: ADMIN })).status, 401);
    }
    const add = await server.request("/add", {
      method: "POST",
      json: { key: "sk-by-client-00000" },
      token: CLIENT,
    });
    assert.equal(add.status, 403);
    const keys = await (await server.request("/keys", { token: ADMIN })).json();
    assert.equal(keys.length, 1);
  });

  it("/healthz needs no token", async () => {
    assert.equal((await server.request("/healthz")).status, 200);
  });
});

describe("without tokens", () => {
  it("every route is open (the server is loopback-only then)", async () => {
    const server = await startTestServer();
    try {
      assert.equal((await server.request("/keys")).status, 200);
      assert.equal((await server.request("/next")).status, 503);
    } finally {
      await server.stop();
    }
  });

  it("with client tokens only, /next is guarded and management is open", async () => {
    const server = await startTestServer({ clientToken: [CLIENT] });
    try {
      assert.equal((await server.request("/next")).status, 401);
      assert.equal((await server.request("/next", { token: CLIENT })).status, 503);
      assert.equal((await server.request("/keys")).status, 200);
    } finally {
      await server.stop();
    }
  });
});
