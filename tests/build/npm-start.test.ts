// `npm start`: the server from src/, with the Node flags the binary and the image run with.
import assert from "node:assert/strict";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { NODE_FLAGS } from "../../scripts/node-flags.ts";
import { addAndDispense, ROOT, startServer, tempDir } from "./processes.ts";

// The script's command run as npm would, minus npm itself: on SIGTERM npm exits
// without passing the signal on, which would leave the server running.
test("npm start serves with the shipped Node flags", async () => {
  const { scripts } = JSON.parse(await readFile(join(ROOT, "package.json"), "utf8"));
  const [command, ...scriptArgs] = (scripts.start as string).split(" ");
  assert.equal(command, "node");
  const dir = await tempDir();
  const args = [...scriptArgs, "--port", "0", "--keys-file", join(dir, "keys.json")];
  const server = await startServer(process.execPath, args, { cwd: ROOT, env: {} });
  try {
    assert.deepEqual(server.listening.nodeFlags, NODE_FLAGS);
    await addAndDispense(server.url, "sk-npm-start-key-0000000001");
  } finally {
    assert.equal(await server.stop(), 0, "SIGTERM is a clean exit");
    await rm(dir, { recursive: true, force: true });
  }
});
