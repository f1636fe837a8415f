import type { Limits } from "./core/limits.ts";
import { ENCRYPTION_KEY_FORMAT, KeyCipher, parseEncryptionKey } from "./store/key-cipher.ts";
import * as z from "./validation.ts";

/** Everything the server needs, validated once at start-up. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly keysFile: string;
  readonly limits: Limits;
  readonly saveIntervalMs: number;
  readonly adminTokens: readonly string[];
  readonly clientTokens: readonly string[];
  readonly insecure: boolean;
  readonly logLevel: string;
  /** The pool config file (--config), if any. */
  readonly configFile: string | null;
  /** Longest a /next?wait= may hold a request. */
  readonly maxWaitMs: number;
  /** Encrypts the key strings in keys.json (--encryption-key); null keeps them plain. */
  readonly cipher: KeyCipher | null;
}

/** A setting a user gave that cannot work; the message says which and what to do. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** The `serve` flags as commander hands them over (strings, or string lists for tokens). */
export interface ServeFlags {
  port?: string;
  host?: string;
  keysFile?: string;
  rpm?: string;
  rpd?: string;
  tpm?: string;
  cooldown?: string;
  saveInterval?: string;
  adminToken?: string[];
  clientToken?: string[];
  insecure?: boolean;
  logLevel?: string;
  config?: string;
  maxWait?: string;
  encryptionKey?: string;
}

// Each setting: its flag, its environment variable, its default. Flags win over env.
export const SETTINGS = {
  port: { flag: "--port", env: "PORT", fallback: "8080" },
  host: { flag: "--host", env: "HOST", fallback: "127.0.0.1" },
  keysFile: { flag: "--keys-file", env: "KEYS_FILE", fallback: "./keys.json" },
  rpm: { flag: "--rpm", env: "RPM", fallback: "2" },
  rpd: { flag: "--rpd", env: "RPD", fallback: "50" },
  tpm: { flag: "--tpm", env: "TPM", fallback: "125000" },
  cooldown: { flag: "--cooldown", env: "COOLDOWN", fallback: "300" },
  saveInterval: { flag: "--save-interval", env: "SAVE_INTERVAL", fallback: "5" },
  adminToken: { flag: "--admin-token", env: "ADMIN_TOKENS", fallback: "" },
  clientToken: { flag: "--client-token", env: "CLIENT_TOKENS", fallback: "" },
  insecure: { flag: "--insecure", env: "INSECURE", fallback: "false" },
  logLevel: { flag: "--log-level", env: "LOG_LEVEL", fallback: "info" },
  config: { flag: "--config", env: "CONFIG", fallback: "" },
  maxWait: { flag: "--max-wait", env: "MAX_WAIT", fallback: "30" },
  encryptionKey: { flag: "--encryption-key", env: "ENCRYPTION_KEY", fallback: "" },
} as const;

type Setting = keyof typeof SETTINGS;
type Env = Readonly<Record<string, string | undefined>>;

const MIN_TOKEN_LENGTH = 16;

export function buildConfig(flags: ServeFlags, env: Env): Config {
  const text = (name: Exclude<Setting, "adminToken" | "clientToken" | "insecure">): string =>
    flags[name] ?? env[SETTINGS[name].env] ?? SETTINGS[name].fallback;
  const config: Config = {
    port: integer("port", text("port"), 0, 65_535),
    host: text("host"),
    keysFile: nonEmpty("keysFile", text("keysFile")),
    limits: {
      rpm: integer("rpm", text("rpm"), 1),
      rpd: integer("rpd", text("rpd"), 1),
      tpm: integer("tpm", text("tpm"), 1),
      cooldownMs: integer("cooldown", text("cooldown"), 0) * 1000,
    },
    saveIntervalMs: integer("saveInterval", text("saveInterval"), 1, 3600) * 1000,
    adminTokens: tokens("adminToken", flags.adminToken, env),
    clientTokens: tokens("clientToken", flags.clientToken, env),
    insecure: flags.insecure ?? bool("insecure", env[SETTINGS.insecure.env]),
    logLevel: logLevel(text("logLevel")),
    configFile: text("config") || null,
    maxWaitMs: integer("maxWait", text("maxWait"), 0, 3600) * 1000,
    cipher: cipher(flags.encryptionKey ?? env[SETTINGS.encryptionKey.env]),
  };
  refuseOpenNetwork(config);
  return config;
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

function refuseOpenNetwork(config: Config): void {
  if (isLoopback(config.host) || config.insecure) return;
  const missing = [
    config.adminTokens.length === 0 && "admin tokens (--admin-token or ADMIN_TOKENS)",
    config.clientTokens.length === 0 && "client tokens (--client-token or CLIENT_TOKENS)",
  ].filter(Boolean);
  if (missing.length === 0) return;
  throw new ConfigError(
    `--host ${config.host} is reachable from other machines, and /next hands out secrets: ` +
      `set ${missing.join(" and ")}, or pass --insecure (INSECURE=true) to serve without them`,
  );
}

function describe(name: Setting): string {
  return `${SETTINGS[name].flag} (${SETTINGS[name].env})`;
}

function integer(name: Setting, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const parsed = z
    .pipe(z.coerce.number(), z.int().check(z.minimum(min), z.maximum(max)))
    .safeParse(value.trim());
  if (value.trim() === "" || !parsed.success) {
    throw new ConfigError(
      `${describe(name)} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed.data;
}

function nonEmpty(name: Setting, value: string): string {
  if (value.trim() === "") throw new ConfigError(`${describe(name)} must not be empty`);
  return value;
}

function bool(name: Setting, value: string | undefined): boolean {
  const normalized = (value ?? "").trim().toLowerCase();
  if (["", "0", "false", "no"].includes(normalized)) return false;
  if (["1", "true", "yes"].includes(normalized)) return true;
  throw new ConfigError(`${describe(name)} must be true or false, got ${JSON.stringify(value)}`);
}

function tokens(name: "adminToken" | "clientToken", flagValues: string[] | undefined, env: Env) {
  const raw = flagValues?.length ? flagValues : [env[SETTINGS[name].env] ?? ""];
  const list = raw.flatMap((value) => value.split(",")).map((token) => token.trim());
  const found = list.filter((token) => token !== "");
  // Quoting a token would put a secret into a start-up error; say which position instead.
  found.forEach((token, index) => {
    if (token.length < MIN_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
      throw new ConfigError(
        `${describe(name)}: token #${index + 1} must be at least ${MIN_TOKEN_LENGTH} printable characters without spaces`,
      );
    }
  });
  return [...new Set(found)];
}

function cipher(value: string | undefined): KeyCipher | null {
  // Set but empty is refused, not taken for "no encryption": it is most likely a
  // substitution that failed, and keys would then be written in the clear.
  if (value === undefined) return null;
  const key = parseEncryptionKey(value);
  // Never quoted: the value is the secret that guards every key.
  if (!key) throw new ConfigError(`${describe("encryptionKey")} must be ${ENCRYPTION_KEY_FORMAT}`);
  return new KeyCipher(key);
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

function logLevel(value: string): string {
  if (!LOG_LEVELS.includes(value)) {
    throw new ConfigError(`${describe("logLevel")} must be one of ${LOG_LEVELS.join(", ")}`);
  }
  return value;
}
