import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { closeDb, databaseUrl, pool } from "./client";
import { isConnectionError } from "./health";

async function terminate(pids: number[]): Promise<void> {
  const admin = new pg.Client({ connectionString: databaseUrl() });
  await admin.connect();
  try {
    const result = await admin.query<{ ended: boolean }>(
      "select pg_terminate_backend(pid) as ended from unnest($1::int[]) as pid",
      [pids],
    );
    expect(result.rows.every((row) => row.ended)).toBe(true);
  } finally {
    await admin.end();
  }
}

async function until(condition: () => boolean): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("the pool when PostgreSQL ends its connections", () => {
  afterAll(() => closeDb());

  it("keeps serving after its idle connections are terminated", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    // Three connections at once, so the pool holds three idle ones afterwards.
    const clients = await Promise.all([pool().connect(), pool().connect(), pool().connect()]);
    const pids = await Promise.all(
      clients.map(
        async (client) => (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid,
      ),
    );
    for (const client of clients) client.release();
    expect(pool().idleCount).toBe(3);

    await terminate(pids);
    // The pool drops each dead client as its error arrives; the process is still here.
    await until(() => pool().totalCount === 0);
    expect(logged).toHaveBeenCalledWith(expect.stringContaining("database connection lost"));

    const after = await pool().query<{ answer: number }>("select 41 + 1 as answer");
    expect(after.rows[0]!.answer).toBe(42);
    logged.mockRestore();
  });

  it("survives a checked-out connection terminated between queries", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const client = await pool().connect();
    const pid = (await client.query<{ pid: number }>("select pg_backend_pid() as pid")).rows[0]!.pid;
    await terminate([pid]);
    await until(() => logged.mock.calls.length > 0);
    const failed = await client.query("select 1").catch((error: unknown) => error);
    expect(isConnectionError(failed)).toBe(true);
    client.release();

    const after = await pool().query<{ pid: number }>("select pg_backend_pid() as pid");
    expect(after.rows[0]!.pid).not.toBe(pid);
    logged.mockRestore();
  });
});
