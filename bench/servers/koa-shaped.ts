import { createServer } from "node:http";
import Router from "@koa/router";
import Koa, { type Context, type Next } from "koa";

// Minimal Koa (koa-min.ts) in the shape of our server, without our code: the same answer and
// headers as our /next, an error-catching middleware, a guard before the handler, our eleven
// routes and allowedMethods. The row (opt-in: `--only koa,koa-shaped,ours-10`) shows what that
// shape costs in Koa itself, apart from anything src/ does.
const [portArg = "0", key = `sk-proj-${"0".repeat(48)}`] = process.argv.slice(2);

const guard = async (_ctx: Context, next: Next) => {
  await next();
};
const other = (ctx: Context) => {
  ctx.body = {};
};

const router = new Router();
router.get("/healthz", other);
router.get("/next", guard, async (ctx) => {
  ctx.set("Cache-Control", "no-store");
  ctx.body = { api_key: key, id: "V1StGXR8_Z5jdHi6B-myT", pool: "default", probe: false };
});
router.post("/report", guard, other);
router.get("/keys", guard, other);
router.get("/stats", guard, other);
router.post("/add", guard, other);
router.post("/add_bulk", guard, other);
router.delete("/delete/:key", guard, other);
router.post("/deactivate/:key", guard, other);
router.post("/reactivate/:key", guard, other);
router.post("/keys/:key/test", guard, other);

const app = new Koa();
app.use(async (ctx, next) => {
  try {
    await next();
    if (ctx.status === 404 && ctx.body === undefined) throw new Error("no such route");
  } catch (error) {
    ctx.status = 500;
    ctx.body = { error: String(error) };
  }
});
app.use(router.routes());
app.use(router.allowedMethods({ throw: true }));

createServer(app.callback()).listen(Number(portArg), "127.0.0.1");

// Exit normally on the harness's SIGTERM so `--cpu-prof` gets to write its profile.
process.once("SIGTERM", () => process.exit(0));
