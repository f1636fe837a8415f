import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  PRESETS,
  PROVIDER_NAMES,
  ProviderConfigError,
  providerRequest,
} from "../../src/providers/presets.ts";

const SECRET = "sk-presets-0000000000000000";

describe("providerRequest against the official base URLs", () => {
  const expected: Record<string, [string, Record<string, string>]> = {
    openai: ["https://api.openai.com/v1/models", { authorization: `Bearer ${SECRET}` }],
    anthropic: [
      "https://api.anthropic.com/v1/models",
      { "x-api-key": SECRET, "anthropic-version": "2023-06-01" },
    ],
    gemini: [
      "https://generativelanguage.googleapis.com/v1beta/models",
      { "x-goog-api-key": SECRET },
    ],
    deepseek: ["https://api.deepseek.com/v1/models", { authorization: `Bearer ${SECRET}` }],
    moonshot: ["https://api.moonshot.cn/v1/models", { authorization: `Bearer ${SECRET}` }],
    zhipu: ["https://open.bigmodel.cn/api/paas/v4/models", { authorization: `Bearer ${SECRET}` }],
    dashscope: [
      "https://dashscope.aliyuncs.com/compatible-mode/v1/models",
      { authorization: `Bearer ${SECRET}` },
    ],
    // Its /models answers without a key; /key needs one.
    openrouter: ["https://openrouter.ai/api/v1/key", { authorization: `Bearer ${SECRET}` }],
  };
  for (const [name, [url, headers]] of Object.entries(expected)) {
    test(name, () => {
      // Absent or null (as the config file has it): the preset's own.
      for (const base of [undefined, null]) {
        const request = providerRequest(PRESETS[name as keyof typeof PRESETS], base, SECRET);
        assert.equal(request.url.href, url);
        assert.deepEqual(request.headers, headers);
      }
    });
  }
});

describe("a configured base URL", () => {
  test("keeps its path, with or without a trailing slash", () => {
    for (const base of ["https://proxy.example/openai/v1", "https://proxy.example/openai/v1//"]) {
      const request = providerRequest(PRESETS.openai, base, SECRET);
      assert.equal(request.url.href, "https://proxy.example/openai/v1/models");
    }
  });

  test("azure-openai: the resource root, api-key header", () => {
    const request = providerRequest(
      PRESETS["azure-openai"],
      "https://my-resource.openai.azure.com",
      SECRET,
    );
    assert.equal(
      request.url.href,
      "https://my-resource.openai.azure.com/openai/models?api-version=2024-10-21",
    );
    assert.deepEqual(request.headers, { "api-key": SECRET });
  });

  test("custom: OpenAI-compatible by default; a query placement encodes the key", () => {
    const bearer = providerRequest(PRESETS.custom, "http://10.0.0.5:8000/v1", SECRET);
    assert.equal(bearer.url.href, "http://10.0.0.5:8000/v1/models");
    assert.deepEqual(bearer.headers, { authorization: `Bearer ${SECRET}` });

    const query = providerRequest(
      { ...PRESETS.custom, auth: { kind: "query", name: "key" } },
      "https://llm.example/api",
      "a key&with=odd chars",
    );
    assert.equal(query.url.searchParams.get("key"), "a key&with=odd chars");
    assert.equal(query.url.pathname, "/api/models");
    assert.deepEqual(query.headers, {});
  });
});

describe("unusable base URLs are configuration errors that never quote the URL", () => {
  const cases: [keyof typeof PRESETS, string | undefined, string][] = [
    ["azure-openai", undefined, "azure-openai has no default base URL; set base_url"],
    ["custom", undefined, "custom has no default base URL; set base_url"],
    ["openai", "api.openai.com/v1", "base_url is not an absolute URL"],
    ["openai", "ftp://files.example/v1", "base_url must be http(s)"],
    ["openai", "https://user:hunter2@proxy.example/v1", "base_url must not contain credentials"],
    ["openai", "https://proxy.example/v1?x=1", "base_url must not have a query or fragment"],
  ];
  for (const [name, base, message] of cases) {
    test(`${name} ${base ?? "without one"}`, () => {
      assert.throws(
        () => providerRequest(PRESETS[name], base, SECRET),
        (error) => error instanceof ProviderConfigError && error.message === message,
      );
    });
  }
});

test("PROVIDER_NAMES lists every preset, each under its own name", () => {
  assert.deepEqual(Object.keys(PRESETS).sort(), [...PROVIDER_NAMES].sort());
  for (const name of PROVIDER_NAMES) assert.equal(PRESETS[name].name, name);
});
