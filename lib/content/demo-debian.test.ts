// The demo catalog's real Debian job, for real: it takes the machine-wide bootable Debian (built by
// tests/bootable-debian.ts beforehand, so the job finds it cached), copies it, ingests it like an
// upload (the version becomes ready with the disk's own sha256, and its content scan and boot test
// are requested), downloads GNU hello's .deb from the Debian mirror with apt, and queues the recipe
// build that installs it. The build itself is not run here: the build engine's tests cover builds.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { bootTests, builds, contentScans, imageVersions, images, recipeRevisions } from "@/db/schema";
import { seedRealDebianDemo } from "@/db/seed";
import { bootableDebian, type CachedBootableDebian } from "@/tests/bootable-debian";
import { createTestProject, createTestUser } from "@/tests/fixtures";
import { runDemoDebianImage } from "./demo-debian";

async function sha256Of(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

describe("the demo's real Debian job", () => {
  let cached: CachedBootableDebian;
  beforeAll(async () => {
    cached = await bootableDebian();
  }, 1_800_000);

  it("ingests the cached Debian as the seeded version and queues the hello build on it", async () => {
    const admin = await createTestUser({ role: "admin" });
    const project = await createTestProject({ members: [{ viewer: admin, role: "owner" }] });
    const versionId = await seedRealDebianDemo({ adminId: admin.id, projectId: project.id });
    const [before] = await db().select().from(imageVersions).where(eq(imageVersions.id, versionId));
    expect(before?.dataStatus).toBe("importing");

    await runDemoDebianImage({ versionId });

    const [version] = await db().select().from(imageVersions).where(eq(imageVersions.id, versionId));
    expect(version?.failureReason).toBeNull();
    expect(version?.dataStatus).toBe("ready");
    expect(version?.format).toBe("qcow2");
    // The bytes are the cached disk's, copied: the cache itself is still there for the next user.
    expect(version?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(version?.sha256).toBe(await sha256Of(cached.disk));
    await access(cached.disk);

    // finalizeImport asked for its content scan and, as it has a bootloader, its boot test.
    const scans = await db().select().from(contentScans).where(eq(contentScans.sha256, version!.sha256!));
    expect(scans).toHaveLength(1);
    const tests = await db().select().from(bootTests).where(eq(bootTests.versionId, versionId));
    expect(tests.map((test) => test.status)).toEqual(["queued"]);

    // The recipe build on it: base debian-12-minimal 12, output debian-12-minimal-hello, installing
    // the hello .deb that was downloaded from the mirror and stored as a recipe file.
    const queued = await db()
      .select({ status: builds.status, baseVersionId: builds.baseVersionId, document: recipeRevisions.document })
      .from(builds)
      .innerJoin(recipeRevisions, eq(recipeRevisions.id, builds.revisionId))
      .where(eq(builds.baseVersionId, versionId));
    expect(queued).toHaveLength(1);
    const [build] = queued;
    expect(build?.status).toBe("queued");
    const document = build!.document;
    expect(document.base).toEqual({ image: "debian-12-minimal", version: "12" });
    expect(document.output.image).toBe("debian-12-minimal-hello");
    expect(document.steps.map((step) => step.type)).toEqual(["mkdir", "upload", "run"]);
    const upload = document.steps.find((step) => step.type === "upload");
    expect(upload?.filename).toMatch(/^hello_[\w.+~-]+_amd64\.deb$/);
    const script = document.steps.find((step) => step.type === "run")?.script ?? "";
    expect(script).toContain(`dpkg -i /var/cache/hangar/${upload!.filename}`);
    const [output] = await db()
      .select({ projectId: images.projectId })
      .from(images)
      .where(eq(images.slug, "debian-12-minimal-hello"));
    expect(output?.projectId).toBe(project.id);
  }, 1_200_000);
});
