// Boot test benchmark: Hangar's boot test of the bootable Debian fixture (requested through the
// action, run by the real worker from the job queue, until the row says passed) against a bare
// qemu-system-x86_64 of the same file with the same arguments started by hand and stopped when
// the same login prompt appears, in the same run, alternating which goes first, medians.
import { spawn } from "node:child_process";
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { createImage, createReadyVersion } from "../db/queries/images";
import { bootTests } from "../db/schema";
import { requestBootTestAction } from "../lib/actions/boot-test-actions";
import { ConsoleLines, LOGIN_PROMPT_PATTERN, successMatcher } from "../lib/content/boot-console";
import { qemuBootArgs } from "../lib/content/boot-test";
import { env } from "../lib/env";
import { acceleration } from "../lib/jobs/acceleration";
import { jobHandlers } from "../lib/jobs/handlers";
import { startWorker } from "../lib/jobs/queue";
import { getBlobStore, hashFile } from "../lib/storage";
import { bootableDebian } from "../tests/bootable-debian";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

const ROUNDS = Number(process.env.BENCH_BOOT_ROUNDS ?? 2);

/** A bare QEMU on the stored file (-snapshot: nothing is written), until the login prompt; seconds. */
async function bareBoot(file: string): Promise<number> {
  const accel = await acceleration();
  const { command, args } = qemuBootArgs({
    disk: file,
    format: "qcow2",
    arch: "x86_64",
    accel: accel.mode,
    memoryMiB: env().HANGAR_BOOT_TEST_MEMORY,
    uefi: null,
  });
  const started = performance.now();
  const child = spawn(command, [...args, "-snapshot"], { stdio: ["ignore", "pipe", "ignore"] });
  const lines = new ConsoleLines();
  const seen = successMatcher(LOGIN_PROMPT_PATTERN);
  return new Promise<number>((resolve, reject) => {
    let done = false;
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      if (done) return;
      if (lines.push(text).some(seen) || seen(lines.partial)) {
        done = true;
        const seconds = (performance.now() - started) / 1000;
        child.kill("SIGKILL");
        resolve(seconds);
      }
    });
    child.on("exit", () => (done ? undefined : reject(new Error("the bare QEMU stopped before a login prompt"))));
  });
}

export async function bootRows(): Promise<BenchRow[]> {
  const fixture = await bootableDebian();
  const world = await openBenchWorld("content-boot");
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const hashes = await hashFile(fixture.disk);
    const { copyFile } = await import("node:fs/promises");
    const temp = `${env().dataDir}/debian-copy`;
    await copyFile(fixture.disk, temp);
    await getBlobStore().putFromTempFile({ tempPath: temp, sha256: hashes.sha256, size: hashes.size });
    const version = await db().transaction(async (tx) => {
      const image = await createImage({
        tx,
        actorId: world.viewer.id,
        values: { slug: "bench-debian", name: "Bench Debian", os: "Debian", projectId: world.projectId },
      });
      return createReadyVersion({
        tx,
        actorId: world.viewer.id,
        values: {
          imageId: image.id,
          version: "12",
          format: "qcow2",
          virtualSize: 1024 ** 3,
          fileSize: hashes.size,
          sha256: hashes.sha256,
          sha512: hashes.sha512,
          releaseStatus: "approved",
          source: "upload",
        },
      });
    });
    const file = await getBlobStore().localPath(hashes.sha256);
    worker = await startWorker({ handlers: jobHandlers, concurrency: 1, log: () => {} });
    const ours: number[] = [];
    const bare: number[] = [];
    const hangar = async () => {
      const started = performance.now();
      const requested = await requestBootTestAction(world.viewer, { versionId: version.id });
      if (!requested.ok) throw new Error(requested.message);
      for (;;) {
        const [row] = await db().select().from(bootTests).where(eq(bootTests.id, requested.data.bootTestId));
        if (row && row.status !== "queued" && row.status !== "running") {
          if (row.result !== "passed")
            throw new Error(`the boot test ended ${row.status}/${row.result}: ${row.failureReason}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      ours.push((performance.now() - started) / 1000);
    };
    // Alternating which goes first, so a machine getting busier or quieter weighs on both.
    for (let round = 0; round < ROUNDS; round += 1) {
      if (round % 2 === 0) {
        bare.push(await bareBoot(file));
        await hangar();
      } else {
        await hangar();
        bare.push(await bareBoot(file));
      }
      console.log(`round ${round + 1}: Hangar ${ours.at(-1)!.toFixed(1)} s, bare QEMU ${bare.at(-1)!.toFixed(1)} s`);
    }
    const value = median(ours);
    const anchor = median(bare);
    const ratio = value / anchor;
    return [{ metric: "boot_vs_qemu", value, unit: "s", anchor, ratio, target: "≤ 1.2", pass: ratio <= 1.2 }];
  } finally {
    await worker?.stop();
    await world.close();
  }
}
