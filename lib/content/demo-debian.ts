// The demo catalog's real Debian: a bootable Debian 12 made here from Debian's own packages
// (debootstrap from this machine's configured mirror), so that contents, package search, diffs,
// SBOMs and boot tests show real data out of the box. The seed creates the image and an importing
// version at once (the catalog is usable immediately); this job builds the disk, ingests it through
// the same inspection and finalisation as an upload (which requests its content scan and boot
// test), then starts a real recipe build on it that installs GNU hello from Debian's .deb.
import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { copyFile, mkdir, readdir, rm, stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { getUrlImportTarget } from "@/db/queries/imports";
import { DEMO_DEBIAN_EXPECTED_BYTES, getDemoDebianPlan, type DemoDebianPlan } from "@/db/queries/demo";
import { attachRecipeFile, saveRecipe } from "@/db/queries/recipes";
import { queueBuild } from "@/db/queries/builds";
import { failImport, recordImportProgress, setVersionDataStatus } from "@/db/queries/uploads";
import { getViewerById } from "@/db/queries/users";
import { aptSourceUris } from "@/lib/builds/mirrors";
import { env } from "@/lib/env";
import { finalizeImport, ImportRefused } from "@/lib/imports/finalize";
import { IngestSession } from "@/lib/imports/ingest";
import { jobStopped } from "@/lib/jobs/job-run";
import { enqueue } from "@/lib/jobs/queue";
import { hashFile } from "@/lib/storage/hash";
import { storeBlob } from "@/lib/processes/blob-writes";
import { bootableDebianCacheDir, cachedBootableDebian } from "./debian-image";

const run = promisify(execFile);

/** The machine's Debian mirror (not its security archive); deb.debian.org when none is configured. */
export function debianMirror(): string {
  return aptSourceUris().find((uri) => /\/debian\/?$/.test(uri)) ?? "http://deb.debian.org/debian";
}

/**
 * Bytes on disk under some directories, for progress: `du` on one file system, so it never walks
 * the /proc and /sys that debootstrap mounts inside the root it is building.
 */
async function diskBytes(dirs: string[]): Promise<number> {
  const stdout = await run("du", ["-s", "-x", "-c", "-B1", ...dirs], { timeout: 60_000 }).then(
    (result) => result.stdout,
    // A directory that vanished while du looked: it still prints the total of the rest.
    (error: { stdout?: string }) => error.stdout ?? "",
  );
  const total = Number(stdout.trim().split("\n").at(-1)?.split("\t")[0]);
  return Number.isFinite(total) ? total : 0;
}

/**
 * Records the job's progress every few seconds until stopped: what the machine-wide Debian build
 * has written so far (its building-* directories; nothing once the disk is cached), then our copy.
 */
function watchProgress(versionId: string, cacheDir: string, work: string): () => Promise<void> {
  const stop = new AbortController();
  const watching = (async () => {
    while (!stop.signal.aborted) {
      const names = await readdir(cacheDir).catch(() => [] as string[]);
      const dirs = [
        ...names.filter((name) => name.startsWith("building-")).map((name) => path.join(cacheDir, name)),
        work,
      ];
      const bytes = await diskBytes(dirs);
      if (stop.signal.aborted) break;
      await recordImportProgress({ versionId, bytesReceived: Math.min(bytes, DEMO_DEBIAN_EXPECTED_BYTES - 1) }).catch(
        () => {},
      );
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, 3000);
        stop.signal.addEventListener("abort", () => (clearTimeout(timer), resolve(undefined)), { once: true });
      });
    }
  })();
  return async () => {
    stop.abort();
    await watching;
  };
}

/**
 * Downloads one package's .deb from the mirror with apt in a private state directory (the host's
 * apt lists and cache are not touched), for the demo recipe's "upload a file" step.
 */
