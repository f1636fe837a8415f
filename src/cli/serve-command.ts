import type { Command } from "commander";
import { buildConfig, ConfigError, SETTINGS, type ServeFlags } from "../config.ts";
import { startServer } from "../server.ts";
import { EncryptionMismatchError, KeysFileError } from "../store/keys-file-codec.ts";

const collect = (value: string, previous: string[] = []) => [...previous, value];

const help = (name: keyof typeof SETTINGS, what: string) =>
  `${what} (env ${SETTINGS[name].env}${SETTINGS[name].fallback ? `, default ${SETTINGS[name].fallback}` : ""})`;

export function addServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the key dispenser")
    .option("--port <port>", help("port", "port to listen on (0 picks a free one)"))
    .option("--host <host>", help("host", "address to listen on"))
    .option("--keys-file <path>", help("keysFile", "where keys are kept"))
    .option("--rpm <n>", help("rpm", "dispenses per key per minute"))
    .option("--rpd <n>", help("rpd", "dispenses per key per day"))
    .option("--tpm <n>", help("tpm", "dispenses per minute across all keys"))
    .option("--cooldown <seconds>", help("cooldown", "rest before a deactivated key comes back"))
    .option("--save-interval <seconds>", help("saveInterval", "how often usage counters are saved"))
    .option(
      "--admin-token <token>",
      "token for management routes, repeatable (env ADMIN_TOKENS, comma-separated)",
      collect,
    )
    .option(
      "--client-token <token>",
      "token for /next, repeatable (env CLIENT_TOKENS, comma-separated)",
      collect,
    )
    .option("--insecure", "allow a non-loopback --host without tokens (env INSECURE=true)")
    .option(
      "--log-level <level>",
      help("logLevel", "fatal, error, warn, info, debug, trace or silent"),
    )
    .option("--config <path>", help("config", "pool settings file (JSON; see README)"))
    .option("--max-wait <seconds>", help("maxWait", "longest a /next?wait= may hold a request"))
    .option(
      "--encryption-key <key>",
      help(
        "encryptionKey",
        "keep key strings encrypted in the keys file; prefer the variable, flags show in ps",
      ),
    )
    .addHelpText(
      "after",
      "\nExample:\n  ADMIN_TOKENS=$(openssl rand -hex 24) CLIENT_TOKENS=$(openssl rand -hex 24) \\\n    api-key-rotator serve --host 0.0.0.0 --rpm 3 --rpd 200",
    )
    .action(async (flags: ServeFlags) => {
      await serve(flags);
    });
}

async function serve(flags: ServeFlags): Promise<void> {
  const starting = Promise.resolve().then(() => startServer(buildConfig(flags, process.env)));
  // Installed before the server can say it is listening, so a signal sent the
  // moment it does is a clean stop, never the default abrupt exit.
  const stop = async () => {
    await (await starting).close();
    process.exit(0);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  await starting.catch(refuseToStart);
}

function refuseToStart(error: unknown): never {
  if (error instanceof ConfigError || error instanceof KeysFileError) {
    process.stderr.write(`api-key-rotator: ${error.message}${remedy(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
  throw error;
}

function remedy(error: Error): string {
  if (!(error instanceof EncryptionMismatchError)) return "";
  return error.fileEncrypted
    ? "; set ENCRYPTION_KEY (or --encryption-key) to the key they were encrypted with"
    : '; encrypt it first with "api-key-rotator keys-file convert --from plain --to env:ENCRYPTION_KEY", or start without an encryption key';
}
