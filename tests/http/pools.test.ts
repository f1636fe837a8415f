import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError } from "../../src/config.ts";
import { loadPoolConfigs } from "../../src/pool-config.ts";
import { FakeClock } from "../helpers/fake-clock.ts";
import { runUntilExit } from "../helpers/server-process.ts";
import { makeTempDir, startTestServer, type TestServer } from "../helpers/test-server.ts";

const CONFIG = {
  pools: {
    openai: { provider: "openai", rpm: 1, tpm: 50 },
    gemini: { provider: "gemini", rpd: 2 },
  },
};

async function configured(clock: FakeClock, dir?: string): Promise<TestServer> {
  const home = dir ?? (await makeTempDir());
  const config = join(home, "pools.json");
  await writeFile(config, JSON.stringify(CONFIG));
  return startTestServer({ config, rpm: "5" }, { clock: clock.now }, home);
}

async function add(server: TestServer, json: Record<string, unknown>) {
  const res = await server.request("/add", { method: "POST", json });
  return { status: res.status, body: await res.json() };
}

async function next(server: TestServer, query = "") {
  const res = await server.request(`/next${query}`);
  return { status: res.status, body: await res.json() };
}

describe("pools", () => {
  it("keep their keys apart: /next?pool= only ever gives that pool's keys", async () => {
    const server = await configured(new FakeClock());
    try {
      await add(server, { key: "sk-default-0000001" });
      await add(server, { key: "sk-openai-00000001", pool: "openai" });
      await add(server, { key: "sk-openai-00000002", pool: "openai" });
      const openai = [await next(server, "?pool=openai"), await next(server, "?pool=openai")];
      assert.deepEqual(
        openai.map((r) => [r.body.api_key, r.body.pool]),
        [
          ["sk-openai-00000001", "openai"],
          ["sk-openai-00000002", "openai"],
        ],
      );
      // the openai pool's rpm of 1 is spent; the default pool (rpm 5) is untouched
      assert.equal((await next(server, "?pool=openai")).status, 503);
      assert.equal((await next(server)).body.api_key, "sk-default-0000001");
      assert.equal((await next(server, "?pool=gemini")).body.code, "no_key_available");
      const listed = await (await server.request("/keys?pool=openai")).json();
      assert.deepEqual(
        listed.map((k: { pool: string }) => k.pool),
        ["openai", "openai"],
      );
    } finally {
      await server.stop();
    }
  });

  it("take their settings from the config file, and /stats reports each", async () => {
    const server = await configured(new FakeClock());
    try {
      await add(server, { key: "sk-gemini-00000001", pool: "gemini" });
      const stats = await (await server.request("/stats")).json();
      assert.deepEqual(Object.keys(stats.pools).sort(), ["default", "gemini", "openai"]);
      assert.equal(stats.pools.openai.provider, "openai");
      assert.deepEqual(stats.pools.openai.limits, {
        rpm: 1,
        rpd: 50,
        tpm: 50,
        cooldown_seconds: 300,
      });
      assert.deepEqual(stats.pools.gemini.limits, {
        rpm: 5,
        rpd: 2,
        tpm: 125000,
        cooldown_seconds: 300,
      });
      assert.equal(stats.pools.gemini.total_keys, 1);
      assert.equal(stats.total_keys, 1);
    } finally {
      await server.stop();
    }
  });

  it("unknown pools are 404, bad pool names 400", async () => {
    const server = await configured(new FakeClock());
    try {
      assert.equal((await next(server, "?pool=nope")).body.code, "pool_not_found");
      assert.equal((await server.request("/keys?pool=nope")).status, 404);
      for (const bad of ["?pool=Open%20AI", "?pool=", "?pool=a&pool=b", "?pool=-x", "?pool=.x"]) {
        assert.equal((await next(server, bad)).body.code, "invalid_pool", bad);
      }
      // The message states the whole rule, the first character included.
      assert.match(
        (await next(server, "?pool=_x")).body.error,
        /a-z 0-9 _ \. -, starting with a letter or digit/,
      );
      assert.equal(
        (await add(server, { key: "sk-badpool-000001", pool: "../x" })).body.code,
        "invalid_pool",
      );
      assert.deepEqual(await (await server.request("/keys")).json(), []);
    } finally {
      await server.stop();
    }
  });

  it("a pool made by adding a key goes away with its last key", async () => {
    const server = await configured(new FakeClock());
    try {
      const { body } = await add(server, { key: "sk-adhoc-00000001", pool: "adhoc" });
      assert.equal((await next(server, "?pool=adhoc")).status, 200);
      await server.request(`/delete/${body.id}`, { method: "DELETE" });
      assert.equal((await next(server, "?pool=adhoc")).body.code, "pool_not_found");
    } finally {
      await server.stop();
    }
  });
});

