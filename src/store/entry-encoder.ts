import { DEFAULT_POOL, hasOutcomes, type KeyData, type OutcomeCounts } from "../core/key-record.ts";
import { dayOf, dayStart, minuteOf, minuteStart } from "../core/windows.ts";
import { BACKSLASH, QUOTE } from "./json-array-elements.ts";
import type { KeyCipher } from "./key-cipher.ts";
import { countedAt, windowOf } from "./keys-file-codec.ts";

// The most bytes UTF-8 takes for one UTF-16 code unit.
const MAX_UTF8_PER_UNIT = 3;

/**
 * keys.json entries (the format is in keys-file-codec.ts) written straight
 * into one buffer that is reused for every chunk of a save. A save encodes
 * every key: building each entry as a string, joining a chunk's strings and
 * converting the text to UTF-8 took 95-160 ms of CPU for 100,000 keys, and
 * left every chunk's strings and a fresh buffer to the garbage collector;
 * writing the bytes here takes 63 ms (bench/README.md). The bytes are exactly
 * those of JSON.stringify of the entry: strings that need escaping still go
 * through JSON.stringify, and so do a key's own limits.
 */
export class EntryEncoder {
  #buffer: Buffer;
  #length = 0;

  constructor(initialBytes: number) {
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.#length;
  }

  /**
   * The bytes written since the last take. They share the encoder's buffer, so
   * they are valid only until the next write: write them out before encoding more.
   */
  take(): Uint8Array {
    const bytes = this.#buffer.subarray(0, this.#length);
    this.#length = 0;
    return bytes;
  }

  /** Writes text the caller knows needs no escaping and is ASCII: the file's punctuation. */
  ascii(text: string): void {
    this.#reserve(text.length);
    const buffer = this.#buffer;
    let at = this.#length;
    for (let i = 0; i < text.length; i++) buffer[at++] = text.charCodeAt(i);
    this.#length = at;
  }

  entry(key: KeyData, cipher: KeyCipher | null): void {
    this.ascii('{"id":');
    this.#string(key.id);
    if (cipher) {
      this.ascii(',"key_encrypted":');
      this.#string(cipher.seal(key.secret, key.id));
    } else {
      this.ascii(',"key":');
      this.#string(key.secret.reveal());
    }
    this.ascii(',"status":');
    this.#string(key.status);
    this.ascii(',"usage":{"requests_this_minute":');
    this.#number(key.minuteCount);
    this.ascii(',"requests_this_day":');
    this.#number(key.dayCount);
    this.#windows(key);
    this.ascii('},"last_used":');
    this.#optionalTime(key.lastUsed);
    this.ascii(',"created_at":');
    this.#time(key.createdAt);
    this.ascii(',"deactivated_at":');
    this.#optionalTime(key.deactivatedAt);
    this.#extension(key);
    this.ascii("}");
  }

