import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";

const DAY_MS = 86_400_000;

/**
 * Writes `count` keys in the seed service's keys.json format (no ids, no
 * windows), so start-up pays for the same decoding a migrated file costs. Every
 * key was last used yesterday: realistic history, yet nothing counts against today.
 */
export async function writeSeedKeysFile(path: string, count: number, now: number): Promise<void> {
  const yesterday = now - DAY_MS;
  const entries = Array.from({ length: count }, (_, i) => {
    const lastUsed = new Date(yesterday - (count - i) * 100).toISOString();
    return {
      key: `sk-proj-${randomBytes(24).toString("hex")}`,
      status: "Active",
      usage: { requests_this_minute: 1, requests_this_day: 3 },
      last_used: lastUsed,
      created_at: new Date(yesterday - 30 * DAY_MS).toISOString(),
      deactivated_at: null,
    };
  });
  await writeFile(path, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
}
