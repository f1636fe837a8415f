// No Docker engine runs where these tests do, so the Dockerfile is tested by replaying it: the
// build stage's COPY/WORKDIR/ENV/RUN lines run in a temp dir, then the binary that the final
// stage copies is started the way the image's ENTRYPOINT, CMD, ENV and HEALTHCHECK say.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { cp, mkdir, readFile, rm, stat } from "node:fs/promises";
import { join, posix } from "node:path";
import { after, before, describe, test } from "node:test";
import { promisify } from "node:util";
import {
  ADMIN_TOKEN,
  addAndDispense,
  CLIENT_TOKEN,
  ROOT,
  runToExit,
  type ServerProcess,
  startServer,
  tempDir,
} from "./processes.ts";

const run = promisify(execFile);

// What `docker run` puts in PATH when the image sets none.
const DOCKER_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Instructions with continuation lines joined; comments and blank lines dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  for (const line of text.split("\n")) {
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) continue;
    if (trimmed.endsWith("\\")) {
      pending += `${trimmed.slice(0, -1)} `;
      continue;
    }
    const [, keyword = "", args = ""] = /^(\S+)\s+(.*)$/s.exec(pending + trimmed) ?? [];
    pending = "";
    const instruction = { keyword: keyword.toUpperCase(), args: args.trim() };
    if (instruction.keyword === "FROM") {
      const [image = "", as, name] = instruction.args.split(/\s+/);
      stages.push({ image, name: as?.toUpperCase() === "AS" ? name : undefined, instructions: [] });
    } else {
      assert.ok(stages.at(-1), `${keyword} before any FROM`);
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

function all(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

function one(stage: Stage, keyword: string): string {
  const found = all(stage, keyword);
  assert.equal(found.length, 1, `exactly one ${keyword} in the final stage`);
  return found[0] as string;
}

function execForm(args: string): string[] {
  assert.ok(args.startsWith("["), `exec form (JSON array) expected: ${args}`);
  return JSON.parse(args) as string[];
}

function parseEnv(args: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of args.flatMap((a) => a.split(/\s+/))) {
    const [name = "", value] = pair.split("=", 2);
    assert.ok(
      value !== undefined && !/["']/.test(pair),
      `ENV ${pair}: only NAME=value is replayed`,
    );
    env[name] = value;
  }
  return env;
}

interface Copy {
  readonly from: string | undefined;
  readonly chown: string | undefined;
  readonly sources: string[];
  readonly dest: string;
}

function parseCopy(args: string): Copy {
  const words = args.split(/\s+/);
  const flags = new Map(
    words
      .filter((w) => w.startsWith("--"))
      .map((w) => w.slice(2).split("=", 2) as [string, string]),
  );
  const paths = words.filter((w) => !w.startsWith("--"));
  const dest = paths.pop();
  assert.ok(dest && paths.length > 0, `COPY ${args}`);
  return { from: flags.get("from"), chown: flags.get("chown"), sources: paths, dest };
}

/** Docker's COPY: a directory source copies its contents; a "dir/" destination takes files. */
async function copyInto(source: string, dest: string, intoDir: boolean): Promise<void> {
  const isDir = (await stat(source)).isDirectory();
  const target = intoDir && !isDir ? join(dest, posix.basename(source)) : dest;
  await cp(source, target, { recursive: true });
}

/** The top-level names a `*`-then-`!name` .dockerignore lets into the build context. */
async function contextAllowList(): Promise<Set<string>> {
  const lines = (await readFile(join(ROOT, ".dockerignore"), "utf8"))
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  assert.equal(lines[0], "*", ".dockerignore is an allow-list: it starts by excluding everything");
  return new Set(lines.slice(1).map((l) => l.replace(/^!/, "").replace(/\/$/, "")));
}

const stages = parseDockerfile(await readFile(join(ROOT, "Dockerfile"), "utf8"));
const buildStage = stages.find((s) => s.name === "build");
const finalStage = stages.at(-1) as Stage;

describe("Dockerfile", () => {
  test("is multi-stage: built on the Node this repo tests with, shipped on a minimal base", () => {
    assert.ok(buildStage && stages.length >= 2 && buildStage !== finalStage);
    const major = process.versions.node.split(".")[0];
    assert.match(buildStage.image, new RegExp(`^node:${major}[-.]`));
    assert.doesNotMatch(finalStage.image, /^node:/, "the final image carries no Node install");
    assert.deepEqual(all(finalStage, "RUN"), [], "the final base has no shell to RUN with");
  });

  test("runs unprivileged, exposes 8080, keeps keys.json on the /data volume", () => {
    const user = one(finalStage, "USER");
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    const env = parseEnv(all(finalStage, "ENV"));
    assert.equal(env.HOST, "0.0.0.0");
    assert.equal(env.KEYS_FILE, "/data/keys.json");
    assert.equal(env.PORT, "8080");
    assert.ok(one(finalStage, "EXPOSE").split(/\s+/).includes("8080"));
    assert.deepEqual(execForm(one(finalStage, "VOLUME")), ["/data"]);
    // The volume's directory must be writable by USER: a fresh named volume copies its owner.
    const data = all(finalStage, "COPY")
      .map(parseCopy)
      .find((c) => c.dest === "/data");
    assert.equal(data?.chown, user);
  });

  test("has a HEALTHCHECK that runs the binary itself (no curl in the image)", () => {
    const check = one(finalStage, "HEALTHCHECK");
    const command = execForm(check.slice(check.indexOf("CMD ") + 4));
    assert.deepEqual(command.slice(1), ["healthcheck"]);
    assert.equal(command[0], execForm(one(finalStage, "ENTRYPOINT"))[0]);
  });

  test("sends only what the build needs as context (never keys.json)", async () => {
    const allowed = await contextAllowList();
    assert.ok(!allowed.has("keys.json") && !allowed.has("node_modules") && !allowed.has("dist"));
  });
});

describe("the image, replayed outside Docker", () => {
  let root: string;
  let imagePath: (path: string) => string;
  let entry: string[];
  let env: Record<string, string>;
  let server: ServerProcess | undefined;

  before(async () => {
    assert.ok(buildStage);
    root = await tempDir();
    const allowed = await contextAllowList();
    let workdir = "/";
    const stageEnv: Record<string, string> = {};
    for (const { keyword, args } of buildStage.instructions) {
      if (keyword === "WORKDIR") {
        workdir = posix.resolve(workdir, args);
        await mkdir(join(root, workdir), { recursive: true });
      } else if (keyword === "ENV") {
        Object.assign(stageEnv, parseEnv([args]));
      } else if (keyword === "COPY") {
        const copy = parseCopy(args);
        assert.equal(copy.from, undefined, "the build stage copies from the context only");
        const dest = join(root, posix.resolve(workdir, copy.dest));
        for (const source of copy.sources) {
          const top = source.split("/")[0] as string;
          assert.ok(allowed.has(top), `COPY ${source}: excluded by .dockerignore`);
          await copyInto(join(ROOT, source), dest, copy.dest.endsWith("/"));
        }
      } else if (keyword === "RUN") {
        assert.ok(!args.startsWith("["), "RUN lines are replayed in shell form");
        await run("sh", ["-c", args], {
          cwd: join(root, workdir),
          env: { ...process.env, ...stageEnv },
          maxBuffer: 64 * 1024 * 1024,
        });
      } else {
        assert.fail(`the replay does not know ${keyword}`);
      }
    }

    // Where each path the final stage copies in comes from, in the replayed build stage.
    const copies = all(finalStage, "COPY").map(parseCopy);
    for (const copy of copies) assert.equal(copy.from, "build");
    imagePath = (path) => {
      const copy = copies.find((c) => path === c.dest || path.startsWith(`${c.dest}/`));
      assert.ok(copy, `${path} is not in the final image`);
      return join(root, copy.sources[0] as string, path.slice(copy.dest.length));
    };
    entry = [...execForm(one(finalStage, "ENTRYPOINT")), ...execForm(one(finalStage, "CMD"))];
    const imageEnv = parseEnv(all(finalStage, "ENV"));
    env = {
      PATH: DOCKER_PATH,
      ...imageEnv,
      KEYS_FILE: imagePath(imageEnv.KEYS_FILE as string),
      // The one liberty taken: any free port, so that test runs never collide.
      PORT: "0",
    };
  });

  after(async () => {
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const cwd = () => root;
  const binary = () => imagePath(entry[0] as string);

  test("refuses to listen on 0.0.0.0 without tokens, as docs/deploy.md warns", async () => {
    const result = await runToExit(binary(), entry.slice(1), { cwd: cwd(), env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /ADMIN_TOKENS/);
  });

  test("with tokens, serves: a key added through /add comes out of /next", async () => {
    const withTokens = { ...env, ADMIN_TOKENS: ADMIN_TOKEN, CLIENT_TOKENS: CLIENT_TOKEN };
    server = await startServer(binary(), entry.slice(1), { cwd: cwd(), env: withTokens });
    await addAndDispense(server.url, "sk-docker-key-0000000001", {
      admin: ADMIN_TOKEN,
      client: CLIENT_TOKEN,
    });
    const anonymous = await fetch(`${server.url}/next`);
    assert.equal(anonymous.status, 401);
  });

  test("HEALTHCHECK passes while it serves and fails once it stops", async () => {
    assert.ok(server, "needs the server of the previous test");
    const check = one(finalStage, "HEALTHCHECK");
    const [, ...args] = execForm(check.slice(check.indexOf("CMD ") + 4));
    const port = new URL(server.url).port;
    const healthy = await runToExit(binary(), args, { cwd: cwd(), env: { ...env, PORT: port } });
    assert.equal(healthy.code, 0, healthy.stderr);

    assert.equal(await server.stop(), 0, "SIGTERM (docker stop) is a clean exit");
    const unhealthy = await runToExit(binary(), args, { cwd: cwd(), env: { ...env, PORT: port } });
    assert.equal(unhealthy.code, 1);
  });

  test("keys.json lands on the /data volume and survives the container", async () => {
    const saved = await readFile(env.KEYS_FILE as string, "utf8");
    assert.match(saved, /sk-docker-key-0000000001/);
  });
});
