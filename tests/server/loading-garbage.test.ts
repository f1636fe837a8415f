import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-server.ts";

const PROBE = new URL("../helpers/gc-probe.ts", import.meta.url).pathname;

describe("the garbage loading leaves", () => {
  it("is collected once, after keys.json is loaded and before listening, when gc is exposed", async () => {
    const file = join(await makeTempDir(), "keys.json");
    const server = await spawnServer(["--keys-file", file], {
      NODE_OPTIONS: `--expose-gc --import ${PROBE}`,
    });
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    const messages = server.lines.map((line) => JSON.parse(line).msg);
    const gcAt = messages.indexOf("probe: gc() called");
    assert.notEqual(gcAt, -1, "the server called gc()");
    assert.ok(gcAt < messages.indexOf("api-key-rotator listening"));
    assert.equal(messages.filter((msg) => msg === "probe: gc() called").length, 1);
  });
});
