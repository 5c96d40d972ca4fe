// Clone benchmark, on the real blob store, PostgreSQL, job queue and qemu-img, in one run,
// interleaved (which side goes first alternates), medians:
//   linked_vs_qemu_img  our linked clone (the action a person calls, to the version being ready)
//                       / bare `qemu-img create -f qcow2 -F qcow2 -b <base>` on the same base
//   linked_8g_vs_1g     our linked clone of an 8 GiB base / of a 1 GiB base (same data written)
//   full_vs_qemu_img    our full clone of a self-contained version (request → version ready; the
//                       same bytes, so it holds the stored blob) / bare `qemu-img convert` + flush
//   full_flatten_vs_qemu_img  our full clone of a linked clone, which must be flattened (job:
//                       copy, sha256 + inspect, cross-check, durable store) / what a careful
//                       operator runs to publish a checksummed file: `qemu-img convert` + `sync` +
//                       `openssl dgst -sha256` of the output
// plus full_flatten_end_to_end: request → ready, including the wait for a worker. The sha512 and
// md5 the blob.checksums job adds in the background are waited for after each step, untimed.
import { execFile } from "node:child_process";
import { copyFile, rm } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { createImage, createReadyVersion } from "../db/queries/images";
import { clones, imageVersions } from "../db/schema";
import { cloneVersionAction } from "../lib/actions/clone-actions";
import { stageDisk } from "../lib/images/backing";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker } from "../lib/jobs/queue";
import { getBlobStore, hashFile, flushToDisk } from "../lib/storage";
import { settleChecksums } from "./checksums";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

// The content inspection its outputs request is measured by bench/content-inspect.ts; here its
// jobs are taken and dropped, so they neither compete for the CPU nor count as appliance launches.
const handlers = { ...jobHandlers, "content.inspect": async () => {} };

