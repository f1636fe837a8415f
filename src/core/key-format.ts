// Provider keys are printable ASCII (sk-…, AIza…, base64url, hex). Refusing
// spaces and control characters catches pasted newlines and binary junk early.
const KEY_PATTERN = /^[\x21-\x7e]+$/;
export const MAX_KEY_LENGTH = 512;

/** Why `value` cannot be an API key, or null when it can. Never echoes the value. */
export function keyFormatProblem(value: unknown): string | null {
  if (typeof value !== "string") return "a key must be a string";
  if (value.length === 0) return "a key must not be empty";
  if (value.length > MAX_KEY_LENGTH) return `a key must be at most ${MAX_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(value)) {
    return "a key may hold only printable ASCII characters (no spaces or control characters)";
  }
  return null;
}

// Ids are ours (nanoid's URL-safe alphabet), so they are safe in paths and logs.
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

// Pool names appear in URLs, config and logs: a short, plain alphabet. A
// leading "." or "-" would read as a path segment or an option.
export const POOL_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const POOL_NAME_RULE = "1-64 characters of a-z 0-9 _ . -, starting with a letter or digit";
