import { MAX_BULK_KEYS } from "../http/key-routes.ts";
import type { AdminClient, BulkJson } from "./admin-client.ts";
import type { KeySource } from "./key-source.ts";
import { fail } from "./run-action.ts";

type Located<T> = T & { line?: number };

/** The server's `/add_bulk` answer for a whole import; `index` counts from the first key sent. */
export interface ImportJson {
  added_count: number;
  skipped_count: number;
  added: Located<BulkJson["added"][number]>[];
  skipped: Located<BulkJson["skipped"][number]>[];
}

/** Sends the keys through `/add_bulk`, at most the server's limit per call, one call at a time. */
export async function addInChunks(client: AdminClient, source: KeySource): Promise<ImportJson> {
  const total: ImportJson = { added_count: 0, skipped_count: 0, added: [], skipped: [] };
  const locate = <T extends { index: number }>(item: T, offset: number): Located<T> => {
    const index = item.index + offset;
    const line = source.lines?.[index];
    return line === undefined ? { ...item, index } : { ...item, index, line };
  };
  for (let offset = 0; offset < source.keys.length; offset += MAX_BULK_KEYS) {
    let answer: BulkJson;
    try {
      answer = await client.addBulk(source.keys.slice(offset, offset + MAX_BULK_KEYS));
    } catch (error) {
      // Earlier calls were saved by the server; say so, or a rerun looks like a mystery.
      if (offset > 0) {
        fail(
          `the first ${offset} keys were sent (added ${total.added_count}, skipped ${total.skipped_count}); the rest were not`,
        );
      }
      throw error;
    }
    total.added_count += answer.added_count;
    total.skipped_count += answer.skipped_count;
    total.added.push(...answer.added.map((item) => locate(item, offset)));
    total.skipped.push(...answer.skipped.map((item) => locate(item, offset)));
  }
  return total;
}

/** `added 2, skipped 1`, then one line per skipped key, naming its line or position. */
export function describeImport(result: ImportJson): string[] {
  return [
    `added ${result.added_count}, skipped ${result.skipped_count}`,
    ...result.skipped.map((item) => {
      const where = item.line === undefined ? `key #${item.index + 1}` : `line ${item.line}`;
      const why =
        item.reason === "duplicate"
          ? `already in the pool as ${item.id}`
          : `invalid: ${item.error}`;
      return `skipped ${where}: ${why}`;
    }),
  ];
}
