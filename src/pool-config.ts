import { readFile } from "node:fs/promises";
import { ConfigError } from "./config.ts";
import { POOL_NAME, POOL_NAME_RULE } from "./core/key-format.ts";
import type { PoolSettings } from "./core/limits.ts";
import { baseUrlProblem, PRESETS, PROVIDER_NAMES, type ProviderName } from "./providers/presets.ts";
import * as z from "./validation.ts";

/** A pool's settings from the config file, overriding the server-wide defaults. */
export interface PoolConfig {
  readonly settings: Partial<PoolSettings>;
  readonly provider: ProviderName | null;
  readonly baseUrl: string | null;
}

const seconds = (min: number) => z.number().check(z.minimum(min), z.maximum(31_536_000));
const whole = z.int().check(z.minimum(1));

const poolSchema = z.strictObject({
  provider: z.optional(z.string().check(z.minLength(1))),
  base_url: z.optional(z.url({ protocol: /^https?$/ })),
  rpm: z.optional(whole),
  rpd: z.optional(whole),
  tpm: z.optional(whole),
  cooldown: z.optional(seconds(0)),
  max_backoff: z.optional(seconds(0)),
  error_threshold: z.optional(whole),
  error_cooldown: z.optional(seconds(0)),
  probe_timeout: z.optional(seconds(0)),
  shared_quota_share: z.optional(z.number().check(z.gt(0), z.maximum(1))),
  shared_quota_window: z.optional(seconds(0)),
});

const fileSchema = z.strictObject({
  pools: z._default(z.record(z.string(), poolSchema), {}),
});

type PoolEntry = z.infer<typeof poolSchema>;

/** Reads and validates the `--config` file; every error names the file and the field. */
export async function loadPoolConfigs(path: string): Promise<Map<string, PoolConfig>> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const why = error instanceof SyntaxError ? "not valid JSON" : "cannot be read";
    throw new ConfigError(`${path}: the config file ${why}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${path}: ${issue?.path.join(".") || "(top level)"}: ${issue?.message}`);
  }
  return new Map(
    Object.entries(parsed.data.pools).map(([name, entry]) => [
      name,
      toPoolConfig(path, name, entry),
    ]),
  );
}

function toPoolConfig(path: string, name: string, entry: PoolEntry): PoolConfig {
  // Checked here, not by zod: its message for a bad record key drops ours.
  if (!POOL_NAME.test(name)) {
    throw new ConfigError(`${path}: pools.${name}: pool names are ${POOL_NAME_RULE}`);
  }
  const provider = entry.provider ?? null;
  if (provider !== null && !(PROVIDER_NAMES as readonly string[]).includes(provider)) {
    throw new ConfigError(
      `${path}: pools.${name}.provider: must be one of ${PROVIDER_NAMES.join(", ")}`,
    );
  }
  const urlProblem = provider && baseUrlProblem(PRESETS[provider as ProviderName], entry.base_url);
  if (urlProblem) throw new ConfigError(`${path}: pools.${name}: ${urlProblem}`);
  const ms = (s: number | undefined) => (s === undefined ? undefined : s * 1000);
  const settings: Partial<PoolSettings> = {
    rpm: entry.rpm,
    rpd: entry.rpd,
    tpm: entry.tpm,
    cooldownMs: ms(entry.cooldown),
    maxBackoffMs: ms(entry.max_backoff),
    errorThreshold: entry.error_threshold,
    errorRestMs: ms(entry.error_cooldown),
    probeTimeoutMs: ms(entry.probe_timeout),
    sharedQuotaShare: entry.shared_quota_share,
    sharedQuotaWindowMs: ms(entry.shared_quota_window),
  };
  return {
    settings: Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)),
    provider: provider as ProviderName | null,
    baseUrl: entry.base_url ?? null,
  };
}

/** Each pool's settings: the server-wide defaults, overridden by its config entry. */
export function settingsResolver(defaults: PoolSettings, pools: ReadonlyMap<string, PoolConfig>) {
  return (pool: string): PoolSettings => ({ ...defaults, ...pools.get(pool)?.settings });
}
