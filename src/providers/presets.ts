/** The providers a pool can name in its configuration. */
export const PROVIDER_NAMES = [
  "openai",
  "anthropic",
  "gemini",
  "azure-openai",
  "deepseek",
  "moonshot",
  "zhipu",
  "dashscope",
  "openrouter",
  "custom",
] as const;

export type ProviderName = (typeof PROVIDER_NAMES)[number];

/** Where a request carries the key. */
export type KeyPlacement =
  | { readonly kind: "bearer" }
  | { readonly kind: "header"; readonly name: string }
  | { readonly kind: "query"; readonly name: string };

export interface ProviderPreset {
  readonly name: ProviderName;
  /** The official API root; null when every deployment has its own (a base URL must be configured). */
  readonly baseUrl: string | null;
  readonly auth: KeyPlacement;
  /** Sent with every request besides the key. */
  readonly headers: Readonly<Record<string, string>>;
  /** The cheapest call that needs a valid key, relative to the base URL (GET, no body). */
  readonly testPath: string;
  /** A 400 whose body holds this marker means a bad key (Gemini does not answer 401 for one). */
  readonly invalidKeyMarker?: string;
}

const BEARER: KeyPlacement = { kind: "bearer" };

/** An OpenAI-compatible API: bearer key, GET /models lists the models and needs the key. */
function openAiCompatible(name: ProviderName, baseUrl: string | null): ProviderPreset {
  return { name, baseUrl, auth: BEARER, headers: {}, testPath: "/models" };
}

export const PRESETS: Readonly<Record<ProviderName, ProviderPreset>> = {
  openai: openAiCompatible("openai", "https://api.openai.com/v1"),
  anthropic: {
    name: "anthropic",
    baseUrl: "https://api.anthropic.com/v1",
    auth: { kind: "header", name: "x-api-key" },
    // Anthropic refuses requests without a version.
    headers: { "anthropic-version": "2023-06-01" },
    testPath: "/models",
  },
  gemini: {
    name: "gemini",
    baseUrl: "https://generativelanguage.googleapis.com/v1beta",
    auth: { kind: "header", name: "x-goog-api-key" },
    headers: {},
    testPath: "/models",
    invalidKeyMarker: "API_KEY_INVALID",
  },
  "azure-openai": {
    name: "azure-openai",
    // https://<resource>.openai.azure.com: one per Azure resource.
    baseUrl: null,
    auth: { kind: "header", name: "api-key" },
    headers: {},
    testPath: "/openai/models?api-version=2024-10-21",
  },
  deepseek: openAiCompatible("deepseek", "https://api.deepseek.com/v1"),
  moonshot: openAiCompatible("moonshot", "https://api.moonshot.cn/v1"),
  zhipu: openAiCompatible("zhipu", "https://open.bigmodel.cn/api/paas/v4"),
  dashscope: openAiCompatible("dashscope", "https://dashscope.aliyuncs.com/compatible-mode/v1"),
  openrouter: {
    ...openAiCompatible("openrouter", "https://openrouter.ai/api/v1"),
    // OpenRouter's /models answers without a key, so it would pass any key; /key describes the key sent.
    testPath: "/key",
  },
  custom: openAiCompatible("custom", null),
};

/** The provider settings cannot make a request: a configuration mistake, not the key's fault. */
export class ProviderConfigError extends Error {
  override name = "ProviderConfigError";
}

/**
 * Why `baseUrl` (or the preset's default) cannot be used, or null. For configuration
 * validation; the text never quotes the URL, which may carry credentials.
 */
export function baseUrlProblem(preset: ProviderPreset, baseUrl?: string | null): string | null {
  const raw = baseUrl ?? preset.baseUrl;
  if (raw === null) return `${preset.name} has no default base URL; set base_url`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "base_url is not an absolute URL";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "base_url must be http(s)";
  if (url.username || url.password) return "base_url must not contain credentials";
  if (url.search || url.hash) return "base_url must not have a query or fragment";
  return null;
}

export interface ProviderRequest {
  /** May hold the key (query placement): never log or print it. */
  readonly url: URL;
  readonly headers: Record<string, string>;
}

/**
 * The key-test request for `preset`, against `baseUrlOverride` when given.
 * Throws ProviderConfigError when there is no usable base URL.
 */
export function providerRequest(
  preset: ProviderPreset,
  baseUrlOverride: string | null | undefined,
  secret: string,
): ProviderRequest {
  const problem = baseUrlProblem(preset, baseUrlOverride);
  if (problem) throw new ProviderConfigError(problem);
  const base = (baseUrlOverride ?? (preset.baseUrl as string)).replace(/\/+$/, "");
  // Appended, not resolved: new URL("/models", base) would drop the base's path (/v1).
  const url = new URL(base + preset.testPath);
  const headers: Record<string, string> = { ...preset.headers };
  const { auth } = preset;
  if (auth.kind === "bearer") headers.authorization = `Bearer ${secret}`;
  else if (auth.kind === "header") headers[auth.name] = secret;
  else url.searchParams.set(auth.name, secret);
  return { url, headers };
}
