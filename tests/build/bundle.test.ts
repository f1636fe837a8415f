// `npm run build`: dist/cli.js must run with nothing but Node (no node_modules), and
// dist/client.js must load on its own and talk to that server.
import assert from "node:assert/strict";
import { copyFile, readFile, rm, stat } from "node:fs/promises";
import { isBuiltin } from "node:module";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import type * as Client from "../../src/client/index.ts";
import { addAndDispense, npmBuild, type ServerProcess, startServer, tempDir } from "./processes.ts";

/** Every module specifier the bundle still imports or requires at run time. */
function externalSpecifiers(code: string): string[] {
  // esbuild writes real imports with double quotes; the name pattern skips prose in strings.
  const name = String.raw`"([@\w][\w@./:-]*)"`;
  const patterns = [
    String.raw`\bfrom\s*${name}`,
    String.raw`\bimport\s*${name}`,
    String.raw`\bimport\(\s*${name}\s*\)`,
    String.raw`\b(?:__)?require\(\s*${name}\s*\)`,
  ];
  return patterns.flatMap((pattern) =>
    [...code.matchAll(new RegExp(pattern, "g"))].map((m) => m[1] as string),
  );
}

describe("npm run build", () => {
  let outdir: string;
  let alone: string;
  let server: ServerProcess | undefined;

  before(async () => {
    outdir = await tempDir();
    alone = await tempDir();
    await npmBuild("build", outdir);
  });

  after(async () => {
    await server?.stop();
    await rm(outdir, { recursive: true, force: true });
    await rm(alone, { recursive: true, force: true });
  });

  test("dist/cli.js is an executable script for node that imports only Node built-ins", async () => {
    const file = join(outdir, "cli.js");
    const code = await readFile(file, "utf8");
    assert.ok(code.startsWith("#!/usr/bin/env node\n"));
    assert.equal((await stat(file)).mode & 0o111, 0o111);
    const external = externalSpecifiers(code);
    assert.ok(external.length > 0, "the patterns still find the bundle's imports");
    assert.deepEqual(
      external.filter((specifier) => !isBuiltin(specifier)),
      [],
    );
  });

  test("dist/cli.js copied alone into an empty directory serves /next", async () => {
    await copyFile(join(outdir, "cli.js"), join(alone, "cli.js"));
    server = await startServer(
      process.execPath,
      ["cli.js", "serve", "--port", "0", "--keys-file", join(alone, "keys.json")],
      { cwd: alone, env: { PATH: process.env.PATH ?? "" } },
    );
    await addAndDispense(server.url, "sk-bundle-key-000000000001");
  });

  test("dist/client.js, alone and without node_modules, gets a key from that server", async () => {
    assert.ok(server, "needs the server of the previous test");
    const code = await readFile(join(outdir, "client.js"), "utf8");
    assert.deepEqual(externalSpecifiers(code), [], "zero dependencies, not even node: ones");
    // .mjs: no package.json says "type": "module" in the temp dir.
    const copy = join(alone, "client.mjs");
    await copyFile(join(outdir, "client.js"), copy);
    const client = (await import(pathToFileURL(copy).href)) as typeof Client;
    const apiKey = await client.getApiKey("auto", { baseUrl: server.url, token: "" });
    assert.equal(apiKey, "sk-bundle-key-000000000001");
  });

  test("dist/client.d.ts re-exports declarations whose imports resolve without .ts", async () => {
    const entry = await readFile(join(outdir, "client.d.ts"), "utf8");
    assert.match(entry, /from "\.\/client\/index\.js"/);
    const index = await readFile(join(outdir, "client", "index.d.ts"), "utf8");
    assert.match(index, /createClient/);
    assert.match(index, /getApiKey/);
    assert.doesNotMatch(index, /\.ts["']/);
  });
});
