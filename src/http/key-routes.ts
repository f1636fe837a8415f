import type { Context } from "koa";
import { keyFormatProblem } from "../core/key-format.ts";
import { DEFAULT_POOL } from "../core/key-record.ts";
import type { KeyStore, KeyView, NewKey } from "../store/key-store.ts";
import { ApiError } from "./api-error.ts";
import { keyJson, statsJson } from "./key-json.ts";
import { newKeyOptions } from "./new-key-options.ts";
import { parsePool } from "./next-route.ts";

// Large enough to load a real estate of keys in one call, small enough that
// one call cannot hold the event loop for long.
export const MAX_BULK_KEYS = 10_000;

function bodyObject(ctx: Context): Record<string, unknown> {
  const body: unknown = ctx.request.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError(400, "invalid_body", "the body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

function validKey(value: unknown, field: string): string {
  const problem = keyFormatProblem(value);
  if (problem) throw new ApiError(400, "invalid_key", `${field}: ${problem}`);
  return value as string;
}

function found(view: KeyView | undefined): ReturnType<typeof keyJson> {
  // The reference may be the secret itself, so it is never echoed back.
  if (!view) throw new ApiError(404, "key_not_found", "no key with that id (or key string)");
  return keyJson(view);
}

export function keyRoutes(store: KeyStore, providerOf: (pool: string) => string | null) {
  return {
    async add(ctx: Context): Promise<void> {
      const body = bodyObject(ctx);
      const result = await store.add(validKey(body.key, "key"), newKeyOptions(body));
      if (!result.ok) {
        throw new ApiError(409, "duplicate_key", "that key is already in the pool", {
          id: result.existingId,
        });
      }
      ctx.status = 201;
      ctx.body = keyJson(result.key);
    },

    async addBulk(ctx: Context): Promise<void> {
      const body = bodyObject(ctx);
      const keys = body.keys;
      if (!Array.isArray(keys))
        throw new ApiError(400, "invalid_body", "keys must be an array of strings");
      if (keys.length > MAX_BULK_KEYS) {
        throw new ApiError(400, "too_many_keys", `at most ${MAX_BULK_KEYS} keys per call`);
      }
      const skipped: Record<string, unknown>[] = [];
      const valid: { index: number; key: string }[] = [];
      keys.forEach((key: unknown, index) => {
        const problem = keyFormatProblem(key);
        if (problem) skipped.push({ index, reason: "invalid", error: problem });
        else valid.push({ index, key: key as string });
      });
      const options: NewKey = newKeyOptions(body);
      const results = await store.addBulk(
        valid.map((item) => item.key),
        options,
      );
      const added: Record<string, unknown>[] = [];
      results.forEach((result, i) => {
        const index = (valid[i] as { index: number }).index;
        if (result.ok) added.push({ index, ...keyJson(result.key) });
        else skipped.push({ index, reason: "duplicate", id: result.existingId });
      });
      skipped.sort((a, b) => (a.index as number) - (b.index as number));
      ctx.body = { added_count: added.length, skipped_count: skipped.length, added, skipped };
    },

    async remove(ctx: Context): Promise<void> {
      ctx.body = found(await store.remove(ctx.params.key));
    },

    async deactivate(ctx: Context): Promise<void> {
      ctx.body = found(await store.deactivate(ctx.params.key));
    },

    async reactivate(ctx: Context): Promise<void> {
      ctx.body = found(await store.reactivate(ctx.params.key));
    },

    async list(ctx: Context): Promise<void> {
      // A bare array, as the seed service answers.
      const pool = ctx.query.pool === undefined ? undefined : parsePool(ctx.query.pool, store);
      ctx.body = (await store.list(pool)).map(keyJson);
    },

    async stats(ctx: Context): Promise<void> {
      const settingsOf = (pool: string) => store.settings(pool);
      ctx.body = statsJson(await store.stats(), settingsOf, providerOf, DEFAULT_POOL);
    },
  };
}
