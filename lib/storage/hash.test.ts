import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { hashFile } from "./hash";

const run = promisify(execFile);

async function openssl(algorithm: "sha256" | "sha512", file: string) {
  const { stdout } = await run("openssl", ["dgst", `-${algorithm}`, "-r", file]);
  return stdout.split(" ")[0];
}

describe("hashFile", () => {
  it.each([0, 1, 1024 * 1024, 3 * 1024 * 1024 + 7])("agrees with openssl on a %i-byte file", async (size) => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "hangar-hash-")), "data");
    await writeFile(file, randomBytes(size));
    const ours = await hashFile(file);
    expect(ours.sha256).toBe(await openssl("sha256", file));
    expect(ours.sha512).toBe(await openssl("sha512", file));
    expect(ours.size).toBe(size);
  });
});
