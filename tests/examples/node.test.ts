// examples/node.ts run as a child process, as a user runs it, against the real dispenser and a
// local fake of OpenAI's chat completions API. Its "api-key-rotator/client" import is pointed
// at the in-repo client, so the test does not depend on a build in dist/.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { previewOf } from "../../src/core/secret.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../helpers/fake-openai.ts";
import { startTestServer, type TestServer } from "../helpers/test-server.ts";

const SCRIPT = new URL("../../examples/node.ts", import.meta.url).pathname;
const IN_REPO_CLIENT = new URL("../../src/client/index.ts", import.meta.url).href;
const RESOLVE_CLIENT_IN_REPO = `data:text/javascript,${encodeURIComponent(
  `import { registerHooks } from "node:module";
  registerHooks({ resolve: (specifier, context, next) =>
    next(specifier === "api-key-rotator/client" ? ${JSON.stringify(IN_REPO_CLIENT)} : specifier, context) });`,
)}`;

const KEYS = ["sk-node-alpha-0123456789", "sk-node-bravo-0123456789", "sk-node-charlie-01234567"];
const CLIENT_TOKEN = "client-token-for-node-example-0";

/** The Bearer key of every request the fake OpenAI got, in order. */
function keysSeen(openai: FakeOpenAI): string[] {
  return openai.calls.map((call) => call.key);
}

interface Dispenser {
  readonly server: TestServer;
  /** Key string -> its id on the server (the tally names keys by id and preview). */
  readonly ids: Map<string, string>;
}

/** The real dispenser, requiring a client token, with `keys` in its pool. */
async function dispenser(keys: readonly string[]): Promise<Dispenser> {
  const server = await startTestServer({
    rpm: "1000",
    rpd: "100000",
    tpm: "100000",
    clientToken: [CLIENT_TOKEN],
  });
  return { server, ids: keys.length > 0 ? await addKeys(server, keys) : new Map() };
}

