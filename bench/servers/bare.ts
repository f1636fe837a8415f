import { createServer } from "node:http";

// Ceiling (a): what node:http alone costs for one fixed JSON answer, no framework.
// As long as the generated keys (bench/keys-file.ts), so every row sends a like-sized key.
const [portArg = "0", key = `sk-proj-${"0".repeat(48)}`] = process.argv.slice(2);
const body = JSON.stringify({ api_key: key });

createServer((_req, res) => {
  res.writeHead(200, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}).listen(Number(portArg), "127.0.0.1");

// Exit normally on the harness's SIGTERM so `--cpu-prof` gets to write its profile.
process.once("SIGTERM", () => process.exit(0));
