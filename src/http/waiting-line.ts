import type { Clock } from "../core/clock.ts";
import type { AcquireResult, KeyStore, SelectionMode } from "../store/key-store.ts";

interface Waiter {
  readonly mode: SelectionMode;
  readonly settle: (result: AcquireResult | null) => void;
}

// setTimeout's ceiling; a later wake-up is re-armed when it fires.
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Requests that asked to wait for a key (`/next?wait=`), one first-in
 * first-out line per pool. The head of a line is retried whenever the pool
 * changes (a key added, reactivated or reported) and when time alone would
 * change the answer (the store says when); nobody behind it is served before it.
 */
export class WaitingLine {
  readonly #store: KeyStore;
  readonly #clock: Clock;
  readonly #lines = new Map<string, Waiter[]>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #serving = new Set<string>();

  constructor(store: KeyStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
    store.onChange((pool) => void this.#serve(pool));
  }

  /**
   * A key now if one is free and nobody is waiting, else the first key that
   * frees up within `waitMs`; after that, the usual refusal. Resolves null if
   * `signal` aborts first (the client went away; it leaves the line at once).
   */
  async acquire(
    mode: SelectionMode,
    pool: string,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<AcquireResult | null> {
    // A caller that will not wait is answered at once. It can only get ahead of
    // the line in the instant between a key freeing up and the line being
    // served, since the line is served on the change itself.
    if (waitMs <= 0) return this.#store.acquire(mode, pool);
    if (!this.#lines.get(pool)?.length) {
      const result = await this.#store.acquire(mode, pool);
      if (result.ok) return result;
    }
    const waited = await this.#wait(mode, pool, waitMs, signal);
    if (waited !== "timeout") return waited;
    return this.#store.acquire(mode, pool);
  }

  /** How many requests wait in a pool's line. */
  waiting(pool: string): number {
    return this.#lines.get(pool)?.length ?? 0;
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #wait(
    mode: SelectionMode,
    pool: string,
    waitMs: number,
    signal: AbortSignal,
  ): Promise<AcquireResult | null | "timeout"> {
    return new Promise((resolve) => {
      const line = this.#lines.get(pool) ?? [];
      this.#lines.set(pool, line);
      const leave = (outcome: AcquireResult | null | "timeout") => {
        clearTimeout(deadline);
        signal.removeEventListener("abort", onAbort);
        const at = line.indexOf(waiter);
        if (at >= 0) line.splice(at, 1);
        resolve(outcome);
      };
      const waiter: Waiter = { mode, settle: leave };
      const onAbort = () => leave(null);
      const deadline = setTimeout(() => leave("timeout"), waitMs);
      signal.addEventListener("abort", onAbort, { once: true });
      if (signal.aborted) return leave(null);
      line.push(waiter);
      void this.#serve(pool);
    });
  }

  async #serve(pool: string): Promise<void> {
    if (this.#serving.has(pool)) return;
    this.#serving.add(pool);
    try {
      const line = this.#lines.get(pool) ?? [];
      for (let head = line[0]; head; head = line[0]) {
        const result = await this.#store.acquire(head.mode, pool);
        if (!result.ok) break;
        // The head may have left while the store answered; the key goes to whoever is first now.
        (line[0] ?? head).settle(result);
      }
    } finally {
      this.#serving.delete(pool);
    }
    this.#arm(pool);
  }

  #arm(pool: string): void {
    clearTimeout(this.#timers.get(pool));
    this.#timers.delete(pool);
    if (!this.#lines.get(pool)?.length) return;
    const at = this.#store.nextChangeAt(pool);
    if (at === null) return;
    const delay = Math.min(Math.max(0, at - this.#clock()), MAX_TIMER_MS);
    this.#timers.set(
      pool,
      setTimeout(() => void this.#serve(pool), delay),
    );
  }
}