const exec = promisify(execFile);
const LINKED_ROUNDS = Number(process.env.BENCH_CLONE_LINKED_ROUNDS ?? 9);
const FULL_ROUNDS = Number(process.env.BENCH_CLONE_FULL_ROUNDS ?? 5);
const DATA_MIB = Number(process.env.BENCH_CLONE_DATA_MIB ?? 512);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/** A qcow2 base of `virtualGiB` holding DATA_MIB of random data at its start. */
async function makeBase(work: string, name: string, virtualGiB: number): Promise<string> {
  const raw = path.join(work, `${name}.raw`);
  await exec("dd", ["if=/dev/urandom", `of=${raw}`, "bs=1M", `count=${DATA_MIB}`, "status=none"]);
  await exec("truncate", ["-s", `${virtualGiB}G`, raw]);
  const qcow2 = path.join(work, `${name}.qcow2`);
  await exec("qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, qcow2]);
  await rm(raw);
  return qcow2;
}

export async function run(): Promise<BenchRow[]> {
  const world = await openBenchWorld("clone", { quotaBytes: 10 * 1024 ** 4 });
  const { work, viewer } = world;
  const project = { id: world.projectId };
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const bases: Record<"1g" | "8g", { file: string; versionId: string }> = {} as never;
    for (const [key, gib] of [
      ["1g", 1],
      ["8g", 8],
    ] as const) {
      const file = await makeBase(work, `base-${key}`, gib);
      const hashes = await hashFile(file);
      const temp = path.join(work, "data", `copy-${key}`);
      await copyFile(file, temp);
      await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
      const versionId = await db().transaction(async (tx) => {
        const image = await createImage({
          tx,
          actorId: null,
          values: { slug: `bench-base-${key}`, name: `Bench base ${key}`, os: "Linux", projectId: project.id },
        });
        const version = await createReadyVersion({
          tx,
          actorId: null,
          values: {
            imageId: image.id,
            version: "1",
            format: "qcow2",
            virtualSize: gib * 1024 ** 3,
            fileSize: hashes.size,
            sha256: hashes.sha256,
            sha512: hashes.sha512,
            releaseStatus: "approved",
            source: "upload",
          },
        });
        return version.id;
      });
      bases[key] = { file: await getBlobStore().localPath(hashes.sha256), versionId };
    }

    let serial = 0;
    const ourLinked = async (key: "1g" | "8g") => {
      serial += 1;
      const result = await cloneVersionAction(viewer, {
        versionId: bases[key].versionId,
        projectId: project.id,
        newImageSlug: `linked-${key}-${serial}`,
        version: "1",
        mode: "linked",
      });
      if (!result.ok || result.data.queued) throw new Error(`linked clone failed: ${JSON.stringify(result)}`);
    };
    const bareLinked = async (key: "1g" | "8g") => {
      serial += 1;
      await exec("qemu-img", [
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        "qcow2",
        "-b",
        bases[key].file,
        path.join(work, `bare-${serial}.qcow2`),
      ]);
    };
    // Warm both paths once (module loading, the first connection), outside the measurements.
    await ourLinked("1g");
    await bareLinked("1g");

    const linked1: number[] = [];
    const linked8: number[] = [];
    const bare1: number[] = [];
    for (let round = 0; round < LINKED_ROUNDS; round += 1) {
      const steps = [
        async () => linked1.push(await timed(() => ourLinked("1g"))),
        async () => bare1.push(await timed(() => bareLinked("1g"))),
        async () => linked8.push(await timed(() => ourLinked("8g"))),
      ];
      for (const step of round % 2 ? steps.reverse() : steps) await step();
    }

    // The flatten path needs a source whose file isn't self-contained: an approved linked clone.
    const linkedSource = await cloneVersionAction(viewer, {
      versionId: bases["1g"].versionId,
      projectId: project.id,
      newImageSlug: "linked-source",
      version: "1",
      mode: "linked",
    });
    if (!linkedSource.ok) throw new Error(linkedSource.message);
    const [linkedRow] = await db().select().from(clones).where(eq(clones.id, linkedSource.data.cloneId));
    await db()
      .update(imageVersions)
      .set({ releaseStatus: "approved" })
      .where(eq(imageVersions.id, linkedRow!.resultVersionId!));
    const [overlay] = await db()
      .select({ sha256: imageVersions.sha256 })
      .from(imageVersions)
      .where(eq(imageVersions.id, linkedRow!.resultVersionId!));
    // Its header names its base by sha256: the bare side opens it where the base is linked beside it.
    const overlayFile = (await stageDisk({ disk: { sha256: overlay!.sha256!, format: "qcow2" }, dir: work })).path;

    worker = await startWorker({ handlers, concurrency: 1, log: () => {} });
    const samples = {
      full: [] as number[],
      flattenJob: [] as number[],
      flattenEndToEnd: [] as number[],
      bare: [] as number[],
      bareFlatten: [] as number[],
    };
    /** A full clone, timed from the request to the version being ready; job time from the clone row. */
    const ourFull = async (versionId: string) => {
      serial += 1;
      const started = performance.now();
      const result = await cloneVersionAction(viewer, {
        versionId,
        projectId: project.id,
        newImageSlug: `full-${serial}`,
        version: "1",
        mode: "full",
      });
      if (!result.ok) throw new Error(result.message);
      for (;;) {
        const [row] = await db().select().from(clones).where(eq(clones.id, result.data.cloneId));
        if (row?.status === "failed") throw new Error(`full clone failed: ${row.failureReason}`);
        if (row?.status === "succeeded")
          return {
            wall: (performance.now() - started) / 1000,
            job: (row.finishedAt!.getTime() - row.startedAt!.getTime()) / 1000,
            queued: result.data.queued,
          };
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const bare = async (file: string) => {
      serial += 1;
      const out = path.join(work, `bare-full-${serial}.qcow2`);
      const seconds = await timed(async () => {
        await exec("qemu-img", ["convert", "-f", "qcow2", "-O", "qcow2", file, out]);
        await flushToDisk(out);
      });
      await rm(out);
      return seconds;
    };
    /** The flatten anchor: convert, `sync`, and the sha256 a published file needs. */
    const bareFlatten = async (file: string) => {
      serial += 1;
      const out = path.join(work, `bare-flatten-${serial}.qcow2`);
      const seconds = await timed(async () => {
        await exec("qemu-img", ["convert", "-f", "qcow2", "-O", "qcow2", file, out]);
        await exec("sync");
        await exec("openssl", ["dgst", "-sha256", out]);
      });
      await rm(out);
      return seconds;
    };
    await settleChecksums();
    await exec("sync");
    for (let round = 0; round < FULL_ROUNDS; round += 1) {
      const steps = [
        async () => {
          const run = await ourFull(bases["1g"].versionId);
          if (run.queued)
            throw new Error("a full clone of a self-contained version without reset should not need a job");
          samples.full.push(run.wall);
        },
        async () => samples.bare.push(await bare(bases["1g"].file)),
        async () => {
          const run = await ourFull(linkedRow!.resultVersionId!);
          samples.flattenJob.push(run.job);
          samples.flattenEndToEnd.push(run.wall);
        },
        async () => samples.bareFlatten.push(await bareFlatten(overlayFile)),
      ];
      for (const step of round % 2 ? steps.reverse() : steps) {
        await step();
        await settleChecksums();
      }
      await exec("sync");
    }

    const rows: BenchRow[] = [];
    const linkedRatio = median(linked1) / median(bare1);
    rows.push({
      metric: "linked_vs_qemu_img",
      value: median(linked1) * 1000,
      unit: "ms",
      anchor: median(bare1) * 1000,
      ratio: linkedRatio,
      target: "<= 5",
      pass: linkedRatio <= 5,
    });
    const sizeRatio = median(linked8) / median(linked1);
    rows.push({
      metric: "linked_8g_vs_1g",
      value: median(linked8) * 1000,
      unit: "ms",
      anchor: median(linked1) * 1000,
      ratio: sizeRatio,
      target: "<= 1.2",
      pass: sizeRatio <= 1.2,
    });
    const fullRatio = median(samples.full) / median(samples.bare);
    rows.push({
      metric: "full_vs_qemu_img",
      value: median(samples.full),
      unit: "s",
      anchor: median(samples.bare),
      ratio: fullRatio,
      target: "<= 1.15",
      pass: fullRatio <= 1.15,
    });
    const flattenRatio = median(samples.flattenJob) / median(samples.bareFlatten);
    rows.push({
      metric: "full_flatten_vs_qemu_img",
      value: median(samples.flattenJob),
      unit: "s",
      anchor: median(samples.bareFlatten),
      ratio: flattenRatio,
      target: "<= 1.15",
      pass: flattenRatio <= 1.15,
    });
    rows.push({
      metric: "full_flatten_end_to_end",
      value: median(samples.flattenEndToEnd),
      unit: "s",
      anchor: median(samples.bareFlatten),
      ratio: median(samples.flattenEndToEnd) / median(samples.bareFlatten),
      target: "report (adds the queue pick-up)",
      pass: true,
    });
    console.log(
      JSON.stringify(
        { data_mib: DATA_MIB, linked_1g_s: linked1, linked_8g_s: linked8, bare_create_s: bare1, ...samples },
        (_, value) => (typeof value === "number" ? Math.round(value * 1000) / 1000 : value),
      ),
    );
    return rows;
  } finally {
    await worker?.stop();
    await world.close();
  }
}
