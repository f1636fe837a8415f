// Micro-benchmark: warm-cache getApiKey() calls per second.
//
//   node bench/client-cache.ts [calls-per-round]
//
// A local node:http server speaks the /next contract; after the first call every call is a
// cache hit. Each call is awaited one after another (the way application code uses it).
// Target: >= 1,000,000 calls/s.

import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createClient, getApiKey } from "../src/client/index.ts";

const CALLS = Number(process.argv[2] ?? 2_000_000);
const ROUNDS = 5;

const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ api_key: "sk-bench", id: "key-bench" }));
});
server.listen(0, "127.0.0.1");
await once(server, "listening");
const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
let requests = 0;
server.on("request", () => {
  requests += 1;
});

async function measure(label: string, call: () => Promise<string>): Promise<void> {
  await call(); // warm the cache
  for (let i = 0; i < 100_000; i++) await call(); // warm the JIT
  const rates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    for (let i = 0; i < CALLS; i++) await call();
    rates.push(CALLS / ((performance.now() - start) / 1000));
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(ROUNDS / 2)] ?? 0;
  const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
  console.log(
    `${label}: median ${fmt(median)} calls/s (min ${fmt(rates[0] ?? 0)}, max ${fmt(rates.at(-1) ?? 0)}; ${ROUNDS} rounds x ${fmt(CALLS)} calls)`,
  );
}

// Pure hit path: the cache never expires during the run.
const client = createClient({ baseUrl, cacheMs: 3_600_000 });
await measure("createClient().getApiKey(), always warm", () => client.getApiKey());

// Module-level function with its default 500 ms cache: includes one real refetch per 500 ms.
process.env.API_KEY_ROTATOR_URL = baseUrl;
await measure("module getApiKey() (env URL), 500 ms cache", () => getApiKey());
await measure('module getApiKey("auto", { baseUrl }), 500 ms cache', () =>
  getApiKey("auto", { baseUrl }),
);

console.log(`HTTP requests made in total: ${requests}`);
server.closeAllConnections();
server.close();