async function addKeys(server: TestServer, keys: readonly string[]): Promise<Map<string, string>> {
  const res = await server.request("/add_bulk", { method: "POST", json: { keys } });
  assert.equal(res.status, 200);
  const { added } = (await res.json()) as { added: { index: number; id: string }[] };
  return new Map(added.map(({ index, id }) => [keys[index] as string, id]));
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node examples/node.ts` with `env`; `onLine` sees each stdout line as it comes. */
async function runExample(
  env: Record<string, string>,
  onLine: (line: string) => void = () => {},
): Promise<Run> {
  const child = spawn(process.execPath, ["--import", RESOLVE_CLIENT_IN_REPO, SCRIPT], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  createInterface({ input: child.stdout }).on("line", (line) => {
    stdout += `${line}\n`;
    onLine(line);
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const [code] = (await once(child, "close")) as [number | null];
  return { code, stdout, stderr };
}

interface TallyLine {
  readonly preview: string;
  readonly calls: number;
  readonly ok: number;
  readonly failures: string;
}

/** The tally's lines by key id. */
function tallyOf(stdout: string): Map<string, TallyLine> {
  const tally = new Map<string, TallyLine>();
  for (const [, preview, id, calls, ok, failures] of stdout.matchAll(
    /^ {2}(\S+) \(id (\S+)\): (\d+) calls, (\d+) ok(.*)$/gm,
  )) {
    assert.ok(preview !== undefined && id !== undefined && failures !== undefined);
    tally.set(id, { preview, calls: Number(calls), ok: Number(ok), failures });
  }
  return tally;
}

function assertNoSecrets(run: Run): void {
  for (const secret of [...KEYS, CLIENT_TOKEN]) {
    assert.ok(!run.stdout.includes(secret), `stdout shows a secret:\n${run.stdout}`);
    assert.ok(!run.stderr.includes(secret), `stderr shows a secret:\n${run.stderr}`);
  }
}

describe("examples/node.ts", () => {
  test("spreads the calls evenly over every key, least recently used first", async (t) => {
    const [{ server: rotator, ids }, openai] = await Promise.all([
      dispenser(KEYS),
      startFakeOpenAI(new Set(KEYS)),
    ]);
    t.after(() => Promise.all([rotator.stop(), openai.close()]));

    const run = await runExample({
      API_KEY_ROTATOR_URL: rotator.url,
      API_KEY_ROTATOR_TOKEN: CLIENT_TOKEN,
      TARGET_URL: openai.chatUrl,
      CALLS: "9",
    });

    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual(keysSeen(openai), [...KEYS, ...KEYS, ...KEYS]);
    assert.match(run.stdout, /^tally: 9 of 9 calls over 3 keys$/m);
    assert.deepEqual(
      tallyOf(run.stdout),
      new Map(
        KEYS.map((key) => [
          ids.get(key),
          { preview: previewOf(key), calls: 3, ok: 3, failures: "" },
        ]),
      ),
    );
    assertNoSecrets(run);
  });

  test("waits out a 503, no longer than MAX_WAIT_SECONDS, then carries on", async (t) => {
    const [{ server: rotator }, openai] = await Promise.all([
      dispenser([]),
      startFakeOpenAI(new Set(KEYS)),
    ]);
    t.after(() => Promise.all([rotator.stop(), openai.close()]));
    let added: Promise<Map<string, string>> | undefined;

    const run = await runExample(
      {
        API_KEY_ROTATOR_URL: rotator.url,
        API_KEY_ROTATOR_TOKEN: CLIENT_TOKEN,
        TARGET_URL: openai.chatUrl,
        CALLS: "3",
        MAX_WAIT_SECONDS: "1",
      },
      (line) => {
        // The pool fills while the script waits; the rotator had said 60 s.
        if (line.startsWith("no key")) added ??= addKeys(rotator, KEYS);
      },
    );
    const ids = await added;
    assert.ok(ids !== undefined, "the script never said it was waiting");

    assert.equal(run.code, 0, run.stderr);
    assert.match(
      run.stdout,
      /^no key \(no_key_available\): waiting 1 s \(the rotator said 60 s\)$/m,
    );
    assert.deepEqual(keysSeen(openai), KEYS);
    assert.deepEqual(
      tallyOf(run.stdout),
      new Map(
        KEYS.map((key) => [
          ids.get(key),
          { preview: previewOf(key), calls: 1, ok: 1, failures: "" },
        ]),
      ),
    );
    assertNoSecrets(run);
  });

  test("gives up after five refusals in a row and says why", async (t) => {
    const [{ server: rotator }, openai] = await Promise.all([
      dispenser([]),
      startFakeOpenAI(new Set(KEYS)),
    ]);
    t.after(() => Promise.all([rotator.stop(), openai.close()]));

    const run = await runExample({
      API_KEY_ROTATOR_URL: rotator.url,
      API_KEY_ROTATOR_TOKEN: CLIENT_TOKEN,
      TARGET_URL: openai.chatUrl,
      MAX_WAIT_SECONDS: "0",
    });

    assert.equal(run.code, 1);
    assert.equal(run.stdout.match(/^no key \(no_key_available\): waiting 0 s/gm)?.length, 4);
    assert.match(run.stderr, /^stopped: .*HTTP 503 \(no_key_available\)/m);
    assert.match(run.stdout, /^tally: 0 of 10 calls over 0 keys$/m);
    assert.deepEqual(keysSeen(openai), []);
  });

  test("a key the provider refuses is tallied by status, without its key, and exits 1", async (t) => {
    const revoked = KEYS[1] as string;
    const [{ server: rotator, ids }, openai] = await Promise.all([
      dispenser(KEYS),
      startFakeOpenAI(new Set(KEYS.filter((key) => key !== revoked))),
    ]);
    t.after(() => Promise.all([rotator.stop(), openai.close()]));

    const run = await runExample({
      API_KEY_ROTATOR_URL: rotator.url,
      API_KEY_ROTATOR_TOKEN: CLIENT_TOKEN,
      TARGET_URL: openai.chatUrl,
      CALLS: "6",
    });

    assert.equal(run.code, 1);
    assert.deepEqual(
      tallyOf(run.stdout),
      new Map(
        KEYS.map((key) => [
          ids.get(key),
          key === revoked
            ? { preview: previewOf(key), calls: 2, ok: 0, failures: ", HTTP 401 ×2" }
            : { preview: previewOf(key), calls: 2, ok: 2, failures: "" },
        ]),
      ),
    );
    assertNoSecrets(run);
  });

  test("an unreachable target is tallied as 'no answer' and exits 1", async (t) => {
    const [{ server: rotator, ids }, openai] = await Promise.all([
      dispenser(KEYS),
      startFakeOpenAI(new Set(KEYS)),
    ]);
    t.after(() => rotator.stop());
    await openai.close(); // its port now refuses connections

    const run = await runExample({
      API_KEY_ROTATOR_URL: rotator.url,
      API_KEY_ROTATOR_TOKEN: CLIENT_TOKEN,
      TARGET_URL: openai.chatUrl,
      CALLS: "3",
    });

    assert.equal(run.code, 1);
    assert.deepEqual(
      tallyOf(run.stdout),
      new Map(
        KEYS.map((key) => [
          ids.get(key),
          { preview: previewOf(key), calls: 1, ok: 0, failures: ", no answer ×1" },
        ]),
      ),
    );
    assertNoSecrets(run);
  });

  test("a wrong rotator token stops at once, without showing the token", async (t) => {
    const [{ server: rotator }, openai] = await Promise.all([
      dispenser(KEYS),
      startFakeOpenAI(new Set(KEYS)),
    ]);
    t.after(() => Promise.all([rotator.stop(), openai.close()]));
    const wrong = "not-the-client-token-for-node-0";

    const run = await runExample({
      API_KEY_ROTATOR_URL: rotator.url,
      API_KEY_ROTATOR_TOKEN: wrong,
      TARGET_URL: openai.chatUrl,
    });

    assert.equal(run.code, 1);
    assert.match(run.stderr, /^stopped: .*HTTP 401 \(unauthorized\)/m);
    assert.doesNotMatch(run.stdout, /^no key/m);
    assert.ok(!run.stdout.includes(wrong) && !run.stderr.includes(wrong));
    assert.deepEqual(keysSeen(openai), []);
  });
});
