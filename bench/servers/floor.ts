import { readFileSync } from "node:fs";
import { createServer } from "node:http";

// The floor under `mode=random` at 100,000 keys: node:http and the least a dispenser holds and
// touches per answer, none of src/. Each key of the seed file keeps its string and a 21-character
// id, as JSON.parse makes them, side by side in one array, and ten numbers in a 128-byte record
// (as our key table keeps a key's references and numbers). /next takes the next key in order, or
// with ?mode=random a uniformly random one, reads its ten numbers, writes two, and answers our
// /next's body and headers. The two rows
// (opt-in: `--only floor-100k,floor-100k-random,ours-100k,ours-100k-random`) show what reaching a
// key at random costs with this layout before any of our code runs.
const [portArg = "0", keysFile = ""] = process.argv.slice(2);
const ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const NUMBERS = 10;

const RECORD = 16; // doubles: 128 bytes
const strings: string[] = []; // a key's string, then its id
for (const entry of JSON.parse(readFileSync(keysFile, "utf8")) as { key: string }[]) {
  strings.push(entry.key);
  strings.push(Array.from({ length: 21 }, () => ID_CHARS[Math.floor(Math.random() * 64)]).join(""));
}
const count = strings.length / 2;
const records = new Float64Array(count * RECORD);
let next = 0;
let uses = 0;

function pick(url: string): number {
  if (url.endsWith("mode=random")) return Math.floor(Math.random() * count);
  const slot = next;
  next = next + 1 === count ? 0 : next + 1;
  return slot;
}

function touch(slot: number): void {
  const at = slot * RECORD;
  let sum = 0;
  for (let i = 0; i < NUMBERS; i++) sum += records[at + i] as number;
  records[at] = sum + 1;
  records[at + 1] = ++uses;
}

createServer((req, res) => {
  const slot = pick(req.url ?? "");
  touch(slot);
  const body = JSON.stringify({
    api_key: strings[2 * slot],
    id: strings[2 * slot + 1],
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