  /** Only what differs from the defaults, so most entries keep the seed's shape. */
  #extension(key: KeyData): void {
    if (key.pool !== DEFAULT_POOL) {
      this.ascii(',"pool":');
      this.#string(key.pool);
    }
    if (key.limits !== null) {
      this.ascii(',"limits":');
      this.#utf8(JSON.stringify(key.limits));
    }
    this.#optionalField(',"expires_at":', key.expiresAt);
    this.#optionalField(',"rest_until":', key.restUntil);
    if (key.backoffLevel > 0) {
      this.ascii(',"backoff_level":');
      this.#number(key.backoffLevel);
    }
    if (key.errorStreak > 0) {
      this.ascii(',"error_streak":');
      this.#number(key.errorStreak);
    }
    if (key.halfOpen) this.ascii(',"half_open":true');
    this.#optionalField(',"probe_sent_at":', key.probeSentAt);
    if (hasOutcomes(key.outcomes)) this.#outcomes(key.outcomes);
  }

  #optionalField(name: string, ms: number | null): void {
    if (ms === null) return;
    this.ascii(name);
    this.#time(ms);
  }

  #outcomes({ ok, rateLimited, invalid, error }: OutcomeCounts): void {
    this.ascii(',"outcomes":{"ok":');
    this.#number(ok);
    this.ascii(',"rate_limited":');
    this.#number(rateLimited);
    this.ascii(',"invalid":');
    this.#number(invalid);
    this.ascii(',"error":');
    this.#number(error);
    this.ascii("}");
  }

  /**
   * The counters' windows, where the decoder could not tell them from
   * `last_used`: a dispense sets all three at once, so after the first one a
   * key needs neither. Leaving them out made a save of 100,000 used keys a
   * quarter smaller (34.4 -> 26.1 MB) and cheaper (179-198 -> 157-167 ms of
   * CPU, saves 3-10 of four processes each).
   */
  #windows(key: KeyData): void {
    const counted = countedAt(key.lastUsed);
    if (key.minuteWindow !== windowOf(counted, minuteOf)) {
      this.ascii(',"minute_window":');
      this.#time(Math.max(0, minuteStart(key.minuteWindow)));
    }
    if (key.dayWindow !== windowOf(counted, dayOf)) {
      this.ascii(',"day_window":');
      this.#time(Math.max(0, dayStart(key.dayWindow)));
    }
  }

  // Byte by byte: a call into Buffer#write per string cost more than the loop.
  #string(text: string): void {
    this.#reserve(text.length + 2);
    const buffer = this.#buffer;
    let at = this.#length;
    buffer[at++] = QUOTE;
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code < 0x20 || code > 0x7e || code === QUOTE || code === BACKSLASH) {
        // Nothing is kept of the bytes so far: #length has not moved.
        this.#utf8(JSON.stringify(text));
        return;
      }
      buffer[at++] = code;
    }
    buffer[at++] = QUOTE;
    this.#length = at;
  }

  // As JSON.stringify writes a number: NaN and the infinities become null.
  #number(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) {
      this.ascii(Number.isFinite(n) ? String(n) : "null");
      return;
    }
    let width = 1;
    for (let rest = n; rest >= 10; rest = Math.floor(rest / 10)) width++;
    this.#reserve(width);
    this.#digits(n, width);
  }

  #optionalTime(ms: number | null): void {
    if (ms === null) this.ascii("null");
    else this.#time(ms);
  }

  /** `"<new Date(ms).toISOString()>"`, with the time of day written digit by digit. */
  #time(ms: number): void {
    if (!Number.isSafeInteger(ms) || Math.abs(ms) > MAX_DATE_MS) {
      this.ascii(`"${new Date(ms).toISOString()}"`);
      return;
    }
    const day = Math.floor(ms / DAY_MS);
    const prefix = dayPrefix(day);
    const inDay = ms - day * DAY_MS;
    const seconds = Math.floor(inDay / 1000);
    this.#reserve(prefix.length + TIME_OF_DAY.length + 2);
    this.#buffer[this.#length++] = QUOTE;
    this.ascii(prefix);
    this.#digits(Math.floor(seconds / 3600), 2);
    this.#buffer[this.#length++] = COLON;
    this.#digits(Math.floor(seconds / 60) % 60, 2);
    this.#buffer[this.#length++] = COLON;
    this.#digits(seconds % 60, 2);
    this.#buffer[this.#length++] = DOT;
    this.#digits(inDay % 1000, 3);
    this.#buffer[this.#length++] = Z;
    this.#buffer[this.#length++] = QUOTE;
  }

  // Room was reserved by the caller.
  #digits(n: number, width: number): void {
    for (let place = width - 1; place >= 0; place--) {
      this.#buffer[this.#length + place] = ZERO + (n % 10);
      n = Math.floor(n / 10);
    }
    this.#length += width;
  }

  #utf8(text: string): void {
    this.#reserve(text.length * MAX_UTF8_PER_UNIT);
    this.#length += this.#buffer.write(text, this.#length, "utf8");
  }

  #reserve(bytes: number): void {
    const needed = this.#length + bytes;
    if (needed <= this.#buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.#buffer.length * 2));
    this.#buffer.copy(grown, 0, 0, this.#length);
    this.#buffer = grown;
  }
}

const COLON = 0x3a;
const DOT = 0x2e;
const Z = 0x5a;
const ZERO = 0x30;

const DAY_MS = 86_400_000;
// Date's range; outside it toISOString throws, and so must we.
const MAX_DATE_MS = 8.64e15;
// "2026-11-23T" by day number: Date formats the date once a day, and only the
// time of day is written here. A save meets few distinct days; the bound only
// keeps a pathological file from growing it without end.
const dayPrefixes = new Map<number, string>();
const MAX_CACHED_DAYS = 4096;
const TIME_OF_DAY = "00:00:00.000Z";

function dayPrefix(day: number): string {
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    if (dayPrefixes.size >= MAX_CACHED_DAYS) dayPrefixes.clear();
    prefix = new Date(day * DAY_MS).toISOString().slice(0, -TIME_OF_DAY.length);
    dayPrefixes.set(day, prefix);
  }
  return prefix;
}
