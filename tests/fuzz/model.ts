import assert from "node:assert/strict";
import { DEFAULT_POOL, type KeyLimits, type Outcome, type Report } from "./formats.ts";
import { type Pool, WATCH_MIN_LENGTH } from "./requests.ts";

/** A pool's limits as the fuzz configures them (README "Pools": per key per minute and day, per pool per minute). */
export interface PoolLimits {
  readonly rpm: number;
  readonly rpd: number;
  readonly tpm: number;
  readonly cooldownMs: number;
}

// The README's default probe_timeout; the fuzz configures no other.
const PROBE_TIMEOUT_MS = 60_000;

/** Dispenses counted per UTC minute and per UTC day. */
class Usage {
  #minute = -1;
  #minuteCount = 0;
  #day = -1;
  #dayCount = 0;

  count(now: number): void {
    const minute = Math.floor(now / 60_000);
    const day = Math.floor(now / 86_400_000);
    this.#minuteCount = minute === this.#minute ? this.#minuteCount + 1 : 1;
    this.#dayCount = day === this.#day ? this.#dayCount + 1 : 1;
    this.#minute = minute;
    this.#day = day;
  }

  thisMinute(now: number): number {
    return Math.floor(now / 60_000) === this.#minute ? this.#minuteCount : 0;
  }

  today(now: number): number {
    return Math.floor(now / 86_400_000) === this.#day ? this.#dayCount : 0;
  }
}

/** What a 2xx said about one key. Times are lower bounds where reports the model does not follow (error streaks) could lengthen them. */
export interface KeyState {
  readonly secret: string;
  readonly pool: string;
  readonly limits: KeyLimits | null;
  readonly expiresAt: number | null;
  /** Deactivated and not reactivated since: Inactive at least until then. */
  inactiveUntil: number | null;
  /** Reported invalid and not reactivated since. */
  disabled: boolean;
  /** A rate_limited report rests it at least until then. */
  restUntil: number;
  /** A probe is out: not handed out again before a report, a reactivate, or then. */
  probeUntil: number;
  /** A rest may have begun since the last reactivate, so a probe may come. */
  mayProbe: boolean;
  readonly outcomes: Record<Outcome, number>;
  readonly usage: Usage;
}

export interface NewKeyState {
  readonly secret: string;
  readonly pool: string;
  readonly limits: KeyLimits | null;
  readonly expiresAt: number | null;
}

/** What the pools must hold, learned only from answers that said something changed. */
export class Model {
  readonly keys = new Map<string, KeyState>();
  /** Every string we must never find outside a dispensed key. */
  readonly watched: Set<string>;
  readonly #defaults: PoolLimits;
  readonly #configured: ReadonlyMap<string, Partial<PoolLimits>>;
  /** By pool name, kept when a pool empties: its cap is per pool per minute whatever happens to its keys. */
  readonly #poolUsage = new Map<string, Usage>();
  #lastDispensed: string | null = null;

  constructor(
    defaults: PoolLimits,
    configured: Readonly<Record<string, Partial<PoolLimits>>>,
    tokens: readonly string[],
  ) {
    this.#defaults = defaults;
    this.#configured = new Map(Object.entries(configured));
    this.watched = new Set(tokens);
  }

  add(id: string, key: NewKeyState): void {
    assert.equal(this.keys.has(id), false, `id ${id} handed out twice`);
    assert.equal(this.idOf(key.secret), undefined, "a key was added twice");
    this.keys.set(id, {
      ...key,
      inactiveUntil: null,
      disabled: false,
      restUntil: 0,
      probeUntil: 0,
      mayProbe: false,
      outcomes: { ok: 0, rate_limited: 0, invalid: 0, error: 0 },
      usage: new Usage(),
    });
    if (key.secret.length >= WATCH_MIN_LENGTH) this.watched.add(key.secret);
  }

  idOf(secret: string): string | undefined {
    for (const [id, key] of this.keys) if (key.secret === secret) return id;
    return undefined;
  }

  get(id: string): KeyState {
    const key = this.keys.get(id);
    assert.ok(key, `key ${id} is not in the pool`);
    return key;
  }

  /** The keys in a stable order, for specs that name one by index. */
  view(now: number): Pool {
    return {
      ids: [...this.keys.keys()],
      secrets: [...this.keys.values()].map((k) => k.secret),
      now,
      lastDispensed: this.#lastDispensed,
    };
  }

