// The worker rows of the scale benchmark: workers as separate OS processes with scratch folders of
// their own (tests/cluster.ts), on the bench's PostgreSQL and a bucket in its Swift. This process
// plays the web process: it queues builds through the same action a web process runs.
//   workers_2_vs_1            build throughput (builds per minute, queue to the last one succeeded)
//                             of 4 builds queued at once with two workers / with one, same run.
//                             Reported, no target: each worker runs one build at a time, and a TCG
//                             build (the appliance's one vCPU emulated in software) keeps about one
//                             core busy, so on 2 cores two workers gain at most what the second
//                             core has spare (the machine's other work, the outputs' inspections
//                             and boot tests compete for it): between 1 and 2, never more.
//   duplicated_outputs        across 4 builds queued to two workers, one of which is SIGKILLed
//                             mid-build: versions beyond one per build, plus builds claimed twice,
//                             plus objects in the bucket that no version names; == 0.
//   lost_jobs                 of the same builds, those not ended (succeeded, or failed with a
//                             reason) once the rest are done and the lease has passed, plus their
//                             queue jobs not ended; == 0.
//   cache_hit_build_vs_miss   one build, claim to done, on a worker whose local blob cache holds the
//                             base / on a just-started worker that must fetch it from the bucket;
//                             each timed alone, order alternating, medians. Reported: the tiny
//                             guest's base is a few MiB, so the fetch itself is a small part of a
//                             build; a miss also carries the new process's first-build warm-up, as
//                             a newly added worker machine's first build does.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { inArray, sql } from "drizzle-orm";
import { db } from "../db/client";
import { createImage, createReadyVersion } from "../db/queries/images";
import type { Viewer } from "../db/queries/users";
import { builds, imageVersions } from "../db/schema";
import { saveRecipeAction, startBuildAction } from "../lib/actions/recipe-actions";
import { buildTinyGuest } from "../lib/images/tiny-guest";
import type { RecipeDocument } from "../lib/recipes/yaml";
import { getBlobStore, hashFile } from "../lib/storage";
import { startCluster, type ClusterProcess } from "../tests/cluster";
import type { SwiftServer } from "../tests/swift";
import { median, type BenchRow } from "./report";

const ROUNDS = Number(process.env.BENCH_SCALE_CACHE_ROUNDS ?? 2);
const QUEUED = 4;
/** Builds whose worker stops beating for this long are ended by another worker's sweep. */
const STALE_SECONDS = 10;