export async function downloadDebianPackage({
  name,
  mirror,
  dir,
  signal,
}: {
  name: string;
  mirror: string;
  dir: string;
  signal?: AbortSignal;
}): Promise<string> {
  const state = path.join(dir, "apt");
  await mkdir(path.join(state, "lists", "partial"), { recursive: true });
  await mkdir(path.join(state, "cache", "archives", "partial"), { recursive: true });
  const sources = path.join(state, "sources.list");
  await import("node:fs/promises").then((fs) =>
    fs.writeFile(sources, `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror} bookworm main\n`),
  );
  const options = [
    "-o",
    `Dir::Etc::SourceList=${sources}`,
    "-o",
    "Dir::Etc::SourceParts=-",
    "-o",
    `Dir::State::Lists=${path.join(state, "lists")}`,
    "-o",
    `Dir::Cache=${path.join(state, "cache")}`,
    "-o",
    "Dir::State::status=/dev/null",
    "-o",
    "APT::Architecture=amd64",
    "-o",
    "Debug::NoLocking=true",
    "-qq",
  ];
  await run("apt-get", [...options, "update"], { signal, timeout: 300_000 });
  await run("apt-get", [...options, "download", name], { cwd: dir, signal, timeout: 300_000 });
  const deb = (await readdir(dir)).find((file) => file.startsWith(`${name}_`) && file.endsWith(".deb"));
  if (!deb) throw new Error(`apt-get download ${name} produced no .deb`);
  return path.join(dir, deb);
}

export async function runDemoDebianImage(
  { versionId }: { versionId: string },
  { signal }: { signal?: AbortSignal } = {},
): Promise<void> {
  const target = await getUrlImportTarget({ versionId });
  if (!target || !["queued", "importing"].includes(target.dataStatus)) return;
  const plan = await getDemoDebianPlan({ versionId });
  if (!plan) return;
  await setVersionDataStatus({ versionId, status: "importing" });
  const work = path.join(env().dataDir, "tmp", `demo-debian-${versionId}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true, mode: 0o700 });
  const mirror = debianMirror();
  const cacheDir = bootableDebianCacheDir();
  const stopProgress = watchProgress(versionId, cacheDir, work);
  try {
    // Built once per machine (a second fresh start, the tests and the end-to-end run share it); the
    // cached disk stays where it is, and finalizeImport moves our copy into the blob store.
    const cached = await cachedBootableDebian({ mirror, signal });
    const disk = path.join(work, "debian-12.qcow2");
    await copyFile(cached.disk, disk, constants.COPYFILE_FICLONE);
    await stopProgress();
    const size = (await stat(disk)).size;
    const ingest = await (await IngestSession.fromFile(disk, size, "qcow2")).finish();
    const deb = await downloadDebianPackage({ name: "hello", mirror, dir: path.join(work, "deb"), signal });
    await finalizeImport({
      versionId,
      actorId: plan.adminId,
      tempPath: disk,
      ingest,
      expectedSha256: null,
      quotaBytes: target.quotaBytes,
    });
    await startDemoBuild(plan, deb);
  } catch (error) {
    await stopProgress();
    const reason =
      error instanceof ImportRefused
        ? error.reason
        : signal?.aborted
          ? (jobStopped(signal)?.message ?? "The demo image was stopped before it finished.")
          : `Building the demo Debian image failed: ${(error as Error).message.slice(0, 500)}`;
    await failImport({ versionId, actorId: plan.adminId, reason });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** A real recipe on the new base: attach Debian's hello .deb and install it with dpkg. */
async function startDemoBuild(plan: DemoDebianPlan, deb: string): Promise<void> {
  const viewer = await getViewerById({ id: plan.adminId });
  if (!viewer) return;
  const hashes = await hashFile(deb);
  const filename = path.basename(deb);
  await storeBlob({ tempPath: deb, sha256: hashes.sha256, size: hashes.size }, () =>
    attachRecipeFile({ viewer, projectId: plan.projectId, file: { ...hashes, filename } }),
  );
  const saved = await saveRecipe({
    viewer,
    projectId: plan.projectId,
    document: {
      name: "Debian 12 with GNU hello",
      description:
        "The demo recipe: installs GNU hello from Debian's own package on the real Debian 12 base, so the build's contents, diff, SBOM and boot test have something to show.",
      base: { image: plan.baseSlug, version: plan.baseVersion },
      steps: [
        // virt-customize's upload does not create the directory it writes into.
        { type: "mkdir", path: "/var/cache/hangar" },
        { type: "upload", path: `/var/cache/hangar/${filename}`, blobSha256: hashes.sha256, filename, mode: "0644" },
        {
          type: "run",
          script: `dpkg -i /var/cache/hangar/${filename}\nrm -rf /var/cache/hangar\nhello --version | head -n 1\n`,
        },
      ],
      output: { image: plan.outputSlug, format: "qcow2" },
    },
  });
  await queueBuild({
    viewer,
    recipeId: saved.recipeId,
    send: (buildId) => enqueue("image.build", { buildId }),
  });
}