describe("a key's own limits and expiry", () => {
  it("a key's limits override its pool's", async () => {
    const server = await configured(new FakeClock());
    try {
      await add(server, { key: "sk-ownlimit-00001", limits: { rpm: 1 } });
      await add(server, { key: "sk-poollimit-0001" });
      const got = [];
      for (let i = 0; i < 4; i++) got.push((await next(server)).body.api_key);
      assert.deepEqual(got, [
        "sk-ownlimit-00001",
        "sk-poollimit-0001",
        "sk-poollimit-0001",
        "sk-poollimit-0001",
      ]);
      assert.equal(
        (await add(server, { key: "sk-badlimit-00001", limits: { rpm: 0 } })).status,
        400,
      );
      assert.equal(
        (await add(server, { key: "sk-badlimit-00001", limits: { tpm: 3 } })).status,
        400,
      );
    } finally {
      await server.stop();
    }
  });

  it("an expired key is never dispensed and shows as Expired", async () => {
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const server = await configured(clock);
    try {
      await add(server, { key: "sk-expiring-00001", expires_at: "2026-01-15T10:00:30Z" });
      assert.equal((await next(server)).status, 200);
      clock.set("2026-01-15T10:00:30.000Z");
      const refused = await next(server);
      assert.equal(refused.status, 503);
      const [key] = await (await server.request("/keys")).json();
      assert.deepEqual(
        [key.status, key.expires_at, key.available_at],
        ["Expired", "2026-01-15T10:00:30.000Z", null],
      );
      const stats = await (await server.request("/stats")).json();
      assert.equal(stats.expired_keys, 1);
      assert.equal(
        (await add(server, { key: "sk-badexpiry-0001", expires_at: "soon" })).status,
        400,
      );
    } finally {
      await server.stop();
    }
  });
});

describe("persistence of pools and reports", () => {
  it("keys.json keeps pool, limits, expiry, rests and outcomes; a plain key keeps the seed's shape", async () => {
    const clock = new FakeClock("2026-01-15T10:00:00.000Z");
    const dir = await makeTempDir();
    const first = await configured(clock, dir);
    const { body } = await add(first, {
      key: "sk-persist-00001",
      pool: "openai",
      limits: { rpd: 9 },
      expires_at: "2027-01-01T00:00:00Z",
    });
    await add(first, { key: "sk-plain-0000001" });
    await first.request("/report", {
      method: "POST",
      json: { id: body.id, outcome: "rate_limited", retry_after: 40 },
    });
    await first.close();

    const onDisk: { key: string }[] = JSON.parse(await readFile(join(dir, "keys.json"), "utf8"));
    const plain = onDisk.find((k) => k.key === "sk-plain-0000001") as object;
    assert.deepEqual(Object.keys(plain).sort(), [
      "created_at",
      "deactivated_at",
      "id",
      "key",
      "last_used",
      "status",
      "usage",
    ]);
    const second = await configured(clock, dir);
    try {
      const keys = await (await second.request("/keys?pool=openai")).json();
      assert.deepEqual(
        [keys[0].limits, keys[0].expires_at, keys[0].rest_until, keys[0].outcomes.rate_limited],
        [{ rpd: 9 }, "2027-01-01T00:00:00.000Z", "2026-01-15T10:00:40.000Z", 1],
      );
    } finally {
      await second.stop();
    }
  });
});

describe("the config file", () => {
  const bad: [string, string, RegExp][] = [
    ["not JSON", "{pools:", /the config file not valid JSON/],
    [
      "an unknown setting",
      '{"pools": {"openai": {"rmp": 3}}}',
      /pools\.openai: Unrecognized key: "rmp"/,
    ],
    ["a bad number", '{"pools": {"openai": {"rpm": 0}}}', /pools\.openai\.rpm: /],
    [
      "an unknown provider",
      '{"pools": {"x": {"provider": "acme"}}}',
      /pools\.x\.provider: must be one of openai/,
    ],
    ["a bad pool name", '{"pools": {"Open AI": {}}}', /pools\.Open AI: pool names are/],
    ["a bad base URL", '{"pools": {"x": {"base_url": "ftp://x"}}}', /pools\.x\.base_url/],
  ];
  for (const [name, text, message] of bad) {
    it(`refuses ${name}, naming the file and field`, async () => {
      const file = join(await makeTempDir(), "pools.json");
      await writeFile(file, text);
      await assert.rejects(loadPoolConfigs(file), (error: Error) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, new RegExp(`^${file}: `));
        assert.match(error.message, message);
        return true;
      });
    });
  }

  it("stops the server at start with exit code 2", async () => {
    const dir = await makeTempDir();
    await writeFile(join(dir, "pools.json"), '{"pools": {"openai": {"rpm": -1}}}');
    const result = await runUntilExit([
      "--config",
      join(dir, "pools.json"),
      "--keys-file",
      join(dir, "k.json"),
    ]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /pools\.openai\.rpm/);
  });
});
