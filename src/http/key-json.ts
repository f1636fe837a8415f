import type { KeyView } from "../core/key-record.ts";
import type { Limits } from "../core/limits.ts";
import type { PoolStats } from "../store/key-store.ts";

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A key as the API shows it: the seed's field names, a preview and never the secret. */
export function keyJson(key: KeyView) {
  return {
    id: key.id,
    preview: key.preview,
    status: key.status,
    usage: {
      requests_this_minute: key.requestsThisMinute,
      requests_this_day: key.requestsThisDay,
    },
    last_used: iso(key.lastUsed),
    created_at: iso(key.createdAt),
    deactivated_at: iso(key.deactivatedAt),
    available_at: iso(key.availableAt),
  };
}

export function statsJson(stats: PoolStats, limits: Limits) {
  return {
    total_keys: stats.total,
    active_keys: stats.active,
    inactive_keys: stats.inactive,
    available_keys: stats.available,
    dispensed_this_minute: stats.dispensedThisMinute,
    dispensed_today: stats.dispensedToday,
    global_cap: { limit: limits.tpm, remaining: stats.globalCapRemaining },
    limits: {
      rpm: limits.rpm,
      rpd: limits.rpd,
      tpm: limits.tpm,
      cooldown_seconds: limits.cooldownMs / 1000,
    },
  };
}
