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

/**
 * Seals key strings for keys.json with AES-256-GCM: a random IV per key, and
 * the key's id as additional authenticated data, so a ciphertext moved to
 * another entry fails to open just like an altered one.
 */
export class KeyCipher {
  readonly #key: KeyObject;
  // Saves rewrite every key, and sealing 100,000 of them anew costs seconds of
  // CPU: a key keeps the ciphertext it was loaded or first sealed with. Reusing
  // it for the same id and key string tells a reader nothing new.
  readonly #sealed = new WeakMap<Secret, { id: string; text: string }>();

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) throw new RangeError(`an encryption key is ${KEY_BYTES} bytes`);
    // A KeyObject is set up once; a raw Buffer would be imported again on every call, several times slower.
    this.#key = createSecretKey(key);
  }

  /** `v1:<iv>:<tag>:<ciphertext>`, each part base64url. */
  seal(secret: Secret, id: string): string {
    const known = this.#sealed.get(secret);
    if (known?.id === id) return known.text;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.#key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(id, "utf8"));
    const body = Buffer.concat([cipher.update(secret.reveal(), "utf8"), cipher.final()]);
    const text = `v1:${iv.toString("base64url")}:${cipher.getAuthTag().toString("base64url")}:${body.toString("base64url")}`;
    this.#sealed.set(secret, { id, text });
    return text;
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
    const secret = new Secret(plain);
    this.#sealed.set(secret, { id, text });
    return secret;
  }
}
