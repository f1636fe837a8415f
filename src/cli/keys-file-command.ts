import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { SETTINGS } from "../config.ts";
import type { KeyData } from "../core/key-record.ts";
import { newKeyId } from "../key-id.ts";
import { ENCRYPTION_KEY_FORMAT, KeyCipher, parseEncryptionKey } from "../store/key-cipher.ts";
import { errorCode, KeysFile } from "../store/keys-file.ts";
import {
  decodeKeysFile,
  EncryptionMismatchError,
  KeysFileError,
} from "../store/keys-file-codec.ts";
import { ExitCode, UsageError } from "./exit-codes.ts";
import { example } from "./output.ts";
import { fail, runAction } from "./run-action.ts";

interface ConvertFlags {
  keysFile?: string;
  from: string;
  to: string;
}

const SOURCES = "plain, env:VARIABLE or file:PATH";

export function addKeysFileCommand(program: Command): void {
  program
    .command("keys-file")
    .description("work on the keys file itself (stop the server first)")
    .command("convert")
    .description(
      "rewrite the keys file with its key strings encrypted under another key, or in the clear; " +
        "stop the server first, or its next save writes the old format back",
    )
    .option(
      "--keys-file <path>",
      `the keys file (env ${SETTINGS.keysFile.env}, default ${SETTINGS.keysFile.fallback})`,
    )
    // Encryption keys come from the environment or a file, never argv, which `ps` shows.
    .requiredOption("--from <source>", `what the file is encrypted with now: ${SOURCES}`)
    .requiredOption("--to <source>", `what to encrypt it with: ${SOURCES}`)
    .addHelpText(
      "after",
      example(
        "openssl rand -hex 32 > new.key",
        "ENCRYPTION_KEY=$(cat old.key) api-key-rotator keys-file convert \\",
        "  --keys-file /data/keys.json --from env:ENCRYPTION_KEY --to file:new.key",
      ),
    )
    .action(runAction(convert));
}

async function convert(flags: ConvertFlags): Promise<void> {
  const path = flags.keysFile || process.env[SETTINGS.keysFile.env] || SETTINGS.keysFile.fallback;
  const from = await cipherOf("--from", flags.from);
  const to = await cipherOf("--to", flags.to);
  try {
    const keys = await load(path, from);
    // Atomic, like the server's saves: a crash leaves the old file or the new
    // one. No backup copy is kept: it would hold the keys in the old form, plain
    // or under the key being retired, which is what converting is meant to end.
    await new KeysFile(path, to).save(keys).catch((error: unknown) => {
      throw new KeysFileError(`${path}: cannot write the file (${errorCode(error)})`);
    });
    process.stdout.write(
      `converted ${keys.length} keys in ${path}: ${describe(flags.from)} -> ${describe(flags.to)}\n`,
    );
  } catch (error) {
    if (!(error instanceof KeysFileError)) throw error;
    fail(`${error.message}${remedy(error)}`);
    // The file, not the command line, is what is wrong: the code of a refusal.
    process.exitCode = ExitCode.refused;
  }
}

async function load(path: string, cipher: KeyCipher | null): Promise<KeyData[]> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new KeysFileError(`${path}: cannot read the file (${errorCode(error)})`);
  }
  return decodeKeysFile(bytes, path, Date.now(), newKeyId, cipher);
}

async function cipherOf(option: string, source: string): Promise<KeyCipher | null> {
  if (source === "plain") return null;
  let text: string | undefined;
  if (source.startsWith("env:")) {
    text = process.env[source.slice("env:".length)] || undefined;
    if (text === undefined) throw new UsageError(`${option} ${source}: the variable is not set`);
  } else if (source.startsWith("file:")) {
    text = await readFile(source.slice("file:".length), "utf8").catch((error: unknown) => {
      throw new UsageError(`${option} ${source}: cannot read the file (${errorCode(error)})`);
    });
  } else {
    // Not quoted: someone may have put the key itself here.
    throw new UsageError(`${option} must be ${SOURCES}`);
  }
  const key = parseEncryptionKey(text);
  if (!key) throw new UsageError(`${option} ${source} must hold ${ENCRYPTION_KEY_FORMAT}`);
  return new KeyCipher(key);
}

function describe(source: string): string {
  return source === "plain" ? "plain" : `encrypted (${source})`;
}

function remedy(error: KeysFileError): string {
  if (!(error instanceof EncryptionMismatchError)) return "";
  return error.fileEncrypted
    ? "; give their key with --from env:VARIABLE or --from file:PATH"
    : "; it is not encrypted: use --from plain";
}
