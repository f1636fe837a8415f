import { createServer } from "node:http";
import Router from "@koa/router";
import Koa from "koa";

// Ceiling (b): the least a Koa + @koa/router route can cost, the stack our server is built on.
// As long as the generated keys (bench/keys-file.ts), so every row sends a like-sized key.
const [portArg = "0", key = `sk-proj-${"0".repeat(48)}`] = process.argv.slice(2);

const router = new Router();
router.get("/next", (ctx) => {
  ctx.body = { api_key: key };
});
const app = new Koa();
app.use(router.routes());

createServer(app.callback()).listen(Number(portArg), "127.0.0.1");

// Exit normally on the harness's SIGTERM so `--cpu-prof` gets to write its profile.
process.once("SIGTERM", () => process.exit(0));
