export interface Limits {
  /** Dispenses per key per UTC minute. */
  readonly rpm: number;
  /** Dispenses per key per UTC day. */
  readonly rpd: number;
  /** Dispenses per UTC minute across all keys of a pool (the seed's "TPM"). */
  readonly tpm: number;
  /** How long a deactivated or rate-limited key rests when nothing says otherwise. */
  readonly cooldownMs: number;
}

/** How a pool treats its keys: limits, and how it reacts to outcome reports. */
export interface PoolSettings extends Limits {
  /** Repeated rate_limited reports double a key's rest up to this. */
  readonly maxBackoffMs: number;
  /** Consecutive error reports before a key takes a rest. */
  readonly errorThreshold: number;
  /** That rest. */
  readonly errorRestMs: number;
  /** A probe with no report for this long counts as a success (callers that never report must not strand keys). */
  readonly probeTimeoutMs: number;
  /** rate_limited reports from this share of a pool's active keys within `sharedQuotaWindowMs` rest the whole pool. */
  readonly sharedQuotaShare: number;
  readonly sharedQuotaWindowMs: number;
}

export const REPORT_DEFAULTS = {
  maxBackoffMs: 3_600_000,
  errorThreshold: 3,
  errorRestMs: 30_000,
  probeTimeoutMs: 60_000,
  sharedQuotaShare: 0.5,
  sharedQuotaWindowMs: 10_000,
} as const;

export function poolSettings(limits: Limits, overrides: Partial<PoolSettings> = {}): PoolSettings {
  return { ...REPORT_DEFAULTS, ...limits, ...overrides };
}

/** A key's own limits, overriding its pool's. */
export interface KeyLimits {
  readonly rpm?: number;
  readonly rpd?: number;
}
