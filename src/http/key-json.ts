import type { KeyView } from "../core/key-record.ts";
import type { PoolSettings } from "../core/limits.ts";
import type { PoolStats } from "../store/key-store.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A key as the API shows it: the seed's field names, a preview and never the secret. */
export function keyJson(key: KeyView) {
  return {
    id: key.id,
    preview: key.preview,
    pool: key.pool,
    status: key.status,
    usage: {
      requests_this_minute: key.requestsThisMinute,
      requests_this_day: key.requestsThisDay,
    },
    limits: key.limits,
    expires_at: iso(key.expiresAt),
    last_used: iso(key.lastUsed),
    created_at: iso(key.createdAt),
    deactivated_at: iso(key.deactivatedAt),
    rest_until: iso(key.restUntil),
    half_open: key.halfOpen,
    error_streak: key.errorStreak,
    outcomes: outcomesJson(key.outcomes),
    available_at: iso(key.availableAt),
  };
}

function outcomesJson(outcomes: KeyView["outcomes"]) {
  return {
    ok: outcomes.ok,
    rate_limited: outcomes.rateLimited,
    invalid: outcomes.invalid,
    error: outcomes.error,
  };
}

function poolJson(stats: PoolStats, settings: PoolSettings, provider: string | null) {
  return {
    provider,
    total_keys: stats.total,
    active_keys: stats.byStatus.Active,
    inactive_keys: stats.byStatus.Inactive,
    disabled_keys: stats.byStatus.Disabled,
    expired_keys: stats.byStatus.Expired,
    available_keys: stats.available,
    dispensed_this_minute: stats.dispensedThisMinute,
    dispensed_today: stats.dispensedToday,
    resting_until: iso(stats.restingUntil),
    outcomes: outcomesJson(stats.outcomes),
    global_cap: { limit: settings.tpm, remaining: stats.globalCapRemaining },
    limits: {
      rpm: settings.rpm,
      rpd: settings.rpd,
      tpm: settings.tpm,
      cooldown_seconds: settings.cooldownMs / 1000,
    },
  };
}

type PoolJson = ReturnType<typeof poolJson>;
const SUMMED = [
  "total_keys",
  "active_keys",
  "inactive_keys",
  "disabled_keys",
  "expired_keys",
  "available_keys",
  "dispensed_this_minute",
  "dispensed_today",
] as const;

/**
 * The seed's totals across all pools at the top (so its callers keep
 * working), the default pool's cap and limits, and every pool in `pools`.
 */
export function statsJson(
  stats: ReadonlyMap<string, PoolStats>,
  settingsOf: (pool: string) => PoolSettings,
  providerOf: (pool: string) => string | null,
  defaultPool: string,
) {
  const pools: Record<string, PoolJson> = {};
  for (const [name, poolStats] of stats)
    pools[name] = poolJson(poolStats, settingsOf(name), providerOf(name));
  const totals = Object.fromEntries(
    SUMMED.map((field) => [
      field,
      Object.values(pools).reduce((sum, pool) => sum + pool[field], 0),
    ]),
  ) as Record<(typeof SUMMED)[number], number>;
  // The default pool always exists (PoolSet creates it), so its cap and limits are there.
  const home = pools[defaultPool] as PoolJson;
  return { ...totals, global_cap: home.global_cap, limits: home.limits, pools };
}
