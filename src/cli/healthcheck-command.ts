import { type Command, InvalidArgumentError } from "commander";
import { SETTINGS } from "../config.ts";

type Env = Readonly<Record<string, string | undefined>>;

// Docker reads a health check's exit status: 0 healthy, 1 unhealthy (2 is reserved).
const HEALTHY = 0;
const UNHEALTHY = 1;

/**
 * `healthcheck`: asks a running server for GET /healthz. It exists for container images,
 * which have no curl or shell: the image's HEALTHCHECK runs the binary itself.
 */
export function addHealthcheckCommand(program: Command): void {
  program
    .command("healthcheck")
    .description("exit 0 if the server answers GET /healthz, else 1 (for container health checks)")
    .option(
      "--url <url>",
      "the server's address (default: http://127.0.0.1 on env PORT, or env HOST if specific)",
    )
    .option("--timeout <seconds>", "give up after this long", seconds, 3)
    .action(async (flags: { url?: string; timeout: number }) => {
      process.exitCode = await check(flags.url ?? localUrl(process.env), flags.timeout * 1000);
    });
}

/** Where `serve`, started with the same environment, listens. */
function localUrl(env: Env): string {
  const port = env[SETTINGS.port.env] || SETTINGS.port.fallback;
  const host = env[SETTINGS.host.env];
  // A wildcard address is not one to connect to; loopback reaches the same listener.
  const target = !host || host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return `http://${target.includes(":") ? `[${target}]` : target}:${port}`;
}

async function check(base: string, timeoutMs: number): Promise<number> {
  try {
    const url = new URL("/healthz", base);
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    if (response.ok) return HEALTHY;
    process.stderr.write(`unhealthy: GET /healthz answered HTTP ${response.status}\n`);
  } catch (error) {
    // fetch() says only "fetch failed"; the cause names the refusal or the timeout.
    const reason = error instanceof Error ? String(error.cause ?? error) : String(error);
    process.stderr.write(`unhealthy: ${reason}\n`);
  }
  return UNHEALTHY;
}

function seconds(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) {
    throw new InvalidArgumentError("must be a positive number of seconds");
  }
  return parsed;
}
