import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  type KeyObject,
  randomBytes,
} from "node:crypto";
import { Secret } from "../core/secret.ts";

const ALGORITHM = "aes-256-gcm";
const KEY_BYTES = 32;
// 96 bits is GCM's native nonce size; random ones stay safe far beyond any key count here.
const IV_BYTES = 12;
const TAG_BYTES = 16;
// The version leads so a later format can be told apart; base64url keeps it one JSON-safe token.
const SEALED = /^v1:([A-Za-z0-9_-]{16}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]+)$/;

/** What an encryption key must look like, for messages that may not quote the value. */
export const ENCRYPTION_KEY_FORMAT =
  "64 hex characters or the base64 of 32 bytes (generate one with: openssl rand -hex 32)";

/** The 32 bytes of an AES-256 key written as hex or base64(url); null for anything else. */
export function parseEncryptionKey(text: string): Buffer | null {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) return Buffer.from(trimmed, "base64");
  return null;
}

interface Sealed {
  readonly id: string;
  readonly text: string;
}

/**
 * Seals key strings for keys.json with AES-256-GCM: a random IV per key, and
 * the key's id as additional authenticated data, so a ciphertext moved to
 * another entry fails to open just like an altered one.
 */
export class KeyCipher {
  readonly #key: KeyObject;
  // Saves rewrite every key, and sealing 100,000 of them anew costs seconds of
  // CPU: a key keeps the ciphertext it was loaded or last saved with, found by
  // its key string and used only for the same id. Reusing it tells a reader
  // nothing new. A save keeps what it sealed and drops the rest, so a removed
  // key's ciphertext goes with the next save.
  #sealed = new Map<string, Sealed>();
  #saving: Map<string, Sealed> | null = null;

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new RangeError(`an encryption key is ${KEY_BYTES} bytes`);
    // A KeyObject is set up once; a raw Buffer would be imported again on every call, several times slower.
    this.#key = createSecretKey(key);
  }

  /** A save begins: until `endSave`, the keys it seals are the ones whose ciphertexts are kept. */
  beginSave(): void {
    this.#saving = new Map();
  }

  endSave(): void {
    if (this.#saving === null) return;
    this.#sealed = this.#saving;
    this.#saving = null;
  }

  /** `v1:<iv>:<tag>:<ciphertext>`, each part base64url. */
  seal(secret: Secret, id: string): string {
    const plain = secret.reveal();
    let sealed = this.#saving?.get(plain) ?? this.#sealed.get(plain);
    if (sealed?.id !== id) sealed = { id, text: this.#encrypt(plain, id) };
    (this.#saving ?? this.#sealed).set(plain, sealed);
    return sealed.text;
  }

  #encrypt(plain: string, id: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id, "utf8"));
    const body = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return `v1:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${body.toString("base64url")}`;
  }

  /** The key sealed in `text` for `id`; null when it was sealed under another key or id, altered, or is not a sealed key. */
  open(text: string, id: string): Secret | null {
    const parts = SEALED.exec(text);
    if (!parts) return null;
    const [, iv = "", tag = "", body = ""] = parts;
    const decipher = createDecipheriv(ALGORITHM, this.#key, Buffer.from(iv, "base64url"), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(id, "utf8"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    let plain: string;
    try {
      plain = Buffer.concat([
        decipher.update(Buffer.from(body, "base64url")),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      // final() throws when the tag does not match; its message says nothing more.
      return null;
    }
    this.#sealed.set(plain, { id, text });
    return new Secret(plain);
  }
}
