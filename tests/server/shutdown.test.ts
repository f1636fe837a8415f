import assert from "node:assert/strict";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnServer } from "../helpers/server-process.ts";
import { makeTempDir, request } from "../helpers/test-server.ts";

const IN_FLIGHT = 1000;

/** Opens a keep-alive connection the server has surely accepted: one full request answered. */
async function acceptedConnection(port: number): Promise<Socket> {
  const socket = connect(port, "127.0.0.1");
  socket.setEncoding("utf8");
  await once(socket, "connect");
  socket.write("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n");
  let seen = "";
  while (!seen.includes('{"status":"ok"}')) seen += (await once(socket, "data"))[0];
  return socket;
}

function answerOf(socket: Socket): Promise<string> {
  let text = "";
  socket.on("data", (chunk) => {
    text += chunk;
  });
  return new Promise((resolve) => socket.once("close", () => resolve(text)));
}

describe("graceful shutdown under load", () => {
  it(`answers all ${IN_FLIGHT} requests in flight at SIGTERM, saves, and exits 0`, async () => {
    const file = join(await makeTempDir(), "keys.json");
    const server = await spawnServer([
      "--keys-file",
      file,
      "--rpm",
      "100000",
      "--rpd",
      "100000",
      "--save-interval",
      "3600",
    ]);
    await request(server.url, "/add", { method: "POST", json: { key: "sk-shutdown-00001" } });
    const port = Number(new URL(server.url).port);

    const sockets: Socket[] = [];
    for (let i = 0; i < IN_FLIGHT; i += 100) {
      sockets.push(
        ...(await Promise.all(Array.from({ length: 100 }, () => acceptedConnection(port)))),
      );
    }
    // Each request is half sent: the server has begun it and must finish it.
    for (const socket of sockets) socket.write("GET /next HTTP/1.1\r\nHost: test\r\n");
    const answers = sockets.map(answerOf);

    const shuttingDown = new Promise<void>((resolve) => {
      server.child.stdout?.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("shutting down")) resolve();
      });
    });
    server.child.kill("SIGTERM");
    await shuttingDown;
    for (const socket of sockets) socket.write("\r\n");

    const texts = await Promise.all(answers);
    const ok = texts.filter(
      (text) => text.startsWith("HTTP/1.1 200 OK") && text.includes("sk-shutdown-00001"),
    );
    assert.equal(ok.length, IN_FLIGHT);
    assert.equal(await server.exited, 0);
    const [key] = JSON.parse(await readFile(file, "utf8"));
    assert.equal(key.usage.requests_this_day, IN_FLIGHT);
    assert.equal(
      (await request(server.url, "/healthz").catch((error: Error) => error.message)) instanceof
        Response,
      false,
      "no longer accepting",
    );
  });
});
