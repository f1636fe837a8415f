import { en } from "zod/locales";
import { config } from "zod/mini";

/**
 * zod's tree-shakable build, with its English messages (it has none until told).
 * The classic `zod` import cost the built server 8 MB of RSS at every pool size
 * (755 KB of code, built at start-up) for the few schemas we have.
 * Import it as a namespace (`import * as z`) and use members (`z.string`): the
 * bundler then keeps only the parts used.
 */
config(en());

export * from "zod/mini";
