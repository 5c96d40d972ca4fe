// Feeds, as platforms read them:
//   marketplace_index_p95_ms    OpenNebula's `<ENDPOINT>/appliance` over 10,000 published versions,
//                               through the real feed handler (secret lookup, scope, the query or
//                               the per-process cache, the document), p95 of BENCH_FEEDS_REPEAT with
//                               nothing changing in between (a change costs one rebuild, ~0.65 s);
//                               target ≤ 100 ms
//   simplestreams_index_p95_ms  what LXD/Incus fetch to list a remote: index.json, then every
//                               products file it names; same versions, same p95; target ≤ 100 ms
//   marketplace_index_vs_list   the marketplace index / paging through the same versions with
//                               GET /api/v1/versions (200 a page), as the catalog API gives them; reported
//   feed_download_vs_static     a feed download of a 1 GiB version through the running app / the
//                               same file from `python3 -m http.server`, medians of
//                               BENCH_FEEDS_ROUNDS, each after `sync`, order alternating; ≤ 1.1
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { closeDb, db } from "../db/client";
import { freePort } from "../db/embedded";
import { getViewerById } from "../db/queries/users";
import { setImagePublishing } from "../db/queries/feeds";
import { handleFeedRequest } from "../lib/feeds/http";
import { createFeed } from "../lib/feeds/service";
import { getBlobStore } from "../lib/storage";
import { startBenchApp, startUploadBench, tusUploadWhole } from "./import";
import { median, type BenchRow } from "./report";

const exec = promisify(execFile);
const VERSIONS = Number(process.env.BENCH_FEEDS_VERSIONS ?? 10_000);
const REPEAT = Number(process.env.BENCH_FEEDS_REPEAT ?? 40);
const ROUNDS = Number(process.env.BENCH_FEEDS_ROUNDS ?? 5);
const SIZE = Number(process.env.BENCH_FEEDS_BYTES ?? 1024 ** 3);
const IMAGES = 100;

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** 10,000 approved versions over 100 published images of one project, their checksums all known. */
export async function seedPublished(projectId: string) {
  const perImage = Math.ceil(VERSIONS / IMAGES);
  await db().execute(sql`
    insert into images (slug, name, os, os_version, project_id, published, published_channels)
    select 'feed-' || g, 'Feed image ' || g, 'Debian', '12', ${projectId}, true, '{latest,stable}'
    from generate_series(1, ${IMAGES}) g`);
  await db().execute(sql`
    insert into blobs (sha256, sha512, md5, size)
    select encode(sha256(('feed-blob-' || g)::bytea), 'hex'), encode(sha512(('feed-blob-' || g)::bytea), 'hex'),
      md5('feed-blob-' || g), 1048576
    from generate_series(1, ${IMAGES * perImage}) g`);
  await db().execute(sql`
    insert into image_versions (image_id, version, format, virtual_size, file_size, sha256, sha512,
      data_status, release_status, source, created_at)
    select i.id, '1.' || v, 'qcow2', 10737418240, 1048576,
      encode(sha256(('feed-blob-' || ((i.n - 1) * ${perImage} + v))::bytea), 'hex'),
      encode(sha512(('feed-blob-' || ((i.n - 1) * ${perImage} + v))::bytea), 'hex'),
      'ready', 'approved', 'upload', now() - make_interval(mins => ${perImage} - v)
    from (select id, row_number() over (order by slug) as n from images where slug like 'feed-%') i
    cross join generate_series(1, ${perImage}) v`);
  // As autovacuum would soon after such a load: plans made on an empty table's statistics are not what runs.
  await db().execute(sql`analyze images; analyze image_versions; analyze blobs`);
}

