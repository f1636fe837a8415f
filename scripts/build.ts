// Builds what ships:
//   node scripts/build.ts            dist/cli.js (CLI + server in one file, needs no node_modules),
//                                    dist/client.js and its declarations
//   node scripts/build.ts --binary   dist/api-key-rotator, a single executable of the CLI made from
//                                    the Node binary running this script
// --outdir <dir> writes somewhere other than dist/ (the tests build into temp dirs so that
// concurrent runs never read each other's half-written files).
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";
import { type BuildOptions, build } from "esbuild";
import { NODE_FLAGS } from "./node-flags.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

// Fixed by Node: postject must name this fuse for the binary to look for the injected blob.
const SEA_FUSE = "NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2";
const BINARY_NAME = "api-key-rotator";

const cliOptions: BuildOptions = {
  entryPoints: [join(root, "src/cli/main.ts")],
  bundle: true,
  platform: "node",
  target: "node22",
  // Not minified: it would save a fifth of the size (a tenth gzipped) and no start-up time,
  // and cost readable stack traces and crash output.
  logLevel: "warning",
};

/** dist/cli.js: ESM, because the package is "type": "module". */
async function buildCli(outdir: string): Promise<void> {
  const outfile = join(outdir, "cli.js");
  await build({
    ...cliOptions,
    format: "esm",
    outfile,
    // Dependencies written as CommonJS use require() for Node built-ins, which ESM
    // lacks. esbuild keeps the entry's #! line above this banner.
    banner: {
      js: [
        'import { createRequire as __akrCreateRequire } from "node:module";',
        "const require = __akrCreateRequire(import.meta.url);",
      ].join("\n"),
    },
  });
  await chmod(outfile, 0o755);
}

/** dist/client.js and dist/client.d.ts: the zero-dependency helper, for any JS runtime. */
async function buildClient(outdir: string): Promise<void> {
  await build({
    entryPoints: [join(root, "src/client/index.ts")],
    bundle: true,
    platform: "neutral",
    format: "esm",
    target: "es2022",
    outfile: join(outdir, "client.js"),
    logLevel: "warning",
  });
  const typesDir = join(outdir, "client");
  await rm(typesDir, { recursive: true, force: true });
  await node([tscBin(), "-p", join(root, "tsconfig.client.json"), "--outDir", typesDir]);
  await rewriteTsSpecifiers(typesDir);
  await writeFile(join(outdir, "client.d.ts"), 'export * from "./client/index.js";\n');
}

/**
 * tsc copies the sources' `./x.ts` specifiers into the declarations as written. TypeScript 5+
 * maps those to x.d.ts; TypeScript 4 and other readers of declarations do not, so they are
 * given the usual `./x.js` form.
 */
async function rewriteTsSpecifiers(typesDir: string): Promise<void> {
  for (const name of await readdir(typesDir, { recursive: true })) {
    if (!name.endsWith(".d.ts")) continue;
    const file = join(typesDir, name);
    const text = await readFile(file, "utf8");
    await writeFile(file, text.replace(/(["']\.{1,2}\/[^"']*?)\.ts(["'])/g, "$1.js$2"));
  }
}

/**
 * A single executable application (Node's SEA). Node 24 runs the injected script as
 * CommonJS only, so the CLI is bundled once more in that format.
 */
async function buildBinary(outdir: string): Promise<void> {
  const work = join(outdir, "sea");
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const main = join(work, "cli.cjs");
  const blob = join(work, "sea.blob");
  const config = join(work, "sea-config.json");
  await build({ ...cliOptions, format: "cjs", outfile: main });
  await writeFile(
    config,
    JSON.stringify({
      main,
      output: blob,
      disableExperimentalSEAWarning: true,
      // V8's compile cache for the bundle, made by this same Node binary: faster start-up.
      useCodeCache: true,
      execArgv: NODE_FLAGS,
    }),
  );
  // The code cache is made under the flags the binary runs with: V8 rejects a cache made under
  // flags it checks (with a warning at every start), such as --expose-gc.
  await node([...NODE_FLAGS, "--experimental-sea-config", config]);

  const binary = join(outdir, BINARY_NAME);
  await rm(binary, { force: true });
  await copyFile(process.execPath, binary);
  await chmod(binary, 0o755);
  await node([
    require.resolve("postject/dist/cli.js"),
    binary,
    "NODE_SEA_BLOB",
    blob,
    "--sentinel-fuse",
    SEA_FUSE,
  ]);
  await rm(work, { recursive: true });
}

/** Runs the Node binary running this script; its output is shown only if it fails. */
async function node(args: readonly string[]): Promise<void> {
  try {
    await execFileAsync(process.execPath, args);
  } catch (error) {
    // tsc reports errors on stdout; postject warns about every ELF note it cannot name.
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    process.stderr.write(stdout + stderr);
    throw error;
  }
}

function tscBin(): string {
  return join(dirname(require.resolve("typescript/package.json")), "bin", "tsc");
}

async function main(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { binary: { type: "boolean", default: false }, outdir: { type: "string" } },
  });
  const outdir = resolve(values.outdir ?? join(root, "dist"));
  await mkdir(outdir, { recursive: true });
  const started = performance.now();
  if (values.binary) {
    await buildBinary(outdir);
  } else {
    await Promise.all([buildCli(outdir), buildClient(outdir)]);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`built into ${outdir} in ${seconds} s\n`);
}

await main(process.argv.slice(2));
