import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildConfig, ConfigError } from "../src/config.ts";
import { KeyCipher } from "../src/store/key-cipher.ts";
import { runUntilExit } from "./helpers/server-process.ts";

const TOKEN_A = "token-aaaaaaaaaaaaaaaa";
const TOKEN_B = "token-bbbbbbbbbbbbbbbb";

describe("configuration", () => {
  it("has the seed's defaults", () => {
    const config = buildConfig({}, {});
    assert.deepEqual(
      [config.port, config.host, config.keysFile, config.limits, config.saveIntervalMs],
      [
        8080,
        "127.0.0.1",
        "./keys.json",
        { rpm: 2, rpd: 50, tpm: 125000, cooldownMs: 300_000 },
        5000,
      ],
    );
  });

  it("reads every setting from the environment, and a flag wins over its variable", () => {
    const config = buildConfig(
      { rpm: "9" },
      {
        PORT: "9000",
        HOST: "127.0.0.2",
        KEYS_FILE: "/data/k.json",
        RPM: "3",
        RPD: "40",
        TPM: "100",
        COOLDOWN: "60",
        SAVE_INTERVAL: "2",
        ADMIN_TOKENS: `${TOKEN_A}, ${TOKEN_B}`,
        CLIENT_TOKENS: TOKEN_B,
        INSECURE: "true",
        LOG_LEVEL: "debug",
        CONFIG: "/etc/akr/pools.json",
        MAX_WAIT: "12",
        ENCRYPTION_KEY: "ab".repeat(32),
      },
    );
    // A cipher shows nothing of its key, so it can only be checked for being there.
    const { cipher, ...rest } = config;
    assert.ok(cipher instanceof KeyCipher);
    assert.deepEqual(rest, {
      port: 9000,
      host: "127.0.0.2",
      keysFile: "/data/k.json",
      limits: { rpm: 9, rpd: 40, tpm: 100, cooldownMs: 60_000 },
      saveIntervalMs: 2000,
      adminTokens: [TOKEN_A, TOKEN_B],
      clientTokens: [TOKEN_B],
      insecure: true,
      logLevel: "debug",
      configFile: "/etc/akr/pools.json",
      maxWaitMs: 12_000,
    });
  });

  it("takes repeated token flags", () => {
    const config = buildConfig(
      { adminToken: [TOKEN_A, TOKEN_B] },
      { ADMIN_TOKENS: "ignored-because-flag-given" },
    );
    assert.deepEqual(config.adminTokens, [TOKEN_A, TOKEN_B]);
  });

  const invalid: [string, Parameters<typeof buildConfig>[0], Record<string, string>, RegExp][] = [
    ["a zero rpm", { rpm: "0" }, {}, /--rpm \(RPM\) must be a whole number from 1/],
    ["a fractional rpd", {}, { RPD: "1.5" }, /--rpd \(RPD\) must be a whole number/],
    [
      "a word for a port",
      { port: "http" },
      {},
      /--port \(PORT\) must be a whole number from 0 to 65535, got "http"/,
    ],
    ["an empty save interval", { saveInterval: "" }, {}, /--save-interval/],
    [
      "a short token",
      { adminToken: ["short"] },
      {},
      /--admin-token \(ADMIN_TOKENS\): token #1 must be at least 16/,
    ],
    ["an unknown log level", { logLevel: "loud" }, {}, /--log-level/],
    ["a vague boolean", {}, { INSECURE: "maybe" }, /--insecure \(INSECURE\) must be true or false/],
  ];
  for (const [name, flags, env, message] of invalid) {
    it(`refuses ${name} with a message naming the flag and variable`, () => {
      assert.throws(
        () => buildConfig(flags, env),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, message);
          return true;
        },
      );
    });
  }

  it("never quotes a token in its error", () => {
    assert.throws(
      () => buildConfig({ clientToken: ["secret tok with spaces!!"] }, {}),
      (error: Error) => !error.message.includes("secret tok"),
    );
  });
});

describe("listening beyond loopback", () => {
  it("is refused without tokens, saying what to set", () => {
    assert.throws(
      () => buildConfig({ host: "0.0.0.0" }, {}),
      /set admin tokens \(--admin-token or ADMIN_TOKENS\) and client tokens \(--client-token or CLIENT_TOKENS\), or pass --insecure/,
    );
  });

  it("is refused with admin tokens alone, since /next would be open", () => {
    assert.throws(
      () => buildConfig({ host: "0.0.0.0", adminToken: [TOKEN_A] }, {}),
      /set client tokens/,
    );
  });

  it("is allowed with both kinds of token, or with --insecure", () => {
    assert.equal(
      buildConfig({ host: "0.0.0.0", adminToken: [TOKEN_A], clientToken: [TOKEN_B] }, {}).host,
      "0.0.0.0",
    );
    assert.equal(buildConfig({ host: "0.0.0.0", insecure: true }, {}).insecure, true);
  });

  it("is allowed on loopback names without tokens", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "::1", "localhost"]) {
      assert.equal(buildConfig({ host }, {}).host, host);
    }
  });

  it("the serve command exits 2 with the message on stderr", async () => {
    const result = await runUntilExit(["--host", "0.0.0.0"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--host 0\.0\.0\.0 is reachable from other machines/);
  });
});
