import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { createLocalBlobStore } from "./blob-store";
import { hashFile } from "./hash";

const run = promisify(execFile);

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), "hangar-blobs-"));
  const store = createLocalBlobStore({ root: path.join(dir, "blobs") });
  const temp = async (data: Buffer) => {
    const file = path.join(dir, `tmp-${randomBytes(4).toString("hex")}`);
    await writeFile(file, data, { mode: 0o600 });
    return file;
  };
  return { store, temp };
}

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

async function readAll(stream: NodeJS.ReadableStream) {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("local blob store", () => {
  it("stores by sha256, reads whole and by inclusive range, lists, and deletes", async () => {
    const { store, temp } = await setup();
    const data = randomBytes(100_000);
    const digest = sha(data);
    const tempPath = await temp(data);
    expect(await store.putFromTempFile({ tempPath, sha256: digest, size: data.length })).toEqual({ created: true });
    expect(existsSync(tempPath)).toBe(false);
    expect(await store.stat(digest)).toEqual({ size: data.length });
    expect((await readAll(await store.createReadStream(digest))).equals(data)).toBe(true);
    expect((await readAll(await store.createReadStream(digest, { start: 10, end: 19 }))).equals(data.subarray(10, 20))).toBe(true);
    const local = await store.localPath(digest);
    expect(path.basename(local)).toBe(digest);
    expect((await stat(local)).mode & 0o777).toBe(0o444);
    const listed: string[] = [];
    for await (const entry of store.list()) listed.push(entry);
    expect(listed).toEqual([digest]);
    await store.delete(digest);
    expect(await store.stat(digest)).toBeNull();
  });

  it("keeps the same bytes once and removes the second temp file", async () => {
    const { store, temp } = await setup();
    const data = randomBytes(1000);
    await store.putFromTempFile({ tempPath: await temp(data), sha256: sha(data), size: data.length });
    const second = await temp(data);
    expect(await store.putFromTempFile({ tempPath: second, sha256: sha(data), size: data.length })).toEqual({ created: false });
    expect(existsSync(second)).toBe(false);
  });

  it("refuses a size mismatch and leaves the temp file alone", async () => {
    const { store, temp } = await setup();
    const data = randomBytes(1000);
    const tempPath = await temp(data);
    await expect(store.putFromTempFile({ tempPath, sha256: sha(data), size: 999 })).rejects.toThrow(/expected 999/);
    expect(existsSync(tempPath)).toBe(true);
    expect(await store.stat(sha(data))).toBeNull();
  });

  it.each(["../../etc/passwd", "A".repeat(64), "abc", `${"a".repeat(63)}/`, ""])("refuses %j as a blob name everywhere", async (bad) => {
    const { store, temp } = await setup();
    await expect(store.stat(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.createReadStream(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.localPath(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.delete(bad)).rejects.toThrow(/not a sha256/);
    await expect(store.putFromTempFile({ tempPath: await temp(Buffer.from("x")), sha256: bad, size: 1 })).rejects.toThrow(/not a sha256/);
  });

  it("hashes files the way openssl does", async () => {
    const { temp } = await setup();
    const file = await temp(randomBytes(3 * 1024 * 1024 + 7));
    const ours = await hashFile(file);
    const { stdout: sha256 } = await run("openssl", ["dgst", "-sha256", "-r", file]);
    const { stdout: sha512 } = await run("openssl", ["dgst", "-sha512", "-r", file]);
    expect(ours.sha256).toBe(sha256.split(" ")[0]);
    expect(ours.sha512).toBe(sha512.split(" ")[0]);
    expect(ours.size).toBe(3 * 1024 * 1024 + 7);
  });
});
