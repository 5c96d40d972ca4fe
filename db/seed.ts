// First-start data: the admin account always; a small believable demo catalog when the database
// is empty. Every demo version is a real disk image built here (tiny busybox guests), stored in
// the blob store, with sizes and checksums read from the files themselves.
import type { StoredInspection } from "@/lib/images/inspector/types";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { eq, sql } from "drizzle-orm";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { inspectFile } from "@/lib/images/qemu-img";
import { buildTinyGuest } from "@/lib/images/tiny-guest";
import { hashFile } from "@/lib/storage/hash";
import { debianMirror } from "@/lib/content/demo-debian";
import { env } from "@/lib/env";
import { enqueue } from "@/lib/jobs/queue";
import { beginBlobWrite, type BlobWrite } from "@/lib/processes/blob-writes";
import { getBlobStore } from "@/lib/storage";
import { db } from "./client";
import { createImage, createReadyVersion } from "./queries/images";
import { createPendingDemoVersion, DEMO_DEBIAN_FILENAME, type DemoTx as Tx } from "./queries/demo";
import {
  imageShares,
  projectMembers,
  projects,
  users,
  type DiskFormat,
  type ReleaseStatus,
  type Visibility,
} from "./schema";

export interface SeedLog {
  (line: string): void;
}

function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}

export async function ensureAdmin({
  email,
  password,
  log,
}: {
  email: string;
  password?: string;
  log: SeedLog;
}): Promise<string> {
  const [existing] = await db()
    .select({ id: users.id, passwordHash: users.passwordHash })
    .from(users)
    .where(sql`lower(${users.email}) = ${email}`)
    .limit(1);
  if (existing) {
    // A password in the environment is authoritative: that is how an operator resets it.
    if (password && !(existing.passwordHash && (await verifyPassword(existing.passwordHash, password)))) {
      await db()
        .update(users)
        .set({ passwordHash: await hashPassword(password), role: "admin" })
        .where(eq(users.id, existing.id));
      log(`Admin password for ${email} updated from HANGAR_ADMIN_PASSWORD.`);
    }
    return existing.id;
  }
  const chosen = password ?? generatePassword();
  const [created] = await db()
    .insert(users)
    .values({ email, name: "Administrator", role: "admin", passwordHash: await hashPassword(chosen) })
    .returning({ id: users.id });
  if (!created) throw new Error("creating the admin account returned nothing");
  if (password) {
    log(`Created the admin account ${email} with the password from HANGAR_ADMIN_PASSWORD.`);
  } else {
    log("");
    log("  Hangar created an admin account. This password is shown only once:");
    log(`    email:    ${email}`);
    log(`    password: ${chosen}`);
    log("  Set HANGAR_ADMIN_PASSWORD to choose your own.");
    log("");
  }
  return created.id;
}

interface DemoVersion {
  version: string;
  format: DiskFormat;
  release: ReleaseStatus;
  daysAgo: number;
}

interface DemoImage {
  slug: string;
  name: string;
  description: string;
  os: string;
  osVersion: string;
  osId: string;
  arch: "x86_64" | "aarch64";
  project: "platform" | "data-science";
  visibility: Visibility;
  tags: string[];
  properties: Record<string, string>;
  versions: DemoVersion[];
}

