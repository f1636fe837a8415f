// `npm run build:binary`: a single executable (Node's SEA) that needs neither Node nor
// node_modules on the machine it runs on.
import assert from "node:assert/strict";
import { open, readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { NODE_FLAGS } from "../../scripts/node-flags.ts";
import {
  addAndDispense,
  npmBuild,
  runToExit,
  type ServerProcess,
  startServer,
  tempDir,
} from "./processes.ts";

describe("npm run build:binary", () => {
  let outdir: string;
  let binary: string;
  let cwd: string;
  let server: ServerProcess | undefined;
  // No Node (nor anything else) to find on PATH: the binary must carry its own runtime.
  const env = { PATH: "/nonexistent" };

  before(async () => {
    outdir = await tempDir();
    cwd = await tempDir();
    binary = join(outdir, "api-key-rotator");
    await npmBuild("build:binary", outdir);
  });

  after(async () => {
    await server?.stop();
    await rm(outdir, { recursive: true, force: true });
    await rm(cwd, { recursive: true, force: true });
  });

  test("is an executable ELF file, and the build leaves nothing else behind", async () => {
    assert.deepEqual(await readdir(outdir), ["api-key-rotator"]);
    assert.equal((await stat(binary)).mode & 0o111, 0o111);
    const file = await open(binary);
    const { buffer } = await file.read(Buffer.alloc(4), 0, 4, 0);
    await file.close();
    assert.deepEqual(buffer, Buffer.from("\x7fELF", "latin1"));
  });

  test("serves /next from an empty directory, without the experimental warning", async () => {
    const keysFile = join(cwd, "keys.json");
    server = await startServer(binary, ["serve", "--port", "0", "--keys-file", keysFile], {
      cwd,
      env,
    });
    await addAndDispense(server.url, "sk-binary-key-000000000001");
    assert.doesNotMatch(server.stderr(), /Warning/);
  });

  test("runs with the Node flags it was built with, and says so when it starts", () => {
    assert.ok(server, "needs the server of the previous test");
    assert.equal(server.listening.node, process.version);
    assert.deepEqual(server.listening.nodeFlags, NODE_FLAGS);
  });

  test("healthcheck exits 0 against the running server, 1 once it has stopped", async () => {
    assert.ok(server, "needs the server of the previous test");
    const args = ["healthcheck", "--url", server.url];
    assert.equal((await runToExit(binary, args, { cwd, env })).code, 0);
    assert.equal(await server.stop(), 0, "SIGTERM is a clean exit");
    const stopped = await runToExit(binary, args, { cwd, env });
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /ECONNREFUSED/);
  });

  test("saved the key to keys.json on the way out", async () => {
    assert.match(await readFile(join(cwd, "keys.json"), "utf8"), /sk-binary-key-000000000001/);
  });
});
