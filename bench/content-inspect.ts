// Content inspection benchmark: Hangar's content job on the Debian fixture (debootstrap minbase
// bookworm), from the job being queued to the facts and packages stored, against a bare
// `virt-inspector` on the same file in the same run with the same libguestfs settings, rounds
// interleaved (order alternating), medians. Both are one appliance launch; the ratio is what
// Hangar adds around it (queue, claim, heartbeat, parsing, the storing transaction).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { db } from "../db/client";
import { requestContentScan } from "../db/queries/content-scans";
import { createImage, createReadyVersion } from "../db/queries/images";
import { contentScans } from "../db/schema";
import { libguestfsEnv } from "../lib/jobs/acceleration";
import { jobHandlers } from "../lib/jobs/handlers";
import { enqueue, startWorker } from "../lib/jobs/queue";
import { getBlobStore } from "../lib/storage";
import { debianGuest } from "../tests/debian-guest";
import { storeTestBlob } from "../tests/fixtures";
import { type BenchRow, median } from "./report";
import { openBenchWorld } from "./world";

const exec = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_CONTENT_ROUNDS ?? 2);

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

export async function inspectRows(): Promise<BenchRow[]> {
  const world = await openBenchWorld("content-inspect");
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  try {
    const disk = await debianGuest();
    const hashes = await storeTestBlob(disk);
    const stored = await getBlobStore().localPath(hashes.sha256);
    await db().transaction(async (tx) => {
      const image = await createImage({
        tx,
        actorId: world.viewer.id,
        values: { slug: "bench-debian", name: "Bench Debian", os: "Debian", projectId: world.projectId },
      });
      await createReadyVersion({
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
    const guestfsEnv = { ...process.env, ...(await libguestfsEnv()) };
    worker = await startWorker({ handlers: jobHandlers, concurrency: 1, log: () => {} });

    const ours: number[] = [];
    const manual: number[] = [];
    let packages = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      const hangar = async () => {
        // Each round reads the bytes anew: the stored scan is put back to failed and requested again.
        await db()
          .update(contentScans)
          .set({ status: "failed", failureReason: "bench round" })
          .where(eq(contentScans.sha256, hashes.sha256));
        ours.push(
          await timed(async () => {
            if (!(await requestContentScan({ sha256: hashes.sha256 }))) throw new Error("the scan was not requested");
            await enqueue("content.inspect", { sha256: hashes.sha256 });
            for (;;) {
              const [row] = await db().select().from(contentScans).where(eq(contentScans.sha256, hashes.sha256));
              if (row?.status === "succeeded") {
                packages = row.packageCount;
                break;
              }
              if (row?.status === "failed" || row?.status === "cancelled")
                throw new Error(`the content job ended ${row.status}: ${row.failureReason}`);
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }),
        );
      };
      const byHand = async () => {
        manual.push(
          await timed(() =>
            exec("virt-inspector", ["--format=qcow2", "-a", stored], { env: guestfsEnv, maxBuffer: 64 * 1024 * 1024 }),
          ),
        );
      };
      if (round % 2 === 0) {
        await hangar();
        await byHand();
      } else {
        await byHand();
        await hangar();
      }
    }
    const oursMedian = median(ours);
    const manualMedian = median(manual);
    console.log(
      `content inspect: Hangar ${ours.map((s) => s.toFixed(1)).join(", ")} s; virt-inspector ${manual.map((s) => s.toFixed(1)).join(", ")} s; ${packages} packages stored`,
    );
    const ratio = oursMedian / manualMedian;
    return [
      {
        metric: "inspect_vs_virt_inspector",
        value: oursMedian,
        unit: "s",
        anchor: manualMedian,
        ratio,
        target: "≤ 1.2",
        pass: ratio <= 1.2,
      },
    ];
  } finally {
    await worker?.stop();
    await world.close();
  }
}
