import type { PoolSettings } from "./limits.ts";

interface LimitedReport {
  readonly id: string;
  readonly at: number;
  readonly until: number;
}

/**
 * Notices when a pool's keys are being rate limited together: then the
 * provider is limiting the account or the address, not the keys, and handing
 * out the next key only burns it too. Holds the last few seconds of
 * rate_limited reports; bounded by the window, not by the pool size.
 */
export class SharedQuotaDetector {
  #recent: LimitedReport[] = [];

  /** Records a report; returns until when the whole pool should rest, or null. */
  record(
    id: string,
    now: number,
    until: number,
    activeKeys: number,
    settings: PoolSettings,
  ): number | null {
    this.#recent = this.#recent.filter(
      (r) => r.at > now - settings.sharedQuotaWindowMs && r.id !== id,
    );
    this.#recent.push({ id, at: now, until });
    const needed = Math.max(2, Math.ceil(activeKeys * settings.sharedQuotaShare));
    if (this.#recent.length < needed) return null;
    const earliest = Math.min(...this.#recent.map((r) => r.until));
    this.#recent = [];
    return earliest;
  }
}