const demoImages: DemoImage[] = [
  {
    slug: "debian-12-base",
    name: "Debian 12 base",
    description:
      "Minimal **Debian 12 (bookworm)** server image maintained by the platform team.\n\n- cloud-init enabled\n- SSH password login disabled\n- unattended security upgrades\n\nUse it as the base for team images.",
    os: "Debian",
    osVersion: "12",
    osId: "debian",
    arch: "x86_64",
    project: "platform",
    visibility: "public",
    tags: ["base", "lts", "cloud-init"],
    properties: { hw_disk_bus: "virtio", os_distro: "debian" },
    versions: [
      { version: "12.5.0", format: "qcow2", release: "approved", daysAgo: 120 },
      { version: "12.6.0", format: "qcow2", release: "approved", daysAgo: 60 },
      { version: "12.7.0", format: "qcow2", release: "approved", daysAgo: 12 },
    ],
  },
  {
    slug: "ubuntu-24-04-server",
    name: "Ubuntu 24.04 LTS server",
    description: "Ubuntu **24.04 LTS (Noble Numbat)** server, minimal install with `qemu-guest-agent`.",
    os: "Ubuntu",
    osVersion: "24.04",
    osId: "ubuntu",
    arch: "x86_64",
    project: "platform",
    visibility: "public",
    tags: ["base", "lts"],
    properties: { hw_disk_bus: "virtio", os_distro: "ubuntu" },
    versions: [
      { version: "20240423", format: "qcow2", release: "approved", daysAgo: 90 },
      { version: "20240821", format: "raw", release: "approved", daysAgo: 30 },
    ],
  },
  {
    slug: "alpine-3-20-arm",
    name: "Alpine 3.20 (arm64)",
    description: "Tiny **Alpine Linux 3.20** image for arm64 edge runners.",
    os: "Alpine",
    osVersion: "3.20",
    osId: "alpine",
    arch: "aarch64",
    project: "platform",
    visibility: "public",
    tags: ["minimal", "edge"],
    properties: { os_distro: "alpine" },
    versions: [
      { version: "3.20.1", format: "raw", release: "approved", daysAgo: 45 },
      { version: "3.20.3", format: "vmdk", release: "pending_review", daysAgo: 3 },
    ],
  },
  {
    slug: "rocky-9-hardened",
    name: "Rocky Linux 9 hardened",
    description: "Rocky Linux 9 with the CIS level 1 profile applied. Exported as VMDK for the vSphere cluster.",
    os: "Rocky Linux",
    osVersion: "9.4",
    osId: "rocky",
    arch: "x86_64",
    project: "platform",
    visibility: "public",
    tags: ["cis-hardened", "rhel-compatible"],
    properties: { vmware_adaptertype: "lsiLogic", os_distro: "rocky" },
    versions: [
      { version: "9.3.1", format: "vmdk", release: "deprecated", daysAgo: 150 },
      { version: "9.4.0", format: "vmdk", release: "approved", daysAgo: 20 },
    ],
  },
  {
    slug: "ci-runner",
    name: "CI runner",
    description:
      "Debian-based build agent with Docker, Node 20 and Python 3.11 preinstalled. Internal to the data-science team.",
    os: "Debian",
    osVersion: "12",
    osId: "debian",
    arch: "x86_64",
    project: "data-science",
    // Offered to the platform team, who have not accepted yet: the platform page shows the offer.
    visibility: "shared",
    tags: ["ci", "docker"],
    properties: { owner_team: "data-science" },
    versions: [
      { version: "1.0.0", format: "qcow2", release: "approved", daysAgo: 40 },
      { version: "1.1.0", format: "qcow2", release: "draft", daysAgo: 1 },
    ],
  },
  {
    slug: "jupyter-workstation",
    name: "Jupyter workstation",
    description: "Ubuntu 24.04 with JupyterLab and CUDA user-space libraries, for notebooks on GPU hosts.",
    os: "Ubuntu",
    osVersion: "24.04",
    osId: "ubuntu",
    arch: "x86_64",
    project: "data-science",
    visibility: "private",
    tags: ["jupyter", "gpu"],
    properties: { hw_video_model: "virtio" },
    versions: [{ version: "2024.10", format: "raw", release: "pending_review", daysAgo: 5 }],
  },
];

const osNames: Record<string, string> = {
  debian: "Debian GNU/Linux",
  ubuntu: "Ubuntu",
  alpine: "Alpine Linux",
  rocky: "Rocky Linux",
};

/**
 * The demo's real Debian 12: the image, the image its recipe builds into, and the version the
 * `demo.debian-image` job fills (importing until then, with progress), so the catalog is usable at once.
 */
async function seedRealDebian(tx: Tx, { adminId, projectId }: { adminId: string; projectId: string }): Promise<string> {
  const base = await createImage({
    tx,
    actorId: adminId,
    values: {
      slug: "debian-12-minimal",
      name: "Debian 12 minimal (real)",
      description:
        "A real **Debian 12 (bookworm)** made by Hangar from Debian's own packages with `debootstrap`: a kernel, systemd and the EXTLINUX bootloader, and nothing else. Its contents, packages and boot test are read from its bytes.",
      os: "Debian",
      osVersion: "12",
      arch: "x86_64",
      visibility: "public",
      projectId,
      tags: ["base", "real", "bootable"],
      properties: { hw_disk_bus: "virtio", os_distro: "debian" },
    },
  });
  await createImage({
    tx,
    actorId: adminId,
    values: {
      slug: "debian-12-minimal-hello",
      name: "Debian 12 with GNU hello",
      description:
        "Built by the demo recipe from Debian 12 minimal (real): it installs GNU hello from Debian's package.",
      os: "Debian",
      osVersion: "12",
      arch: "x86_64",
      visibility: "public",
      projectId,
      tags: ["demo", "built"],
      properties: {},
    },
  });
  return createPendingDemoVersion(tx, {
    imageId: base.id,
    version: "12",
    adminId,
    sourceUrl: debianMirror(),
    filename: DEMO_DEBIAN_FILENAME,
  });
}

/**
 * The real Debian's images and its importing version in a project of the caller's choosing, without
 * the rest of the catalog or the job (the demo job's test runs it itself); returns the version's id.
 */
export function seedRealDebianDemo({ adminId, projectId }: { adminId: string; projectId: string }): Promise<string> {
  return db().transaction((tx) => seedRealDebian(tx, { adminId, projectId }));
}