export async function run(): Promise<BenchRow[]> {
  const { work, dataDir, source, database, password, adminId, project } = await startUploadBench("hangar-bench-feeds-");
  let app: ChildProcess | undefined;
  let statics: ChildProcess | undefined;
  try {
    const admin = (await getViewerById({ id: adminId }))!;
    await seedPublished(project.id);
    const { url } = await createFeed({ viewer: admin, name: "bench" });
    const get = (tail: string) =>
      handleFeedRequest(new Request(url + tail), { address: "127.0.0.1" }).then(async (response) => {
        if (response.status !== 200) throw new Error(`${tail}: ${response.status} ${await response.text()}`);
        // The bytes, as a platform receives them (decoding 10 MB into a string is the client's cost).
        return Buffer.from(await response.arrayBuffer());
      });

    // The catalog API's answer for the same versions: every page of GET /api/v1/versions, as an admin.
    const { secret: listToken } = await import("../lib/api/tokens").then(({ issueApiToken }) =>
      issueApiToken({
        userId: adminId,
        projectId: null,
        projectRole: null,
        name: "list",
        scope: "read",
        expiresAt: null,
      }),
    );
    process.env.HANGAR_API_RATE_LIMIT = "1000000";
    const { GET: listVersions } = await import("../app/api/v1/versions/route");
    const pageThroughList = async () => {
      let cursor: string | null = null;
      let seen = 0;
      do {
        const listUrl = new URL("http://hangar.bench/api/v1/versions?limit=200");
        if (cursor) listUrl.searchParams.set("cursor", cursor);
        const response = await listVersions(
          new Request(listUrl, { headers: { authorization: `Bearer ${listToken}` } }),
          { params: Promise.resolve({}) },
        );
        if (response.status !== 200) throw new Error(`GET /api/v1/versions answered ${response.status}`);
        const body = (await response.json()) as { items: unknown[]; nextCursor: string | null };
        seen += body.items.length;
        cursor = body.nextCursor;
      } while (cursor);
      return seen;
    };

    // Warm the query plans and the builders once.
    await get("opennebula/appliance");
    const marketplace: number[] = [];
    const streams: number[] = [];
    const list: number[] = [];
    for (let round = 0; round < REPEAT; round += 1) {
      marketplace.push(await timedMs(() => get("opennebula/appliance")));
      streams.push(
        await timedMs(async () => {
          const index = JSON.parse((await get("streams/v1/index.json")).toString()) as {
            index: Record<string, { path: string }>;
          };
          for (const entry of Object.values(index.index)) await get(`streams/${entry.path.replace(/^streams\//, "")}`);
        }),
      );
      if (round < 5) list.push(await timedMs(pageThroughList));
    }
    const marketplaceP95 = percentile(marketplace, 95);
    const streamsP95 = percentile(streams, 95);
    const listMedian = median(list);
    const rows: BenchRow[] = [
      {
        metric: "marketplace_index_p95_ms",
        value: marketplaceP95,
        unit: "ms",
        anchor: 100,
        ratio: marketplaceP95 / 100,
        target: `<= 100 ms (${VERSIONS} published versions, p95 of ${REPEAT})`,
        pass: marketplaceP95 <= 100,
      },
      {
        metric: "simplestreams_index_p95_ms",
        value: streamsP95,
        unit: "ms",
        anchor: 100,
        ratio: streamsP95 / 100,
        target: `<= 100 ms (index.json and every products file, ${VERSIONS} versions, p95 of ${REPEAT})`,
        pass: streamsP95 <= 100,
      },
      {
        metric: "marketplace_index_vs_list",
        value: median(marketplace),
        unit: "ms",
        anchor: listMedian,
        ratio: median(marketplace) / listMedian,
        target: `reported: the marketplace index / every page of GET /api/v1/versions (200 a page, the same ${VERSIONS} versions and the bench's own), median of 5`,
        pass: true,
      },
    ];

    // The download: one 1 GiB version through the running app, against python3's static server.
    console.log(`Writing ${SIZE} random bytes...`);
    await exec("sh", ["-c", `head -c ${SIZE} /dev/urandom > '${source}'`]);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    app = await startBenchApp({ database, dataDir, password, port, workers: 0 });
    const [image] = (await db().execute<{ id: string }>(sql`select id from images where slug = 'bench-image'`)).rows;
    const { secret } = await import("../lib/api/tokens").then(({ createTokenFor }) =>
      createTokenFor({ actorId: adminId, owner: admin, name: "bench", scope: "write", expiresInDays: 1 }),
    );
    await tusUploadWhole({
      port,
      auth: { Authorization: `Bearer ${secret}` },
      imageId: image!.id,
      version: "big",
      file: source,
      size: SIZE,
    });
    const [big] = (
      await db().execute<{ id: string; sha256: string }>(
        sql`select id, sha256 from image_versions where version = 'big' and image_id = ${image!.id}`,
      )
    ).rows;
    await db().execute(sql`update image_versions set release_status = 'approved' where id = ${big!.id}`);
    await db().execute(sql`update blobs set md5 = 'bench' where sha256 = ${big!.sha256} and md5 is null`);
    await setImagePublishing({ viewer: admin, imageId: image!.id, published: true });
    const feedPath = new URL(url).pathname;
    const download = `${origin}${feedPath}files/${big!.id}/bench-image-big.img`;
    const blobFile = await getBlobStore().localPath(big!.sha256);
    const staticPort = await freePort();
    statics = spawn("python3", ["-m", "http.server", String(staticPort), "--bind", "127.0.0.1"], {
      cwd: path.dirname(blobFile),
      stdio: "ignore",
    });
    const staticUrl = `http://127.0.0.1:${staticPort}/${path.basename(blobFile)}`;
    for (let attempt = 0; attempt < 50; attempt += 1) {
      const up = await exec("curl", ["-sfI", staticUrl]).then(
        () => true,
        () => false,
      );
      if (up) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const fetchSeconds = async (target: string) => {
      await exec("sync");
      const { stdout } = await exec("curl", ["-sSf", "-o", "/dev/null", "-w", "%{time_total}", target]);
      return Number(stdout);
    };
    // Both read the file from the page cache: it was just written, and the first reader would pay for that.
    await exec("sh", ["-c", `cat "$1" > /dev/null`, "sh", blobFile]);
    const feedTimes: number[] = [];
    const staticTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round % 2 === 0) {
        feedTimes.push(await fetchSeconds(download));
        staticTimes.push(await fetchSeconds(staticUrl));
      } else {
        staticTimes.push(await fetchSeconds(staticUrl));
        feedTimes.push(await fetchSeconds(download));
      }
      console.log(`round ${round}: feed ${feedTimes.at(-1)!.toFixed(2)} s, static ${staticTimes.at(-1)!.toFixed(2)} s`);
    }
    const value = median(feedTimes);
    const anchor = median(staticTimes);
    rows.push({
      metric: "feed_download_vs_static",
      value,
      unit: "s",
      anchor,
      ratio: value / anchor,
      target: `<= 1.1 × python3 -m http.server of the same file (median of ${ROUNDS}, ${SIZE} bytes)`,
      pass: value / anchor <= 1.1,
    });
    return rows;
  } finally {
    statics?.kill("SIGTERM");
    app?.kill("SIGTERM");
    await closeDb();
    await database.stop();
    await rm(work, { recursive: true, force: true });
  }
}
