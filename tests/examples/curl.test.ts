import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { KeyJson } from "../../src/cli/admin-client.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const SCRIPT = join(import.meta.dirname, "../../examples/curl.sh");
const ADMIN = "admin-token-for-curl-example-0123";
const CLIENT = "client-token-for-curl-example-0123";

let server: TestServer;

/** Runs the example with bash, the node running the tests first on PATH (the script uses it). */
async function runScript(env: Record<string, string>) {
  const child = spawn("bash", [SCRIPT], {
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}`, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

const captured = (output: string, pattern: RegExp): string => {
  const match = pattern.exec(output);
  assert.ok(match?.[1], `${pattern} not in:\n${output}`);
  return match[1];
};

beforeEach(async () => {
  server = await startTestServer({ adminToken: [ADMIN], clientToken: [CLIENT] });
});
afterEach(() => server.stop());

test("examples/curl.sh runs the whole workflow and leaves the two bulk-added keys", async () => {
  const result = await runScript({ URL: server.url, ADMIN_TOKEN: ADMIN, CLIENT_TOKEN: CLIENT });
  assert.equal(result.code, 0, result.stderr);
  const out = result.stdout;

  const first = captured(out, /^its id: (\S+)$/m);
  const bulk = captured(out, /^their ids: (.+)$/m).split(" ");
  assert.match(out, /^added 2, skipped 0$/m);
  assert.match(out, new RegExp(`== deactivate ${first}.*\\nstatus: Inactive\\n`));
  assert.match(out, new RegExp(`== reactivate ${first}\\nstatus: Active\\n`));
  // Reactivated and never used, the first key is the least recently used one.
  assert.equal(captured(out, /^got the key with id (\S+)$/m), first);
  assert.equal(captured(out, /^deleted: (\S+)$/m), first);
  const stats = JSON.parse(captured(out, /== stats\n(.+)\n/));
  assert.equal(stats.total_keys, 2);
  assert.equal(stats.dispensed_today, 1);
  assert.ok(!out.includes(ADMIN) && !out.includes(CLIENT));

  const keys = (await (await server.request("/keys", { token: ADMIN })).json()) as KeyJson[];
  assert.deepEqual(
    keys.map((key) => [key.id, key.status]),
    bulk.map((id) => [id, "Active"]),
  );
  const saved = JSON.parse(await readFile(server.keysFile, "utf8")) as { key: string }[];
  assert.deepEqual(
    saved.map((entry) => entry.key.replace(/-\d+-\d+-/, "-RUN-")),
    ["sk-example-RUN-second", "sk-example-RUN-third"],
  );
});

test("examples/curl.sh stops at the first refusal and shows the server's answer", async () => {
  const result = await runScript({ URL: server.url, ADMIN_TOKEN: "not-the-admin-token-0123456" });
  assert.notEqual(result.code, 0);
  assert.match(result.stdout, /== add one key\n$/);
  assert.match(result.stderr, /the server answered: .*"code":"unauthorized"/);
  const keys = (await (await server.request("/keys", { token: ADMIN })).json()) as KeyJson[];
  assert.deepEqual(keys, []);
});
