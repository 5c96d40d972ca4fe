// Build benchmark: a three-step metadata recipe (write a file, make a directory, inject an SSH key)
// on the tiny real guest, built by the real worker from the job queue, against the same overlay +
// virt-customize + convert commands run by hand in the same run, interleaved, medians.
// Appliance launches are counted, not assumed: LIBGUESTFS_HV points at a wrapper around qemu that
// records every start. Queue latency is enqueue → running as the builds table records it.
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { createImage, createReadyVersion } from "../db/queries/images";
import { builds } from "../db/schema";
import { saveRecipeAction, startBuildAction } from "../lib/actions/recipe-actions";
import { buildTinyGuest } from "../lib/images/tiny-guest";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker } from "../lib/jobs/queue";
import { getBlobStore, hashFile } from "../lib/storage";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

// The content inspection its outputs request is measured by bench/content-inspect.ts; here its
// jobs are taken and dropped, so they neither compete for the CPU nor count as appliance launches.
const handlers = { ...jobHandlers, "content.inspect": async () => {} };

const exec = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_BUILD_ROUNDS ?? 4);
const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBH5uVSaX1zjmR6c6Ff2mR1mA5hVQ4Hk3ucOm5ddCx8Z bench@hangar";

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

async function launches(counter: string): Promise<number> {
  return (await readFile(counter, "utf8").catch(() => "")).split("\n").filter(Boolean).length;
}

export async function run(): Promise<BenchRow[]> {
  const world = await openBenchWorld("build");
  const { work, viewer } = world;
  const project = { id: world.projectId };
  const counter = path.join(work, "launches.log");
  const wrapper = path.join(work, "qemu-counting");
  await writeFile(wrapper, `#!/bin/sh\necho launch >> '${counter}'\nexec /usr/bin/qemu-system-x86_64 "$@"\n`, {
    mode: 0o755,
  });
  process.env.LIBGUESTFS_HV = wrapper;
  process.env.LIBGUESTFS_BACKEND = "direct";
  const adminId = viewer.id;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const guest = await buildTinyGuest({ dir: work, name: "bench-base", sizeMiB: 64, formats: ["qcow2"] });
    const hashes = await hashFile(guest.qcow2!);
    const temp = path.join(work, "data", "base-copy");
    await copyFile(guest.qcow2!, temp);
    await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
    const baseImage = await db().transaction(async (tx) => {
      const image = await createImage({
        tx,
        actorId: adminId,
        values: { slug: "bench-base", name: "Bench base", os: "Linux", projectId: project.id },
      });
      await createReadyVersion({
        tx,
        actorId: adminId,
        values: {
          imageId: image.id,
          version: "1",
          format: "qcow2",
          virtualSize: 64 * 1024 ** 2,
          fileSize: hashes.size,
          sha256: hashes.sha256,
          sha512: hashes.sha512,
          releaseStatus: "approved",
          source: "upload",
        },
      });
      return image;
    });

    worker = await startWorker({ handlers, concurrency: 1, log: () => {} });
    const ours: number[] = [];
    const manual: number[] = [];
    const latencies: number[] = [];
    const launchCounts: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const content = `bench round ${round} ${Date.now()}\n`;
      // By hand: the same three commands the engine runs, with the same inputs. The order of the
      // two alternates between rounds so neither always runs on a warmer cache.
      const byHand = async () => {
        const handDir = await mkdtemp(path.join(work, "hand-"));
        manual.push(
          await timed(async () => {
            const overlay = path.join(handDir, "overlay.qcow2");
            await exec("qemu-img", [
              "create",
              "-q",
              "-f",
              "qcow2",
              "-F",
              "qcow2",
              "-b",
              await getBlobStore().localPath(hashes.sha256),
              overlay,
            ]);
            await exec(
              "virt-customize",
              [
                "--format",
                "qcow2",
                "-a",
                overlay,
                "--no-network",
                "--write",
                `/etc/bench:${content}`,
                "--mkdir",
                "/opt/bench",
                "--ssh-inject",
                `root:string:${key}`,
              ],
              { env: process.env },
            );
            await exec("qemu-img", [
              "convert",
              "-f",
              "qcow2",
              "-O",
              "qcow2",
              overlay,
              path.join(handDir, "output.qcow2"),
            ]);
          }),
        );
        await rm(handDir, { recursive: true, force: true });
      };
      if (round % 2 === 0) await byHand();

      const saved = await saveRecipeAction(viewer, {
        projectId: project.id,
        document: {
          name: `bench ${round}`,
          base: { image: baseImage.slug, version: "1" },
          steps: [
            { type: "write", path: "/etc/bench", content },
            { type: "mkdir", path: "/opt/bench" },
            { type: "ssh-key", user: "root", key },
          ],
          output: { image: baseImage.slug, format: "qcow2" },
        },
      });
      if (!saved.ok) throw new Error(saved.message);
      const before = await launches(counter);
      let buildId = "";
      ours.push(
        await timed(async () => {
          const started = await startBuildAction(viewer, { recipeId: saved.data.recipeId, force: true });
          if (!started.ok || !started.data.queued)
            throw new Error(started.ok ? "build was not queued" : started.message);
          buildId = started.data.buildId;
          for (;;) {
            const [row] = await db()
              .select({ status: builds.status, failureReason: builds.failureReason })
              .from(builds)
              .where(eq(builds.id, buildId));
            if (row?.status === "succeeded") return;
            if (row && row.status !== "queued" && row.status !== "running")
              throw new Error(`build ${row.status}: ${row.failureReason}`);
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
        }),
      );
      launchCounts.push((await launches(counter)) - before);
      if (round % 2 === 1) await byHand();
      const [row] = await db()
        .select({ queuedAt: builds.queuedAt, startedAt: builds.startedAt })
        .from(builds)
        .where(eq(builds.id, buildId));
      latencies.push((row!.startedAt!.getTime() - row!.queuedAt.getTime()) / 1000);
      console.log(
        `round ${round + 1}: ours ${ours.at(-1)!.toFixed(1)} s, by hand ${manual.at(-1)!.toFixed(1)} s, appliance launches ${launchCounts.at(-1)}, queue latency ${(latencies.at(-1)! * 1000).toFixed(0)} ms`,
      );
    }
    const ratio = median(ours) / median(manual);
    const maxLaunches = Math.max(...launchCounts);
    return [
      {
        metric: "build_vs_manual",
        value: median(ours),
        unit: "s",
        anchor: median(manual),
        ratio,
        target: "<= 1.5",
        pass: ratio <= 1.5,
      },
      {
        metric: "appliance_launches",
        value: maxLaunches,
        unit: "per build",
        anchor: 1,
        ratio: maxLaunches,
        target: "== 1",
        pass: launchCounts.every((count) => count === 1),
      },
      {
        metric: "queue_latency_p50",
        value: median(latencies) * 1000,
        unit: "ms",
        anchor: median(ours) * 1000,
        ratio: median(latencies) / median(ours),
        target: "report",
        pass: true,
      },
    ];
  } finally {
    await worker?.stop();
    await world.close();
  }
}
