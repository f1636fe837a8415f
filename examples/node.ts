// Spreads a batch of calls over every key of the rotator: each call takes the next key (least
// recently used first), calls TARGET_URL with it as a Bearer token, and a per-key tally is
// printed at the end. Keys are only ever shown as previews.
//
//   API_KEY_ROTATOR_URL=http://localhost:8080 API_KEY_ROTATOR_TOKEN=<client token> \
//   TARGET_URL=https://api.openai.com/v1/chat/completions CALLS=10 node examples/node.ts
//
// TARGET_URL is sent an OpenAI chat completion request (model MODEL, default gpt-4o-mini).
// When the rotator has no key (503) or its global cap is reached (429), the call waits the
// Retry-After it was given, at most MAX_WAIT_SECONDS (default 30), and asks again.
// Exit code: 0 when every call succeeded, 1 otherwise, 2 for bad settings.

import { setTimeout as sleep } from "node:timers/promises";
import { type ApiKeyResult, createClient, KeyUnavailableError } from "api-key-rotator/client";

/** Consecutive refusals for one call before the batch gives up. */
const MAX_REFUSALS = 5;
const TARGET_TIMEOUT_MS = 60_000;

interface KeyTally {
  readonly preview: string;
  calls: number;
  ok: number;
  /** "HTTP 401", "no answer", … -> how many times. */
  readonly failures: Map<string, number>;
}

/** The server's preview: at most 6 leading and 3 trailing characters, about a third at most. */
function previewOf(key: string): string {
  const head = Math.min(6, Math.floor(key.length / 4));
  const tail = Math.min(3, Math.floor(key.length / 8));
  return `${key.slice(0, head)}…${tail > 0 ? key.slice(-tail) : ""}`;
}

function intFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min) {
    console.error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const targetUrl = process.env.TARGET_URL ?? "https://api.openai.com/v1/chat/completions";
const model = process.env.MODEL ?? "gpt-4o-mini";
const calls = intFromEnv("CALLS", 10, 1);
const maxWaitSeconds = intFromEnv("MAX_WAIT_SECONDS", 30, 0);

// No cache: every call asks the rotator, so consecutive calls get different keys.
const rotator = createClient({ cacheMs: 0 });
// By id: previews of different keys can be equal.
const tally = new Map<string, KeyTally>();

async function nextKey(): Promise<ApiKeyResult> {
  for (let refusals = 1; ; refusals++) {
    try {
      return await rotator.getKey();
    } catch (error) {
      // Only "no key available" (503) and the global cap (429) come with a Retry-After; any
      // other failure (a wrong token, an unreachable rotator) will not pass by waiting.
      if (
        !(error instanceof KeyUnavailableError) ||
        error.retryAfter === undefined ||
        refusals === MAX_REFUSALS
      ) {
        throw error;
      }
      const seconds = Math.min(error.retryAfter, maxWaitSeconds);
      console.log(
        `no key (${error.code}): waiting ${seconds} s (the rotator said ${error.retryAfter} s)`,
      );
      await sleep(seconds * 1000);
    }
  }
}

/** "ok", or what went wrong. The answer's body is not shown: error bodies can quote the key. */
async function callTarget(apiKey: string): Promise<string> {
  try {
    const response = await fetch(targetUrl, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model, messages: [{ role: "user", content: "Say hello." }] }),
      signal: AbortSignal.timeout(TARGET_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.ok ? "ok" : `HTTP ${response.status}`;
  } catch {
    return "no answer";
  }
}

function printTally(): void {
  const done = [...tally.values()].reduce((sum, key) => sum + key.calls, 0);
  console.log(`tally: ${done} of ${calls} calls over ${tally.size} keys`);
  for (const [id, key] of tally) {
    const failures = [...key.failures].map(([what, count]) => `, ${what} ×${count}`).join("");
    console.log(`  ${key.preview} (id ${id}): ${key.calls} calls, ${key.ok} ok${failures}`);
  }
}

let failed = false;
try {
  for (let call = 1; call <= calls; call++) {
    const { apiKey, id } = await nextKey();
    const outcome = await callTarget(apiKey);
    const preview = previewOf(apiKey);
    console.log(`call ${call}/${calls}: ${preview} (id ${id}) -> ${outcome}`);

    let entry = tally.get(id);
    if (entry === undefined) {
      entry = { preview, calls: 0, ok: 0, failures: new Map() };
      tally.set(id, entry);
    }
    entry.calls++;
    if (outcome === "ok") {
      entry.ok++;
    } else {
      failed = true;
      entry.failures.set(outcome, (entry.failures.get(outcome) ?? 0) + 1);
    }
  }
} catch (error) {
  failed = true;
  // KeyUnavailableError messages never contain a key or the rotator token.
  console.error(`stopped: ${error instanceof Error ? error.message : String(error)}`);
}
printTally();
process.exitCode = failed ? 1 : 0;
