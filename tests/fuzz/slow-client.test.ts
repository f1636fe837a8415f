import assert from "node:assert/strict";
import type { Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";
import { closedWithin, collect, openSocket } from "./raw-http.ts";

// The production limits (10 s / 30 s) shortened; the check interval bounds
// how late after its limit a connection is actually cut.
const TIMEOUTS = { headersMs: 2_000, requestMs: 3_000, checkIntervalMs: 100 };
// Far past every limit: only a server that never cuts a socket gets here.
const DEADLINE_MS = 10_000;
const ADMIN = "slow-client-admin-token-0123456789";
const KEY = "sk-slow-client-seed-0000";

/** The 408 that the server sends as it cuts a request that took too long. */
const TIMED_OUT = /^HTTP\/1\.1 408 /;

describe("slow clients cannot hold the server", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(
      { adminToken: [ADMIN], rpm: "100000", rpd: "100000" },
      { timeouts: TIMEOUTS },
    );
    await server.store.add(KEY);
  });
  after(() => server.stop());

  /** GET /next on its own connection, bounded so a stuck server fails instead of hanging. */
  async function next(): Promise<number> {
    const res = await fetch(`${server.url}/next`, { signal: AbortSignal.timeout(DEADLINE_MS) });
    await res.text();
    return res.status;
  }

  it("cuts a client that trickles its headers, and serves others meanwhile", async () => {
    const started = Date.now();
    const socket = await openSocket(server.port);
    const received = collect(socket);
    const closed = closedWithin(socket, DEADLINE_MS);
    const head = `GET /next HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${"s".repeat(10_000)}`;
    let sent = 0;
    // Sends one byte at a time, forever: the server has to be the one to stop it.
    const trickle = setInterval(() => socket.write(head.charAt(sent++ % head.length)), 50);
    try {
      assert.equal(await next(), 200);
      assert.equal(socket.destroyed, false, "the slow client was cut before the limit");
      assert.equal(await closed, true, "the server never closed the trickling connection");
      assert.ok(Date.now() - started >= TIMEOUTS.headersMs);
      assert.match(received().toString(), TIMED_OUT);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
  });

  it("cuts a client that never sends the body it announced, and adds nothing", async () => {
    const socket = await openSocket(server.port);
    const received = collect(socket);
    const closed = closedWithin(socket, DEADLINE_MS);
    socket.write(
      "POST /add HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
        `Authorization: Bearer ${ADMIN}\r\nContent-Length: 100\r\n\r\n{"key": "sk-slow-body-`,
    );
    try {
      assert.equal(await next(), 200);
      assert.equal(await closed, true, "the server never closed the connection owing a body");
      assert.match(received().toString(), TIMED_OUT);
      const keys = await server.request("/keys", { token: ADMIN });
      assert.equal(((await keys.json()) as unknown[]).length, 1);
    } finally {
      socket.destroy();
    }
  });

  it("answers a request while 200 idle connections are open, then cuts them all", async () => {
    const sockets: Socket[] = [];
    try {
      sockets.push(
        ...(await Promise.all(Array.from({ length: 200 }, () => openSocket(server.port)))),
      );
      sockets.forEach((socket, i) => {
        collect(socket);
        // Half never send a byte, half stop in the middle of their headers.
        if (i % 2 === 1) socket.write("GET /next HTTP/1.1\r\nHost: localhost\r\n");
      });
      const closed = Promise.all(sockets.map((socket) => closedWithin(socket, DEADLINE_MS)));
      assert.equal(await next(), 200);
      assert.equal(
        sockets.some((socket) => socket.destroyed),
        false,
        "an idle connection was cut before the limit",
      );
      const results = await closed;
      assert.equal(results.filter((c) => !c).length, 0, "idle connections left open");
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});
