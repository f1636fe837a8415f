import { createServer } from "node:http";

// Ceiling (a): what node:http alone costs for one fixed JSON answer, no framework.
const [portArg = "0", key = "sk-bench-fixed-key"] = process.argv.slice(2);
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