  limits(pool: string): PoolLimits {
    return { ...this.#defaults, ...this.#configured.get(pool) };
  }

  /** README: a pool exists while a config file names it or it holds a key (default always). */
  poolExists(pool: string): boolean {
    return (
      pool === DEFAULT_POOL ||
      this.#configured.has(pool) ||
      [...this.keys.values()].some((k) => k.pool === pool)
    );
  }

  pools(): string[] {
    const names = new Set([DEFAULT_POOL, ...this.#configured.keys()]);
    for (const key of this.keys.values()) names.add(key.pool);
    return [...names].sort();
  }

  idsOf(pool: string | null): string[] {
    return [...this.keys]
      .filter(([, key]) => pool === null || key.pool === pool)
      .map(([id]) => id)
      .sort();
  }

  poolUsage(pool: string): Usage {
    let usage = this.#poolUsage.get(pool);
    if (!usage) {
      usage = new Usage();
      this.#poolUsage.set(pool, usage);
    }
    return usage;
  }

  /** The key's rpm and rpd: its own limits, else its pool's. */
  keyLimits(key: KeyState): { rpm: number; rpd: number } {
    const pool = this.limits(key.pool);
    return { rpm: key.limits?.rpm ?? pool.rpm, rpd: key.limits?.rpd ?? pool.rpd };
  }

  /** The earliest the key could be handed out, as far as the model knows; Infinity: not by time alone. */
  availableFrom(key: KeyState, now: number): number {
    if ((key.expiresAt !== null && key.expiresAt <= now) || key.disabled) {
      return Number.POSITIVE_INFINITY;
    }
    let at = Math.max(now, key.restUntil, key.probeUntil, key.inactiveUntil ?? 0);
    const { rpm, rpd } = this.keyLimits(key);
    if (key.usage.thisMinute(now) >= rpm)
      at = Math.max(at, (Math.floor(now / 60_000) + 1) * 60_000);
    if (key.usage.today(now) >= rpd) {
      at = Math.max(at, (Math.floor(now / 86_400_000) + 1) * 86_400_000);
    }
    return at;
  }

  /** Checks that the key could be handed out now, and counts the dispense. */
  dispense(id: string, pool: string, probe: boolean, now: number, where: string): void {
    const key = this.get(id);
    const seen = `${where} (${JSON.stringify({ ...key, secret: undefined, now })})`;
    assert.equal(key.pool, pool, `/next gave a key of another pool: ${seen}`);
    assert.ok(key.expiresAt === null || key.expiresAt > now, `/next gave an expired key: ${seen}`);
    assert.equal(key.disabled, false, `/next gave a Disabled key: ${seen}`);
    assert.ok((key.inactiveUntil ?? 0) <= now, `/next gave a deactivated key: ${seen}`);
    assert.ok(key.restUntil <= now, `/next gave a key resting after rate_limited: ${seen}`);
    assert.ok(key.probeUntil <= now, `/next gave a probed key before its outcome: ${seen}`);
    assert.ok(!probe || key.mayProbe, `a probe for a key that never rested: ${seen}`);
    if (probe) key.probeUntil = now + PROBE_TIMEOUT_MS;
    this.#lastDispensed = id;
    key.usage.count(now);
    const poolUsage = this.poolUsage(pool);
    poolUsage.count(now);
    const { rpm, rpd } = this.keyLimits(key);
    assert.ok(key.usage.thisMinute(now) <= rpm, `a key over its rpm: ${seen}`);
    assert.ok(key.usage.today(now) <= rpd, `a key over its rpd: ${seen}`);
    const { tpm } = this.limits(pool);
    assert.ok(poolUsage.thisMinute(now) <= tpm, `pool ${pool} over its tpm: ${seen}`);
  }

  report(id: string, report: Report, now: number): void {
    const key = this.get(id);
    key.outcomes[report.outcome]++;
    // Whatever the outcome, the probe is answered; a failure's rest is tracked below or not at all.
    key.probeUntil = 0;
    switch (report.outcome) {
      case "invalid":
        key.disabled = true;
        key.restUntil = 0;
        return;
      case "rate_limited": {
        // The cooldown doubles per rest in a row, capped at max_backoff (3600 s, above every cooldown here).
        const restMs = report.retryAfterMs ?? this.limits(key.pool).cooldownMs;
        key.restUntil = Math.max(key.restUntil, now + restMs);
        key.mayProbe = true;
        return;
      }
      case "error":
        key.mayProbe = true;
        return;
      case "ok":
        return;
    }
  }

  deactivate(id: string, now: number): void {
    this.get(id).inactiveUntil = now + this.limits(this.get(id).pool).cooldownMs;
  }

  reactivate(id: string): void {
    Object.assign(this.get(id), {
      inactiveUntil: null,
      disabled: false,
      restUntil: 0,
      probeUntil: 0,
      mayProbe: false,
    });
  }

  remove(id: string): void {
    this.get(id);
    this.keys.delete(id);
  }

  /** The statuses /keys may show for the key now. */
  statuses(key: KeyState, now: number): readonly string[] {
    if (key.expiresAt !== null && key.expiresAt <= now) return ["Expired"];
    if (key.disabled) return ["Disabled"];
    if (key.inactiveUntil === null) return ["Active"];
    // After its cooldown a key is back, but shown Inactive while a limit or rest still holds it.
    return key.inactiveUntil > now ? ["Inactive"] : ["Inactive", "Active"];
  }
}
