import { execFileSync } from "node:child_process";
import { rm } from "node:fs/promises";
import { after, before } from "node:test";
import { makeTempDir } from "./test-server.ts";

/**
 * A tmpfs of `size` (as mount takes it: "64k") for the enclosing describe,
 * mounted before its tests and removed after: a disk we can fill or make
 * read-only. Mounting needs root, as the suite has in CI. `path` is set once
 * the tests run.
 */
export function useTmpfs(size: string): { readonly path: string } {
  const mount = { path: "" };
  before(async () => {
    mount.path = await makeTempDir();
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", mount.path]);
  });
  after(async () => {
    execFileSync("umount", [mount.path]);
    await rm(mount.path, { recursive: true, force: true });
  });
  return mount;
}
