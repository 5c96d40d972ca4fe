// /api/v1/versions over the catalog benchmark's million versions, through the real route handler with
// a real token (token lookup, scope, rate limit, the keyset query, the page's version facts, JSON):
//   api_list_p95_ms         p95 of the first page, target ≤ 50 ms
//   api_list_deep_ratio     p95 of a page ~50 cursors deep / p95 of the first page, target ≤ 2
// The caller is a member of two of the twenty projects, so visibility is part of every query.
import { chmod, mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { startEmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { issueApiToken } from "../lib/api/tokens";
import { seed } from "./catalog";
import type { BenchRow } from "./report";

const REPEAT = Number(process.env.BENCH_API_LIST_REPEAT ?? 60);
const DEPTH = 50;
const PAGE = 50;
const TARGET_MS = 50;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

export async function apiListRows(): Promise<BenchRow[]> {
  // BENCH_API_LIST_DIR keeps the seeded database between runs (seeding takes minutes).
  const kept = process.env.BENCH_API_LIST_DIR;
  const work = kept ?? (await mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "hangar-bench-api-list-")));
  if (kept) await mkdir(kept, { recursive: true });
  await chmod(work, 0o755);
  const database = await startEmbeddedPostgres({ dataDir: path.join(work, "pg") });
  const rateLimit = process.env.HANGAR_API_RATE_LIMIT;
  try {
    process.env.DATABASE_URL = database.url;
    // Thousands of requests a minute from one token: this measures the list, not the limiter.
    process.env.HANGAR_API_RATE_LIMIT = "1000000";
    await applyMigrations(database.url);
    const seeded = (await db().execute<{ n: number }>(sql`select count(*)::int as n from projects`)).rows[0]!.n > 0;
    if (!seeded) await seed();
    const [{ id: memberId } = { id: "" }] = (
      await db().execute<{ id: string }>(
        sql`with found as (select id from users where email = 'api-member@bench.local'),
                 made as (insert into users (email, role) select 'api-member@bench.local', 'member'
                          where not exists (select 1 from found) returning id)
            select id from found union all select id from made`,
      )
    ).rows;
    await db().execute(
      sql`insert into project_members (project_id, user_id, role) select id, ${memberId}, 'member' from projects where slug in ('bench-1', 'bench-2') on conflict do nothing`,
    );
    const { secret } = await issueApiToken({
      userId: memberId,
      projectId: null,
      projectRole: null,
      name: "bench",
      scope: "read",
      expiresAt: null,
    });
    const { GET } = await import("../app/api/v1/versions/route");
    const page = async (cursor?: string) => {
      const url = new URL(`http://hangar.bench/api/v1/versions?limit=${PAGE}`);
      if (cursor) url.searchParams.set("cursor", cursor);
      const response = await GET(new Request(url, { headers: { authorization: `Bearer ${secret}` } }), {
        params: Promise.resolve({}),
      });
      if (response.status !== 200) throw new Error(`GET /api/v1/versions answered ${response.status}`);
      return (await response.json()) as { items: unknown[]; nextCursor: string | null };
    };
    let deepCursor: string | undefined;
    for (let index = 0; index < DEPTH; index += 1) {
      const next = await page(deepCursor);
      if (!next.nextCursor || next.items.length !== PAGE) throw new Error("the catalog ran out before the deep page");
      deepCursor = next.nextCursor;
    }
    // First and deep pages alternate, so a change in the machine's load weighs on both alike.
    for (let warm = 0; warm < 3; warm += 1) await Promise.all([page(), page(deepCursor)]);
    const firstTimes: number[] = [];
    const deepTimes: number[] = [];
    for (let index = 0; index < REPEAT; index += 1)
      for (const [cursor, times] of [
        [undefined, firstTimes],
        [deepCursor, deepTimes],
      ] as const) {
        const started = performance.now();
        await page(cursor);
        times.push(performance.now() - started);
      }
    const first = percentile(firstTimes, 95);
    const deep = percentile(deepTimes, 95);
    return [
      {
        metric: "api_list_p95_ms",
        value: first,
        unit: "ms",
        anchor: TARGET_MS,
        ratio: first / TARGET_MS,
        target: `<= ${TARGET_MS} ms (first page of ${PAGE}, p95 of ${REPEAT})`,
        pass: first <= TARGET_MS,
      },
      {
        metric: "api_list_deep_p95_ms",
        value: deep,
        unit: "ms",
        anchor: TARGET_MS,
        ratio: deep / TARGET_MS,
        target: `<= ${TARGET_MS} ms (page ${DEPTH + 1}, p95 of ${REPEAT})`,
        pass: deep <= TARGET_MS,
      },
      {
        metric: "api_list_deep_ratio",
        value: deep / first,
        unit: "x",
        anchor: first,
        ratio: deep / first,
        target: "deep page p95 <= 2x first page p95",
        pass: deep / first <= 2,
      },
    ];
  } finally {
    if (rateLimit === undefined) delete process.env.HANGAR_API_RATE_LIMIT;
    else process.env.HANGAR_API_RATE_LIMIT = rateLimit;
    await closeDb();
    await database.stop();
    if (!kept) await rm(work, { recursive: true, force: true });
  }
}
