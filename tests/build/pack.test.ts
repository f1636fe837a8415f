// The package as npm ships it: `npm pack`, installed into a fresh project, used from there.
import assert from "node:assert/strict";
import { cp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  addAndDispense,
  ROOT,
  run,
  type ServerProcess,
  startServer,
  tempDir,
} from "./processes.ts";

// What `npm pack` needs of the repo. It is packed from a copy because its `prepare` script
// builds into dist/, which concurrent test runs in the working tree would otherwise share.
const PACKED_FROM = ["package.json", "README.md", "tsconfig.json", "tsconfig.client.json"];
const PACKED_DIRS = ["scripts", "src"];

interface PackResult {
  filename: string;
  files: { path: string }[];
}

describe("npm pack, installed into another project", () => {
  let repo: string;
  let project: string;
  let files: string[];
  let server: ServerProcess | undefined;

  before(async () => {
    repo = await tempDir();
    for (const name of [...PACKED_FROM, ...PACKED_DIRS]) {
      await cp(join(ROOT, name), join(repo, name), { recursive: true });
    }
    await symlink(join(ROOT, "node_modules"), join(repo, "node_modules"), "dir");
    const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", repo], {
      cwd: repo,
      maxBuffer: 16 * 1024 * 1024,
    });
    // `prepare` prints its build line before npm's JSON.
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as PackResult[];
    assert.ok(packed);
    files = packed.files.map((f) => f.path).sort();

    project = await tempDir();
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module" }),
    );
    await run(
      "npm",
      [
        "install",
        join(repo, packed.filename),
        "--omit=dev",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
      ],
      { cwd: project },
    );
  });

  after(async () => {
    await server?.stop();
    if (repo) await rm(repo, { recursive: true, force: true });
    if (project) await rm(project, { recursive: true, force: true });
  });

  test("the tarball holds the bundles and the client's types, nothing else", () => {
    for (const needed of ["dist/cli.js", "dist/client.js", "dist/client.d.ts"]) {
      assert.ok(files.includes(needed), `${needed} is packed`);
    }
    const unexpected = files.filter(
      (path) =>
        ![
          "package.json",
          "README.md",
          "dist/cli.js",
          "dist/client.js",
          "dist/client.d.ts",
        ].includes(path) && !/^dist\/client\/[\w/-]+\.d\.ts$/.test(path),
    );
    assert.deepEqual(unexpected, []);
  });

  test("npx api-key-rotator --help runs the installed CLI", async () => {
    const { stdout } = await run("npx", ["api-key-rotator", "--help"], { cwd: project });
    assert.match(stdout, /Usage: api-key-rotator/);
    assert.match(stdout, /serve/);
  });

  test('import { getApiKey, createClient } from "api-key-rotator/client" gets a key', async () => {
    const bin = join(project, "node_modules", ".bin", "api-key-rotator");
    server = await startServer(
      bin,
      // --rpm: the key is dispensed three times within a minute.
      ["serve", "--port", "0", "--rpm", "10", "--keys-file", join(project, "keys.json")],
      { cwd: project, env: { PATH: process.env.PATH ?? "" } },
    );
    await addAndDispense(server.url, "sk-packed-key-000000000001");
    await writeFile(
      join(project, "consumer.js"),
      [
        'import { createClient, getApiKey, KeyUnavailableError } from "api-key-rotator/client";',
        "const baseUrl = process.argv[2];",
        'const viaFunction = await getApiKey("auto", { baseUrl, token: "" });',
        'const viaClient = await createClient({ baseUrl, token: "", cacheMs: 0 }).getApiKey();',
        "console.log(JSON.stringify([viaFunction, viaClient, typeof KeyUnavailableError]));",
      ].join("\n"),
    );
    const { stdout } = await run(process.execPath, ["consumer.js", server.url], { cwd: project });
    assert.deepEqual(JSON.parse(stdout), [
      "sk-packed-key-000000000001",
      "sk-packed-key-000000000001",
      "function",
    ]);
  });

  test("TypeScript resolves the client's types through the package's exports", async () => {
    // Inside the project, so that resolution finds the package in its node_modules.
    const check = join(project, "types-check");
    await mkdir(check);
    await writeFile(
      join(check, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "nodenext",
          moduleResolution: "nodenext",
          target: "es2022",
          lib: ["es2022", "dom"],
          types: [],
          strict: true,
          noEmit: true,
        },
        include: ["check.ts"],
      }),
    );
    await writeFile(join(check, "package.json"), JSON.stringify({ type: "module" }));
    await writeFile(
      join(check, "check.ts"),
      [
        "import {",
        "  type ApiKeyResult,",
        "  createClient,",
        "  getApiKey,",
        "  type KeyMode,",
        "  KeyUnavailableError,",
        '} from "api-key-rotator/client";',
        'const mode: KeyMode = "random";',
        "const key: Promise<string> = getApiKey(mode);",
        "const result: Promise<ApiKeyResult> = createClient().getKey();",
        "const code: string = new KeyUnavailableError('x', { status: 0, code: 'y' }).code;",
        "// @ts-expect-error: the types are real, not `any`",
        'const wrong: KeyMode = "fastest";',
        "export { code, key, result, wrong };",
      ].join("\n"),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    await run(process.execPath, [tsc, "-p", check], { cwd: check });
  });
});