export async function seedDemoCatalog({
  adminId,
  log,
  realDebian = env().HANGAR_DEMO_REAL_DEBIAN,
}: {
  adminId: string;
  log: SeedLog;
  /** Also build the real Debian 12 demo image (a background job of a few minutes). */
  realDebian?: boolean;
}): Promise<boolean> {
  let realDebianVersionId: string | null = null;
  const [anyProject] = await db().select({ id: projects.id }).from(projects).limit(1);
  if (anyProject) return false;
  log("Seeding the demo catalog (building small real disk images)...");
  const started = Date.now();
  const work = await mkdtemp(path.join(os.tmpdir(), "hangar-seed-"));
  const store = getBlobStore();
  // Recorded so another process starting meanwhile doesn't take the files for orphans before the
  // transaction below refers to them.
  const writes: BlobWrite[] = [];
  try {
    const built: {
      image: DemoImage;
      version: DemoVersion;
      file: string;
      sha256: string;
      sha512: string;
      size: number;
      inspection: StoredInspection;
      virtualSize: number;
    }[] = [];
    for (const image of demoImages) {
      for (const version of image.versions) {
        const dir = path.join(work, `${image.slug}-${version.version}`);
        const guest = await buildTinyGuest({
          dir,
          name: `${image.slug}-${version.version}`,
          hostname: image.slug,
          osRelease: {
            id: image.osId,
            name: osNames[image.osId] ?? image.os,
            versionId: image.osVersion,
            prettyName: `${image.name} ${version.version}`,
          },
          formats: ["raw", version.format].filter((format, index, all) => all.indexOf(format) === index) as (
            "raw" | "qcow2" | "vmdk"
          )[],
          extraFiles: { "/etc/hangar-image": `${image.slug} ${version.version}\n` },
        });
        const file = guest[version.format as "raw" | "qcow2" | "vmdk"];
        if (!file) throw new Error(`the tiny guest builder did not produce ${version.format}`);
        const verdict = await inspectFile({ path: file, claimedFormat: version.format });
        if (!verdict.safe)
          throw new Error(
            `demo image ${image.slug} ${version.version} failed inspection: ${JSON.stringify(verdict.problems)}`,
          );
        const hashes = await hashFile(file);
        writes.push(await beginBlobWrite(hashes.sha256));
        await store.putFromTempFile({ tempPath: file, sha256: hashes.sha256, size: hashes.size });
        built.push({
          image,
          version,
          file,
          ...hashes,
          virtualSize: verdict.virtualSize ?? 0,
          inspection: verdict,
        });
      }
    }
    await db().transaction(async (tx) => {
      const [platform, dataScience] = await tx
        .insert(projects)
        .values([
          { slug: "platform", name: "Platform", description: "Base images maintained by the platform team." },
          {
            slug: "data-science",
            name: "Data Science",
            description: "Notebook and CI images for the data-science team.",
          },
        ])
        .returning({ id: projects.id, slug: projects.slug });
      if (!platform || !dataScience) throw new Error("creating demo projects returned nothing");
      await tx.insert(projectMembers).values([
        { projectId: platform.id, userId: adminId, role: "owner" },
        { projectId: dataScience.id, userId: adminId, role: "owner" },
      ]);
      const projectIds = { platform: platform.id, "data-science": dataScience.id };
      const imageIds: Record<string, string> = {};
      for (const image of demoImages) {
        const created = await createImage({
          tx,
          actorId: adminId,
          values: {
            slug: image.slug,
            name: image.name,
            description: image.description,
            os: image.os,
            osVersion: image.osVersion,
            arch: image.arch,
            visibility: image.visibility,
            projectId: projectIds[image.project],
            tags: image.tags,
            properties: image.properties,
          },
        });
        imageIds[image.slug] = created.id;
        for (const entry of built.filter((candidate) => candidate.image === image)) {
          // Requests each new file's content scan in this transaction; the worker starting next
          // sends the jobs (reconcileContentScans in scripts/start.ts).
          await createReadyVersion({
            tx,
            actorId: adminId,
            values: {
              imageId: created.id,
              version: entry.version.version,
              format: entry.version.format,
              virtualSize: entry.virtualSize,
              fileSize: entry.size,
              sha256: entry.sha256,
              sha512: entry.sha512,
              originalFilename: `${image.slug}-${entry.version.version}.${entry.version.format}`,
              releaseStatus: entry.version.release,
              source: "upload",
              inspection: entry.inspection,
              createdAt: new Date(Date.now() - entry.version.daysAgo * 86_400_000),
            },
          });
        }
      }
      await tx
        .insert(imageShares)
        .values({ imageId: imageIds["ci-runner"]!, projectId: platform.id, offeredById: adminId });
      if (realDebian) realDebianVersionId = await seedRealDebian(tx, { adminId, projectId: platform.id });
    });
    if (realDebianVersionId) {
      // After the commit: the worker may pick the job up at once.
      await enqueue("demo.debian-image", { versionId: realDebianVersionId });
      log("The real Debian 12 demo image is being built from Debian's packages; it appears when its job finishes.");
    }
    log(
      `Demo catalog ready: ${demoImages.length} images, ${built.length} versions (${((Date.now() - started) / 1000).toFixed(1)} s).`,
    );
    return true;
  } finally {
    await Promise.all(writes.map((write) => write.end()));
    await rm(work, { recursive: true, force: true });
  }
}