export async function workerRows({
  swift,
  databaseUrl,
  work,
  viewer,
  projectId,
}: {
  swift: SwiftServer;
  databaseUrl: string;
  work: string;
  viewer: Viewer;
  projectId: string;
}): Promise<BenchRow[]> {
  const cluster = await startCluster({
    swift,
    databaseUrl,
    env: { HANGAR_BUILD_STALE_SECONDS: String(STALE_SECONDS) },
  });
  // From here this process stores into the cluster's bucket, under its prefix, as its workers read.
  const { DATABASE_URL: _same, ...bucketSettings } = cluster.env;
  Object.assign(process.env, bucketSettings);
  try {
    const guestDir = path.join(work, "guest");
    await mkdir(guestDir, { recursive: true });
    const guest = await buildTinyGuest({ dir: guestDir, name: "scale-base", sizeMiB: 64, formats: ["qcow2"] });
    const hashes = await hashFile(guest.qcow2!);
    // The store consumes its temp file; the guest's own qcow2 stays for nothing else.
    await getBlobStore().putFromTempFile({ tempPath: guest.qcow2!, sha256: hashes.sha256, size: hashes.size });
    const { baseSlug, outputSlug } = await db().transaction(async (tx) => {
      const base = await createImage({
        tx,
        actorId: viewer.id,
        values: { slug: "scale-base", name: "Scale base", os: "Linux", projectId },
      });
      await createReadyVersion({
        tx,
        actorId: viewer.id,
        values: {
          imageId: base.id,
          version: "1.0",
          format: "qcow2",
          virtualSize: 64 * 1024 ** 2,
          fileSize: hashes.size,
          sha256: hashes.sha256,
          sha512: hashes.sha512,
          releaseStatus: "approved",
          source: "upload",
        },
      });
      const output = await createImage({
        tx,
        actorId: viewer.id,
        values: { slug: "scale-built", name: "Scale built", os: "Linux", projectId },
      });
      return { baseSlug: base.slug, outputSlug: output.slug };
    });

    let made = 0;
    const queueBuild = async (): Promise<string> => {
      made += 1;
      const document: RecipeDocument = {
        name: `scale-${made}`,
        description: "",
        base: { image: baseSlug, version: "1.0" },
        steps: [{ type: "write", path: "/etc/scale", content: `build ${made}\n` }],
        output: { image: outputSlug, format: "qcow2" },
      };
      const saved = await saveRecipeAction(viewer, { projectId, document });
      if (!saved.ok) throw new Error(saved.message);
      const started = await startBuildAction(viewer, { recipeId: saved.data.recipeId });
      if (!started.ok || !started.data.queued) throw new Error(started.ok ? "build not queued" : started.message);
      return started.data.buildId;
    };
    const rowsOf = (ids: string[]) => db().select().from(builds).where(inArray(builds.id, ids));
    const ended = (status: string) => status !== "queued" && status !== "running";
    const waitEnded = async (ids: string[], timeoutMs = 30 * 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const rows = await rowsOf(ids);
        if (rows.every((row) => ended(row.status))) return rows;
        if (Date.now() > deadline) return rows;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };
    const requireSucceeded = (rows: Awaited<ReturnType<typeof rowsOf>>) => {
      const bad = rows.filter((row) => row.status !== "succeeded");
      if (bad.length)
        throw new Error(`builds did not succeed: ${bad.map((row) => `${row.status} ${row.failureReason}`).join("; ")}`);
    };
    // The content inspections the outputs ask for: waited out, so no timed build competes with them.
    const idle = async () => {
      for (;;) {
        const busy = await db().execute(
          sql`select 1 from pgboss.job where state in ('created', 'retry', 'active')
              and name not in ('release.apply-scheduled', 'retention.run') limit 1`,
        );
        if (busy.rows.length === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    };
    const throughput = async (): Promise<number> => {
      const started = performance.now();
      const ids: string[] = [];
      for (let index = 0; index < QUEUED; index += 1) ids.push(await queueBuild());
      requireSucceeded(await waitEnded(ids));
      const perMinute = QUEUED / ((performance.now() - started) / 60_000);
      await idle();
      return perMinute;
    };
    /** One build alone on `worker`, claim to done (the base fetch, if any, is in between). */
    const alone = async (worker: ClusterProcess): Promise<number> => {
      const [row] = await waitEnded([await queueBuild()]);
      requireSucceeded([row!]);
      if (row!.workerPid !== worker.pid) throw new Error(`the build ran on pid ${row!.workerPid}, not ${worker.pid}`);
      await idle();
      return (row!.finishedAt!.getTime() - row!.startedAt!.getTime()) / 1000;
    };

    // cache_hit_build_vs_miss: one worker at a time; a miss is a worker started just before.
    console.log("Cache hit / miss builds...");
    const hits: number[] = [];
    const misses: number[] = [];
    let warm = await cluster.startWorker();
    await alone(warm); // warms the cache (and everything else the first build loads)
    for (let round = 0; round < ROUNDS; round += 1) {
      const hit = async () => hits.push(await alone(warm));
      const miss = async () => {
        await stopGracefully(warm);
        warm = await cluster.startWorker();
        misses.push(await alone(warm));
      };
      if (round % 2 === 0) {
        await hit();
        await miss();
      } else {
        await miss();
        await hit();
      }
      console.log(`cache round ${round}: hit ${hits.at(-1)!.toFixed(1)} s, miss ${misses.at(-1)!.toFixed(1)} s`);
    }

    // workers_2_vs_1: the warm worker alone, then with a second one (whose first build fetches the base).
    console.log(`${QUEUED} queued builds with one worker, then with two...`);
    const one = await throughput();
    await cluster.startWorker();
    const two = await throughput();
    console.log(`throughput: one worker ${one.toFixed(2)}/min, two workers ${two.toFixed(2)}/min`);

    // duplicated_outputs and lost_jobs: 4 builds on the two workers, one worker killed mid-build.
    console.log(`${QUEUED} queued builds on two workers, one SIGKILLed mid-build...`);
    const ids: string[] = [];
    for (let index = 0; index < QUEUED; index += 1) ids.push(await queueBuild());
    let victimPid: number | null = null;
    const deadline = Date.now() + 10 * 60_000;
    while (victimPid === null && Date.now() < deadline) {
      const running = (await rowsOf(ids)).find((row) => row.status === "running" && row.processGroup !== null);
      victimPid = running?.workerPid ?? null;
      if (victimPid === null) await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const victim = cluster.processes.find((child) => child.pid === victimPid && child.kind === "worker");
    if (!victim) throw new Error("no build started running on a worker of the cluster");
    await victim.kill();
    // Everything either ends or is lost: waited for well past the sweep's staleness and the lease.
    const rows = await waitEnded(ids, 20 * 60_000);
    await idle();
    await new Promise((resolve) => setTimeout(resolve, 40_000)); // the process lease: abandoned writes swept
    const outputs = await db()
      .select({ buildId: imageVersions.buildId })
      .from(imageVersions)
      .where(inArray(imageVersions.buildId, ids));
    const extraVersions = ids.reduce(
      (sum, id) => sum + Math.max(outputs.filter((row) => row.buildId === id).length - 1, 0),
      0,
    );
    const claimedTwice = rows.filter((row) => row.attempt > 1).length;
    const referenced = new Set(
      (await db().select({ sha256: imageVersions.sha256 }).from(imageVersions)).map((row) => row.sha256),
    );
    const listed = await cluster.listBucket();
    const orphans = listed.sha256s.filter((sha256) => !referenced.has(sha256)).length + listed.others.length;
    const unended = rows.filter((row) => !ended(row.status) || (row.status === "failed" && !row.failureReason));
    const openJobs = await db().execute(
      sql`select 1 from pgboss.job where name = 'image.build' and data->>'buildId' in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )}) and state not in ('completed', 'failed', 'cancelled')`,
    );
    const duplicated = extraVersions + claimedTwice + orphans;
    const lost = unended.length + openJobs.rows.length;
    console.log(
      `kill run: ${rows.map((row) => row.status).join(", ")}; ${extraVersions} extra versions, ${claimedTwice} builds claimed twice, ${orphans} orphan objects, ${unended.length} builds and ${openJobs.rows.length} queue jobs not ended`,
    );
    const count = (metric: string, value: number, what: string): BenchRow => ({
      metric,
      value,
      unit: "count",
      anchor: 0,
      ratio: value,
      target: `== 0 (${what})`,
      pass: value === 0,
    });
    return [
      {
        metric: "workers_2_vs_1",
        value: two,
        unit: "builds/min",
        anchor: one,
        ratio: two / one,
        target: `report (${QUEUED} queued TCG builds, same run; a TCG build keeps about one core busy, so on 2 cores at most 2)`,
        pass: true,
      },
      count("duplicated_outputs", duplicated, `${QUEUED} builds, one of two workers SIGKILLed mid-build`),
      count("lost_jobs", lost, "the same run: builds and queue jobs never ended"),
      {
        metric: "cache_hit_build_vs_miss",
        value: median(hits),
        unit: "s",
        anchor: median(misses),
        ratio: median(hits) / median(misses),
        target: `report (claim to done, base ${(hashes.size / 1024 ** 2).toFixed(1)} MiB in the cache / fetched from the bucket, median of ${ROUNDS})`,
        pass: true,
      },
    ];
  } finally {
    await cluster.stop();
  }
}

async function stopGracefully(worker: ClusterProcess): Promise<void> {
  worker.signal("SIGTERM");
  await worker.exited;
}
