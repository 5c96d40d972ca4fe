// Scale-out benchmark (issue 16), against a real S3-compatible server: a one-node OpenStack Swift
// with its S3 API on loopback (tests/swift.ts), and the app on HANGAR_BLOB_STORE=s3.
//   s3_upload_vs_put     a 1 GiB random file uploaded through Hangar (tus, until the version is
//                        ready, the blob in the bucket) / what a careful operator runs to put the
//                        same file there: `openssl dgst -sha256` + a bare @aws-sdk/lib-storage
//                        Upload; ≤ 1.2. Each round changes the file's first bytes, so neither side
//                        finds the object already there.
//   s3_download_vs_get   the version downloaded through Hangar (curl -o /dev/null of the API's
//                        download, streamed from the bucket) / a bare GetObject of the same object
//                        read to the end in this process; ≤ 1.1.
// Medians of BENCH_SCALE_ROUNDS (3), order alternating inside each pair, `sync` before each.
// Then the worker rows (bench/scale-workers.ts): workers_2_vs_1, duplicated_outputs, lost_jobs,
// cache_hit_build_vs_miss. BENCH_SCALE_PARTS=transfer or =workers runs one half.
import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { createReadStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { and, eq } from "drizzle-orm";
import { db } from "../db/client";
import { freePort } from "../db/embedded";
import { getViewerById } from "../db/queries/users";
import { imageVersions } from "../db/schema";
import { createTokenFor } from "../lib/api/tokens";
import { getBlobStore, type S3BlobStore } from "../lib/storage";
import { createTestBucket, startSwift, stopSwift, swiftClient, type SwiftServer } from "../tests/swift";
import { startBenchApp, startUploadBench, tusUploadWhole } from "./import";
import { median, type BenchRow } from "./report";
import { workerRows } from "./scale-workers";

const exec = promisify(execFile);
const SIZE = Number(process.env.BENCH_SCALE_BYTES ?? 1024 ** 3);
const ROUNDS = Number(process.env.BENCH_SCALE_ROUNDS ?? 3);
const PARTS = (process.env.BENCH_SCALE_PARTS ?? "transfer,workers").split(",");

async function timed(fn: () => Promise<unknown>): Promise<number> {
  await exec("sync");
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** Makes the file's bytes new for this round (its first 16 bytes), so no store has them yet. */
async function freshen(file: string, round: string) {
  const handle = await open(file, "r+");
  try {
    await handle.write(Buffer.from(round.padEnd(16, "-").slice(0, 16)), 0, 16, 0);
  } finally {
    await handle.close();
  }
}

export async function run(): Promise<BenchRow[]> {
  const { work, dataDir, source, database, password, adminId, image, project } =
    await startUploadBench("hangar-bench-scale-");
  let swift: SwiftServer | undefined;
  let app: ChildProcess | undefined;
  try {
    console.log("Starting Swift...");
    swift = await startSwift();
    const bucket = await createTestBucket(swift, "bench");
    Object.assign(process.env, {
      HANGAR_BLOB_STORE: "s3",
      HANGAR_S3_ENDPOINT: swift.endpoint,
      HANGAR_S3_BUCKET: bucket,
      HANGAR_S3_REGION: swift.region,
      HANGAR_S3_ACCESS_KEY_ID: swift.accessKeyId,
      HANGAR_S3_SECRET_ACCESS_KEY: swift.secretAccessKey,
      HANGAR_S3_FORCE_PATH_STYLE: "true",
    });
    const client = swiftClient(swift);
    const owner = await getViewerById({ id: adminId });
    const { secret: token } = await createTokenFor({
      actorId: adminId,
      owner: owner!,
      name: "bench",
      scope: "write",
      expiresInDays: 1,
    });
    const workers = async () =>
      PARTS.includes("workers")
        ? workerRows({ swift: swift!, databaseUrl: database.url, work, viewer: owner!, projectId: project.id })
        : [];
    if (!PARTS.includes("transfer")) return await workers();
    console.log(`Writing ${SIZE} random bytes...`);
    await exec("sh", ["-c", `head -c ${SIZE} /dev/urandom > '${source}'`]);
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    app = await startBenchApp({ database, dataDir, password, port, workers: 0 });

    const upload = async (version: string) => {
      await tusUploadWhole({
        port,
        auth: { Authorization: `Bearer ${token}` },
        imageId: image.id,
        version,
        file: source,
        size: SIZE,
      });
      for (let delay = 100; ; delay = Math.min(delay * 2, 500)) {
        const [row] = await db()
          .select({ id: imageVersions.id, dataStatus: imageVersions.dataStatus, sha256: imageVersions.sha256 })
          .from(imageVersions)
          .where(and(eq(imageVersions.imageId, image.id), eq(imageVersions.version, version)));
        if (row?.dataStatus === "ready") return row as { id: string; sha256: string };
        if (row?.dataStatus === "failed") throw new Error(`import of ${version} failed`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };
    const put = async (key: string) => {
      await exec("openssl", ["dgst", "-sha256", source]);
      await new Upload({ client, params: { Bucket: bucket, Key: key, Body: createReadStream(source) } }).done();
    };

    // Warm both paths (modules, connections) before anything is timed.
    await freshen(source, "warm");
    const warm = await upload("warm");
    await put("warm-anchor");

    const ours: number[] = [];
    const anchor: number[] = [];
    let last = warm;
    for (let round = 0; round < ROUNDS; round += 1) {
      await freshen(source, `round-${round}`);
      const hangar = async () => {
        let made: { id: string; sha256: string } | undefined;
        ours.push(await timed(async () => (made = await upload(`r${round}`))));
        last = made!;
      };
      const bare = async () => anchor.push(await timed(() => put(`anchor-${round}`)));
      if (round % 2 === 0) {
        await hangar();
        await bare();
      } else {
        await bare();
        await hangar();
      }
      console.log(
        `upload round ${round}: hangar ${ours.at(-1)!.toFixed(2)} s, openssl + put ${anchor.at(-1)!.toFixed(2)} s`,
      );
    }

    const url = `${origin}/api/v1/versions/${last.id}/download`;
    // Where the blob's bytes are: an upload's own object (uploads/<id>), named by its blob row.
    const key = await (getBlobStore() as S3BlobStore).locate(last.sha256);
    const viaHangar = async () => {
      const { stdout } = await exec("curl", [
        "-sSf",
        "-H",
        `Authorization: Bearer ${token}`,
        "-o",
        "/dev/null",
        "-w",
        "%{size_download}",
        url,
      ]);
      if (Number(stdout) !== SIZE) throw new Error(`downloaded ${stdout} bytes, not ${SIZE}`);
    };
    const getObject = async () => {
      const answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      let bytes = 0;
      for await (const chunk of answer.Body as AsyncIterable<Buffer>) bytes += chunk.length;
      if (bytes !== SIZE) throw new Error(`GetObject read ${bytes} bytes, not ${SIZE}`);
    };
    await viaHangar();
    await getObject();
    const downloads: number[] = [];
    const gets: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round % 2 === 0) {
        downloads.push(await timed(viaHangar));
        gets.push(await timed(getObject));
      } else {
        gets.push(await timed(getObject));
        downloads.push(await timed(viaHangar));
      }
      console.log(
        `download round ${round}: hangar ${downloads.at(-1)!.toFixed(2)} s, GetObject ${gets.at(-1)!.toFixed(2)} s`,
      );
    }
    client.destroy();

    const row = (metric: string, value: number, base: number, target: number, what: string): BenchRow => ({
      metric,
      value,
      unit: "s",
      anchor: base,
      ratio: value / base,
      target: `<= ${target} × ${what} (median of ${ROUNDS}, ${SIZE} bytes, Swift on loopback)`,
      pass: value / base <= target,
    });
    return [
      row("s3_upload_vs_put", median(ours), median(anchor), 1.2, "openssl dgst -sha256 + a bare lib-storage Upload"),
      row("s3_download_vs_get", median(downloads), median(gets), 1.1, "a bare GetObject read to the end"),
      ...(await workers()),
    ];
  } finally {
    app?.kill("SIGTERM");
    if (swift) await stopSwift(swift);
    await database.stop();
    await rm(work, { recursive: true, force: true });
  }
}
