// The supervisor of the embedded PostgreSQL, on a server of its own: killed under a running
// process, it comes back on the same port with the same data, and meanwhile the HTTP gate answers
// a clear 503 instead of letting requests run into connection errors.
import { chmod, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answeredDatabaseUnavailable } from "@/lib/http/database-unavailable";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded";
import { isDatabaseAvailable, markDatabaseAvailable } from "./health";

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function query(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  client.on("error", () => {});
  await client.connect();
  try {
    return (await client.query<{ note: string }>("select note from supervised")).rows[0]!.note;
  } finally {
    await client.end();
  }
}

describe("the embedded PostgreSQL's supervisor", () => {
  let work: string;
  let database: EmbeddedDatabase;
  const lines: string[] = [];
  // The same gate scripts/start.ts puts in front of Next and the uploads.
  const server = http.createServer((req, res) => {
    const pathname = new URL(req.url ?? "/", "http://localhost").pathname;
    if (!answeredDatabaseUnavailable(req, res, pathname)) res.end("served");
  });
  let base: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "hangar-supervisor-"));
    await chmod(work, 0o755); // the server runs as the postgres user and must reach its folder
    database = await startEmbeddedPostgres({ dataDir: work, log: (line) => lines.push(line) });
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await client.query("create table supervised (note text); insert into supervised values ('kept')");
    await client.end();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.close();
    await database?.stop();
    markDatabaseAvailable();
    await rm(work, { recursive: true, force: true });
  });

  it("restarts a killed server on the same port and data, answering 503 meanwhile", async () => {
    const firstPid = database.pid();
    expect(firstPid).toBeGreaterThan(0);
    expect((await fetch(`${base}/images`)).status).toBe(200);

    process.kill(firstPid!, "SIGKILL");
    await until(() => !isDatabaseAvailable());

    // During the outage: JSON for the API and uploads, a page for people, both with Retry-After.
    const api = await fetch(`${base}/api/tags?prefix=a`);
    expect(api.status).toBe(503);
    expect(api.headers.get("retry-after")).toBe("5");
    expect(await api.json()).toEqual({
      error: { code: "database_unavailable", message: expect.stringContaining("retry") },
    });
    const upload = await fetch(`${base}/api/uploads/abc`, { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
    expect(upload.status).toBe(503);
    expect(upload.headers.get("tus-resumable")).toBe("1.0.0");
    const page = await fetch(`${base}/images`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(503);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toContain("The database is unavailable");
    // Built assets need no database.
    expect((await fetch(`${base}/_next/static/chunk.js`)).status).toBe(200);

    await until(() => isDatabaseAvailable());
    expect(database.pid()).not.toBe(firstPid);
    expect(await query(database.url)).toBe("kept");
    expect((await fetch(`${base}/images`)).status).toBe(200);
    expect(lines.join("\n")).toMatch(/stopped unexpectedly \(signal SIGKILL\)/);
    expect(lines.join("\n")).toMatch(/is back on port \d+/);
  });

  it("does not restart a server it was asked to stop", async () => {
    await database.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(database.pid()).toBeUndefined();
    expect(isDatabaseAvailable()).toBe(true);
  });
});
