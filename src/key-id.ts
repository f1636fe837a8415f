import { nanoid } from "nanoid";

/**
 * A new key id: 12 characters of nanoid's URL-safe alphabet, never starting
 * with '-'. One id in 64 would otherwise start with it, and a command line
 * reads `keys delete -c6EvS9YVTtb` as an unknown option.
 */
export function newKeyId(): string {
  for (;;) {
    const id = nanoid(12);
    if (!id.startsWith("-")) return id;
  }
}
