import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnServer } from "../helpers/server-process.ts";
import { makeTempDir } from "../helpers/test-server.ts";

const PROBE = new URL("../helpers/gc-probe.ts", import.meta.url).pathname;

describe("the garbage loading leaves", () => {
  it("is collected by one full GC before the server listens, with no Node flag", async () => {
    const file = join(await makeTempDir(), "keys.json");
    const server = await spawnServer(["--keys-file", file], { NODE_OPTIONS: `--import ${PROBE}` });
    server.child.kill("SIGTERM");
    assert.equal(await server.exited, 0);
    const lines = server.lines.map((line) => JSON.parse(line) as { msg: string; time: number });
    const forced = lines.filter((line) => line.msg === "probe: forced full GC");
    const listening = lines.find((line) => line.msg === "api-key-rotator listening");
    assert.equal(forced.length, 1, "one full GC asked for");
    assert.ok((forced[0]?.time ?? Number.POSITIVE_INFINITY) <= (listening?.time ?? 0));
  });
});
