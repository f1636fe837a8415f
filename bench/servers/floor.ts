import { readFileSync } from "node:fs";
import { createServer } from "node:http";

// The floor under `mode=random` at 100,000 keys: node:http and the least a dispenser holds and
// touches per answer, none of src/. Each key of the seed file keeps its string and a 21-character
// id, as JSON.parse makes them, and ten numbers in ten Float64Arrays (our key table keeps a key's
// numbers in columns). /next takes the next key in order, or with ?mode=random a uniformly random
// one, reads its ten numbers, writes two, and answers our /next's body and headers. The two rows
// (opt-in: `--only floor-100k,floor-100k-random,ours-100k,ours-100k-random`) show what reaching a
// key at random costs with this layout before any of our code runs.
const [portArg = "0", keysFile = ""] = process.argv.slice(2);
const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const NUMBERS = 10;

const keys: string[] = [];
const ids: string[] = [];
for (const entry of JSON.parse(readFileSync(keysFile, "utf8")) as { key: string }[]) {
  keys.push(entry.key);
  ids.push(Array.from({ length: 21 }, () => ID_CHARS[Math.floor(Math.random() * 64)]).join(""));
}
const count = keys.length;
const columns = Array.from({ length: NUMBERS }, () => new Float64Array(count));
let next = 0;
let uses = 0;

function pick(url: string): number {
  if (url.endsWith("mode=random")) return Math.floor(Math.random() * count);
  const slot = next;
  next = next + 1 === count ? 0 : next + 1;
  return slot;
}

function touch(slot: number): void {
  let sum = 0;
  for (const column of columns) sum += column[slot] as number;
  (columns[0] as Float64Array)[slot] = sum + 1;
  (columns[1] as Float64Array)[slot] = ++uses;
}

createServer((req, res) => {
  const slot = pick(req.url ?? "");
  touch(slot);
  const body = JSON.stringify({
    api_key: keys[slot],
    id: ids[slot],
    pool: "default",
    probe: false,
  });
  res.writeHead(200, {
    "Cache-Control": "no-store",
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(body),
  });
  res.end(body);
}).listen(Number(portArg), "127.0.0.1");

// Exit normally on the harness's SIGTERM so `--cpu-prof` gets to write its profile.
process.once("SIGTERM", () => process.exit(0));
