// Catalog benchmark: a million versions across a hundred thousand images, measured through the
// app's own query layer and over HTTP, each as a ratio against a baseline from the same run.
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { sql } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { freePort, startEmbeddedPostgres } from "../db/embedded";
import { applyMigrations } from "../db/migrate";
import { encodeCursor, listCatalogImages, listCatalogVersions, type CatalogQuery } from "../db/queries/catalog";
import { getViewerById, type Viewer } from "../db/queries/users";
import { ensureAdmin } from "../db/seed";
import { type BenchRow, median } from "./report";

const IMAGES = Number(process.env.BENCH_CATALOG_IMAGES ?? 100_000);
const VERSIONS_PER_IMAGE = 10;
const PAGE = 50;
const REPEAT = Number(process.env.BENCH_CATALOG_REPEAT ?? 40);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function sample(fn: () => Promise<unknown>, times = REPEAT): Promise<number[]> {
  for (let warm = 0; warm < 3; warm += 1) await fn();
  const durations: number[] = [];
  for (let index = 0; index < times; index += 1) {
    const started = performance.now();
    await fn();
    durations.push(performance.now() - started);
  }
  return durations;
}

export async function seed(): Promise<void> {
  const distros = ["debian", "ubuntu", "alpine", "rocky", "fedora", "centos", "arch", "opensuse", "alma", "oracle"];
  const roles = ["web", "db", "cache", "worker", "ci", "gpu", "edge", "base"];
  const started = performance.now();
  await db().execute(
    sql`insert into projects (slug, name) select 'bench-' || p, 'Bench ' || p from generate_series(1, 20) p`,
  );
  await db().execute(
    sql`insert into tags (name) select unnest(array['lts','base','hardened','gpu','minimal','ci','edge','legacy'])`,
  );
  await db().execute(
    sql.raw(`
    insert into images (slug, name, description, os, os_version, arch, visibility, project_id, tags)
    select 'img-' || i,
           (array['${distros.join("','")}'])[1 + i % 10] || ' ' || (array['${roles.join("','")}'])[1 + i % 8] || ' ' || i
             || case when i % 1000 = 7 then ' zephyrine' else '' end,
           'Image number ' || i || ' for the ' || (array['${roles.join("','")}'])[1 + i % 8] || ' tier',
           initcap((array['${distros.join("','")}'])[1 + i % 10]), (1 + i % 24)::text,
           case when i % 7 = 0 then 'aarch64' else 'x86_64' end,
           case when i % 3 = 0 then 'private' else 'public' end,
           (select id from projects where slug = 'bench-' || (1 + i % 20)),
           array[(array['lts','base','hardened','gpu','minimal','ci','edge','legacy'])[1 + i % 8], (array['lts','base','hardened','gpu','minimal','ci','edge','legacy'])[1 + (i / 8) % 8]]
    from generate_series(1, ${IMAGES}) i`),
  );
  await db().execute(
    sql.raw(`
    insert into blobs (sha256, sha512, size)
    select md5(n::text) || md5((n + 1)::text), md5(n::text), 1048576 from generate_series(1, ${IMAGES * VERSIONS_PER_IMAGE}) n`),
  );
  await db().execute(
    sql.raw(`
    insert into image_versions (image_id, version, format, virtual_size, file_size, sha256, sha512, data_status, release_status, source, created_at)
    select i.id, '1.' || v, (array['qcow2','raw','vmdk','vhdx'])[1 + (n % 4)], (1 + n % 64)::bigint * 1073741824, 1048576,
           md5(n::text) || md5((n + 1)::text), md5(n::text), 'ready',
           (array['approved','approved','approved','pending_review','draft','deprecated'])[1 + n % 6], 'upload',
           now() - make_interval(secs => n)
    from (select id, row_number() over (order by slug) as r from images) i
    cross join generate_series(1, ${VERSIONS_PER_IMAGE}) v
    cross join lateral (select (i.r - 1) * ${VERSIONS_PER_IMAGE} + v as n) k`),
  );
  await db().execute(sql`
    update images i set latest_version_id = l.id, latest_version = l.version, latest_format = l.format,
      latest_virtual_size = l.virtual_size, latest_release_status = l.release_status, version_count = ${VERSIONS_PER_IMAGE},
      updated_at = l.created_at
    from (select distinct on (image_id) image_id, id, version, format, virtual_size, release_status, created_at
          from image_versions order by image_id, created_at desc, id desc) l
    where l.image_id = i.id`);
  await db().execute(sql`
    update images i set released_version_id = r.id, released_version = r.version, released_format = r.format,
      released_virtual_size = r.virtual_size, released_release_status = r.release_status, released_count = r.n
    from (select distinct on (image_id) image_id, id, version, format, virtual_size, release_status,
                 count(*) over (partition by image_id) as n
          from image_versions where release_status in ('approved', 'deprecated', 'disabled', 'revoked')
          order by image_id, created_at desc, id desc) r
    where r.image_id = i.id`);
  await db().execute(sql`vacuum analyze`);
  console.log(
    `Seeded ${IMAGES} images and ${IMAGES * VERSIONS_PER_IMAGE} versions in ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
}

function get(
  port: number,
  pathname: string,
  cookie = "",
): Promise<{ status: number; ttfbMs: number; body: Buffer; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.get(
      { host: "127.0.0.1", port, path: pathname, headers: { cookie, "accept-encoding": "identity" } },
      (res) => {
        const chunks: Buffer[] = [];
        let ttfbMs = -1;
        res.on("data", (chunk: Buffer) => {
          if (ttfbMs < 0) ttfbMs = performance.now() - started;
          chunks.push(chunk);
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            ttfbMs: ttfbMs < 0 ? performance.now() - started : ttfbMs,
            body: Buffer.concat(chunks),
            headers: res.headers,
          }),
        );
      },
    );
    req.on("error", reject);
  });
}

function post(port: number, pathname: string, body: string, cookie: string): Promise<http.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path: pathname,
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.headers));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const cookieHeader = (jar: Map<string, string>) => [...jar].map(([name, value]) => `${name}=${value}`).join("; ");
function takeCookies(jar: Map<string, string>, headers: http.IncomingHttpHeaders) {
  for (const line of headers["set-cookie"] ?? []) {
    const [pair] = line.split(";");
    const [name, ...value] = (pair ?? "").split("=");
    if (name) jar.set(name.trim(), value.join("="));
  }
}

/** Sum of the gzip sizes of every script the page loads, the way a browser's first load sees them. */
async function firstLoadJs(port: number, pathname: string, cookie: string): Promise<number> {
  const html = (await get(port, pathname, cookie)).body.toString("utf8");
  const sources = new Set([...html.matchAll(/<script[^>]+src="([^"]+)"/g)].map((match) => match[1]!));
  let total = gzipSync(
    Buffer.from(
      [...html.matchAll(/<script(?![^>]*src=)[^>]*>([\s\S]*?)<\/script>/g)].map((match) => match[1]).join(""),
    ),
  ).length;
  for (const source of sources) total += gzipSync((await get(port, source, cookie)).body).length;
  return total;
}

async function startApp(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env,
    stdio: "ignore",
  });
  for (let attempt = 0; attempt < 240; attempt += 1) {
    if (
      await get(port, "/sign-in").then(
        (response) => response.status === 200,
        () => false,
      )
    )
      return child;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  child.kill("SIGTERM");
  throw new Error("the app did not start");
}

export async function run(): Promise<BenchRow[]> {
  const work = await mkdtemp(path.join(os.tmpdir(), "hangar-bench-catalog-"));
  await chmod(work, 0o755);
  const database = process.env.BENCH_DATABASE_URL
    ? null
    : await startEmbeddedPostgres({ dataDir: path.join(work, "pg") });
  const url = process.env.BENCH_DATABASE_URL ?? database!.url;
  let app: ChildProcess | undefined;
  try {
    process.env.DATABASE_URL = url;
    await applyMigrations(url);
    const password = `bench-${Math.random().toString(36).slice(2)}-password`;
    const adminId = await ensureAdmin({ email: "bench@hangar.local", password, log: () => {} });
    await seed();
    const admin = (await getViewerById({ id: adminId })) as Viewer;
    const [{ id: memberId } = { id: "" }] = (
      await db().execute<{ id: string }>(
        sql`insert into users (email, role) values ('member@bench.local', 'member') returning id`,
      )
    ).rows;
    await db().execute(
      sql`insert into project_members (project_id, user_id, role) select id, ${memberId}, 'member' from projects where slug in ('bench-1', 'bench-2')`,
    );
    const member = (await getViewerById({ id: memberId })) as Viewer;

    const base = (viewer: Viewer, extra: Partial<CatalogQuery> = {}): CatalogQuery => ({
      viewer,
      sort: "updated",
      order: "desc",
      limit: PAGE,
      ...extra,
    });
    const deepRow = async (table: "image_versions" | "images", column: string, offset: number) => {
      const { rows } = await db().execute<{ key: string; id: string }>(
        sql.raw(
          `select ${column}::text as key, id from ${table} order by ${column} desc, id desc offset ${offset} limit 1`,
        ),
      );
      return encodeCursor(rows[0]!.key, rows[0]!.id);
    };
    const versionsDeep = await deepRow("image_versions", "created_at", 20_000 * PAGE - 1);
    const imagesDeep = await deepRow("images", "updated_at", 1_999 * PAGE - 1);

    const firstVersions = await sample(() => listCatalogVersions(base(admin)));
    const deepVersions = await sample(() => listCatalogVersions(base(admin, { cursor: versionsDeep })));
    const firstImages = await sample(() => listCatalogImages(base(admin)));
    const deepImages = await sample(() => listCatalogImages(base(admin, { cursor: imagesDeep })));
    const memberFirst = await sample(() => listCatalogImages(base(member)));
    const searches: Record<string, number[]> = {};
    for (const [label, q] of [
      ["rare", "zephyrine"],
      ["common", "debian"],
      ["prefix", "ubu"],
      ["two-words", "rocky gpu"],
    ] as const) {
      for (const sort of ["updated", "name"] as const)
        searches[`${label}/${sort}`] = await sample(() =>
          listCatalogImages(base(admin, { q, sort, order: sort === "name" ? "asc" : "desc" })),
        );
    }
    // The metric: a rare and a common term in the catalog's default order. Sorting search
    // results by name is reported on its own row.
    const searchP95 = Math.max(percentile(searches["rare/updated"]!, 95), percentile(searches["common/updated"]!, 95));
    const byNameP95 = Math.max(
      ...Object.entries(searches)
        .filter(([key]) => key.endsWith("/name"))
        .map(([, values]) => percentile(values, 95)),
    );
    const allP95 = Math.max(...Object.values(searches).map((values) => percentile(values, 95)));
    const listP50 = median(firstImages);
    console.log("query p50 (ms):", {
      versionsFirst: median(firstVersions).toFixed(2),
      versionsPage20000: median(deepVersions).toFixed(2),
      imagesFirst: listP50.toFixed(2),
      imagesPage2000: median(deepImages).toFixed(2),
      memberFirst: median(memberFirst).toFixed(2),
    });
    console.log(
      "search p95 (ms):",
      Object.fromEntries(Object.entries(searches).map(([key, values]) => [key, percentile(values, 95).toFixed(2)])),
    );
    await closeDb();

    const port = await freePort();
    app = await startApp(
      {
        ...process.env,
        DATABASE_URL: url,
        HANGAR_DATA_DIR: path.join(work, "data"),
        PORT: String(port),
        HANGAR_SEED_DEMO: "false",
        HANGAR_ADMIN_EMAIL: "bench@hangar.local",
        HANGAR_ADMIN_PASSWORD: password,
        HANGAR_WORKER_CONCURRENCY: "0",
      },
      port,
    );
    const jar = new Map<string, string>();
    const csrf = await get(port, "/api/auth/csrf");
    takeCookies(jar, csrf.headers);
    const token = (JSON.parse(csrf.body.toString()) as { csrfToken: string }).csrfToken;
    takeCookies(
      jar,
      await post(
        port,
        "/api/auth/callback/credentials",
        new URLSearchParams({ csrfToken: token, email: "bench@hangar.local", password }).toString(),
        cookieHeader(jar),
      ),
    );
    const cookie = cookieHeader(jar);
    const catalogResponse = await get(port, "/", cookie);
    if (catalogResponse.status !== 200)
      throw new Error(`the catalog answered ${catalogResponse.status}; sign-in failed?`);
    const ttfb = async (pathname: string, withCookie: string) => {
      for (let warm = 0; warm < 3; warm += 1) await get(port, pathname, withCookie);
      const values: number[] = [];
      for (let index = 0; index < 30; index += 1) values.push((await get(port, pathname, withCookie)).ttfbMs);
      return values;
    };
    const catalogTtfb = await ttfb("/", cookie);
    const staticTtfb = await ttfb("/bench/static", "");
    const catalogJs = await firstLoadJs(port, "/", cookie);
    const helloJs = await firstLoadJs(port, "/bench/hello", cookie);

    const deepRatio = median(deepVersions) / median(firstVersions);
    return [
      {
        metric: "deep_vs_first_page",
        value: median(deepVersions),
        unit: "ms",
        anchor: median(firstVersions),
        ratio: deepRatio,
        target: "<= 2",
        pass: deepRatio <= 2,
      },
      {
        metric: "deep_vs_first_page_images",
        value: median(deepImages),
        unit: "ms",
        anchor: listP50,
        ratio: median(deepImages) / listP50,
        target: "<= 2",
        pass: median(deepImages) / listP50 <= 2,
      },
      {
        metric: "search_p95_ms",
        value: searchP95,
        unit: "ms",
        anchor: 100,
        ratio: searchP95 / 100,
        target: "<= 100 ms",
        pass: searchP95 <= 100,
      },
      {
        metric: "search_p95_vs_list_p50",
        value: searchP95,
        unit: "ms",
        anchor: listP50,
        ratio: searchP95 / listP50,
        target: "<= 20",
        pass: searchP95 / listP50 <= 20,
      },
      {
        metric: "search_by_name_p95_ms",
        value: byNameP95,
        unit: "ms",
        anchor: 100,
        ratio: byNameP95 / 100,
        target: "report (<= 100 ms)",
        pass: byNameP95 <= 100,
      },
      {
        metric: "search_any_p95_vs_list_p50",
        value: allP95,
        unit: "ms",
        anchor: listP50,
        ratio: allP95 / listP50,
        target: "report",
        pass: true,
      },
      {
        metric: "catalog_ttfb_vs_static",
        value: median(catalogTtfb),
        unit: "ms",
        anchor: median(staticTtfb),
        ratio: median(catalogTtfb) / median(staticTtfb),
        target: "report",
        pass: true,
      },
      {
        metric: "catalog_js_vs_baseline",
        value: catalogJs / 1024,
        unit: "KiB gz",
        anchor: helloJs / 1024,
        ratio: catalogJs / helloJs,
        target: "<= 1.5",
        pass: catalogJs / helloJs <= 1.5,
      },
    ];
  } finally {
    app?.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await closeDb();
    await database?.stop();
    await rm(work, { recursive: true, force: true });
  }
}
