import type { Context } from "koa";
import type { Clock } from "../core/clock.ts";
import type { Secret } from "../core/secret.ts";
import { retryAfterSeconds } from "../core/windows.ts";
import { type KeyTestOutcome, testKey } from "../providers/key-tester.ts";
import {
  ProviderConfigError,
  type ProviderName,
  type ProviderPreset,
} from "../providers/presets.ts";
import { ApiError } from "./api-error.ts";

/** A key as the route needs it. */
export interface TestedKey {
  readonly id: string;
  readonly secret: Secret;
  readonly pool: string;
}

/** A pool's provider settings, as configured (`provider`, `base_url`). */
export interface PoolProvider {
  readonly provider: ProviderName | ProviderPreset;
  /** null or absent: the preset's official base URL. */
  readonly baseUrl?: string | null | undefined;
}

/**
 * What the route needs from the rest of the server; each may answer synchronously or not.
 *
 * ```ts
 * keyTestRoute({
 *   findKey: (ref) => store.find(ref),          // by id first, then by key string
 *   providerOf: (pool) => config.pools[pool],   // undefined: no provider configured
 *   report: (id, outcome, retryAfterMs) => store.report(id, outcome, retryAfterMs),
 * })
 * ```
 */
export interface KeyTestDeps {
  findKey(ref: string): TestedKey | undefined | Promise<TestedKey | undefined>;
  providerOf(pool: string): PoolProvider | undefined | Promise<PoolProvider | undefined>;
  /** Records the outcome as a caller's report would be; a rejection becomes the answer (e.g. 503). */
  report(id: string, outcome: KeyTestOutcome, retryAfterMs: number | null): Promise<unknown>;
  readonly fetch?: typeof globalThis.fetch;
  readonly now?: Clock;
  readonly timeoutMs?: number;
}

/**
 * POST /keys/:key/test: calls the key's provider with the key, records the outcome, and answers
 * 200 `{id, outcome, status, retry_after, message}` whatever the provider said (the test worked;
 * its finding is in `outcome`). 404 key_not_found, 409 no_provider / provider_misconfigured.
 */
export function keyTestRoute(deps: KeyTestDeps) {
  return async function testKeyRoute(ctx: Context): Promise<void> {
    const key = await deps.findKey(ctx.params.key as string);
    // The reference may be the secret itself, so it is never echoed back.
    if (!key) throw new ApiError(404, "key_not_found", "no key with that id (or key string)");
    const settings = await deps.providerOf(key.pool);
    if (!settings) {
      throw new ApiError(409, "no_provider", "the key's pool has no provider configured", {
        pool: key.pool,
      });
    }
    const result = await testKey({
      ...settings,
      secret: key.secret.reveal(),
      fetch: deps.fetch,
      now: deps.now,
      timeoutMs: deps.timeoutMs,
    }).catch((error: unknown) => {
      if (!(error instanceof ProviderConfigError)) throw error;
      throw new ApiError(409, "provider_misconfigured", error.message, { pool: key.pool });
    });
    await deps.report(key.id, result.outcome, result.retryAfterMs);
    ctx.body = {
      id: key.id,
      outcome: result.outcome,
      status: result.status,
      retry_after: result.retryAfterMs === null ? null : retryAfterSeconds(result.retryAfterMs),
      message: result.message,
    };
  };
}
