// Who sees which images and versions, through every read the pages and routes use, and what
// follows from it for the actions: a private image is its project's alone; a public image shows
// only its released versions outside its project and lends only approved or deprecated ones; a
// shared image appears in a project only once that project's owner accepted; disabled and revoked
// versions are used by nobody but admins; what a caller can't see answers not_found, what they see
// but may not change answers forbidden, and either way nothing changes.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "@/db/client";
import { getBootTest, getLatestBootTest } from "@/db/queries/boot-tests";
import { listCatalogImages, listCatalogVersions } from "@/db/queries/catalog";
import { getVersionContents, listPickableVersions, listReviewContents } from "@/db/queries/content";
import { getImageBySlug, getVersionProgress, listImageVersions } from "@/db/queries/images";
import { getLineage } from "@/db/queries/lineage";
import { getVersionSbomSource, searchPackageVersions } from "@/db/queries/packages";
import { getFileDiff, getFileDiffById } from "@/db/queries/version-diffs";
import { getDownloadableVersion, getVersionDetail } from "@/db/queries/versions";
import type { Viewer } from "@/db/queries/users";
import {
  bootTests,
  clones,
  contentPackages,
  imageShares,
  imageVersions,
  images,
  versionDiffs,
  type ReleaseStatus,
} from "@/db/schema";
import { moveChannelAction } from "@/lib/actions/channel-actions";
import {
  changeTagAction as changeTag,
  removePropertyAction as removeProperty,
  setPropertyAction as setProperty,
} from "@/lib/actions/image-actions";
import { rebuildAction, saveRecipeAction } from "@/lib/actions/recipe-actions";
import { changeReleaseAction as changeRelease, deleteVersionAction } from "@/lib/actions/release-actions";
import { cloneVersionAction } from "@/lib/actions/clone-actions";
import { answerShareAction, offerShareAction, withdrawShareAction } from "@/lib/actions/share-actions";
import { unique, writeTestScan } from "./fixtures";
import {
  auditCount,
  callerNames,
  createWorld,
  imageWith,
  projectRoles,
  realVersion,
  type CallerName,
  type World,
} from "./authorization-world";

let world: World;
const signedIn = callerNames.filter((caller): caller is Exclude<CallerName, "anonymous"> => caller !== "anonymous");
const viewerFor = (caller: Exclude<CallerName, "anonymous">): Viewer => world.callers[caller]!;
const inProject = (caller: CallerName) => projectRoles[caller] === "ok";

const allStatuses: ReleaseStatus[] = [
  "draft",
  "pending_review",
  "approved",
  "rejected",
  "deprecated",
  "disabled",
  "revoked",
];
const released: ReleaseStatus[] = ["approved", "deprecated", "disabled", "revoked"];

beforeAll(async () => {
  world = await createWorld();
});

async function statusesSeen(viewer: Viewer, imageId: string, ids: string[]) {
  const listed = (await listImageVersions({ viewer, imageId })).map((row) => row.releaseStatus).sort();
  const usable: ReleaseStatus[] = [];
  for (const [index, versionId] of ids.entries())
    if (await getDownloadableVersion({ viewer, versionId })) usable.push(allStatuses[index]!);
  return { listed, usable: usable.sort() };
}

describe("a private image", () => {
  let image: Awaited<ReturnType<typeof imageWith>>;
  beforeAll(async () => {
    image = await imageWith(world.project.id, allStatuses);
  });

  it.each(signedIn)("is seen by %s only through a role in its project (or as admin), in every read", async (caller) => {
    const viewer = viewerFor(caller);
    const sees = inProject(caller);
    expect(Boolean(await getImageBySlug({ viewer, slug: image.slug }))).toBe(sees);
    const catalog = await listCatalogImages({
      viewer,
      project: world.project.slug,
      q: undefined,
      sort: "updated",
      order: "desc",
      limit: 500,
    });
    expect(catalog.rows.some((row) => row.id === image.id)).toBe(sees);
    const versions = await listCatalogVersions({
      viewer,
      project: world.project.slug,
      sort: "updated",
      order: "desc",
      limit: 500,
    });
    expect(versions.rows.filter((row) => image.versions.includes(row.id)).length).toBe(sees ? allStatuses.length : 0);
    const approved = image.versions[allStatuses.indexOf("approved")]!;
    expect(Boolean(await getVersionDetail({ viewer, imageSlug: image.slug, version: "1.3" }))).toBe(sees);
    expect(Boolean(await getLineage({ viewer, versionId: approved }))).toBe(sees);
    expect(Boolean(await getVersionProgress({ viewer, versionId: approved }))).toBe(sees);
    const seen = await statusesSeen(viewer, image.id, image.versions);
    expect(seen.listed).toEqual(sees ? [...allStatuses].sort() : []);
    // In its project every version but disabled and revoked ones may be used; admins use all.
    const usable =
      caller === "admin"
        ? allStatuses
        : sees
          ? allStatuses.filter((status) => status !== "disabled" && status !== "revoked")
          : [];
    expect(seen.usable).toEqual([...usable].sort());
  });
});

describe("limits checked before access", () => {
  it.each(["other member", "other owner"] as const)(
    "tell %s nothing about another project's full private image",
    async (caller) => {
      const viewer = viewerFor(caller);
      const full = await imageWith(world.project.id, ["approved"]);
      const tags = Array.from({ length: 32 }, (_, index) => `t${index}`);
      const properties = Object.fromEntries(Array.from({ length: 64 }, (_, index) => [`k${index}`, "v"]));
      await db().update(images).set({ tags, properties, name: "Secret name" }).where(eq(images.id, full.id));
      const before = {
        image: await db().select().from(images).where(eq(images.id, full.id)),
        audit: await auditCount(),
      };
      const tagged = await changeTag(viewer, { imageIds: [full.id], tag: "one-more", op: "add" });
      expect(tagged).toMatchObject({ ok: false, code: "not_found" });
      if (!tagged.ok) expect(tagged.message).not.toMatch(/Secret name|32 tags/);
      const property = await setProperty(viewer, { imageId: full.id, key: "one-more", value: "v" });
      expect(property).toMatchObject({ ok: false, code: "not_found" });
      expect(await removeProperty(viewer, { imageId: full.id, key: "k1" })).toMatchObject({
        ok: false,
        code: "not_found",
      });
      expect({
        image: await db().select().from(images).where(eq(images.id, full.id)),
        audit: await auditCount(),
      }).toEqual(before);
      // Its own members still get the limits explained.
      expect(await changeTag(world.callers.member, { imageIds: [full.id], tag: "one-more", op: "add" })).toMatchObject({
        ok: false,
        code: "invalid",
      });
      expect(await setProperty(world.callers.member, { imageId: full.id, key: "one-more", value: "v" })).toMatchObject({
        ok: false,
        code: "invalid",
      });
    },
  );
});

describe("recipe bases", () => {
  it.each(["other member", "other owner"] as const)(
    "are, to %s, only what they can see: another project's private image or public draft is no base at all",
    async (caller) => {
      const viewer = viewerFor(caller);
      const hidden = await imageWith(world.project.id, ["approved"]);
      const open = await imageWith(world.project.id, ["approved", "draft"], "public");
      const output = await imageWith(world.otherProject.id, []);
      const save = (base: { image: string; version: string }) =>
        saveRecipeAction(viewer, {
          projectId: world.otherProject.id,
          document: {
            name: unique("recipe"),
            description: "",
            base,
            steps: [{ type: "write", path: "/etc/motd", content: "x" }],
            output: { image: output.slug, format: "qcow2" },
          },
        });
      const audit = await auditCount();
      const privateBase = await save({ image: hidden.slug, version: "1.1" });
      expect(privateBase).toMatchObject({
        ok: false,
        code: "not_found",
        fieldErrors: { "base.image": ["No such image."] },
      });
      const draftBase = await save({ image: open.slug, version: "1.2" });
      expect(draftBase).toMatchObject({
        ok: false,
        code: "not_found",
        fieldErrors: { "base.version": ["No such version."] },
      });
      expect(await auditCount()).toBe(audit);
      // The public image's approved version is theirs to build on.
      expect(await save({ image: open.slug, version: "1.1" })).toMatchObject({ ok: true });
    },
  );
});

describe("a public image", () => {
  let image: Awaited<ReturnType<typeof imageWith>>;
  beforeAll(async () => {
    image = await imageWith(world.project.id, allStatuses, "public");
  });

  it.each(signedIn)(
    "shows %s its released versions outside its project, and lends only approved or deprecated ones",
    async (caller) => {
      const viewer = viewerFor(caller);
      expect(Boolean(await getImageBySlug({ viewer, slug: image.slug }))).toBe(true);
      const seen = await statusesSeen(viewer, image.id, image.versions);
      const listed = inProject(caller) ? allStatuses : released;
      expect(seen.listed).toEqual([...listed].sort());
      const usable =
        caller === "admin"
          ? allStatuses
          : inProject(caller)
            ? allStatuses.filter((status) => status !== "disabled" && status !== "revoked")
            : ["approved", "deprecated"];
      expect(seen.usable).toEqual([...usable].sort());
      const catalogVersions = await listCatalogVersions({
        viewer,
        project: world.project.slug,
        sort: "updated",
        order: "desc",
        limit: 500,
      });
      expect(
        catalogVersions.rows
          .filter((row) => image.versions.includes(row.id))
          .map((row) => row.releaseStatus)
          .sort(),
      ).toEqual([...listed].sort());
      // A draft is nobody's business outside the project: not its page, not its import progress.
      const draft = image.versions[allStatuses.indexOf("draft")]!;
      expect(Boolean(await getVersionDetail({ viewer, imageSlug: image.slug, version: "1.1" }))).toBe(
        inProject(caller),
      );
      expect(Boolean(await getVersionProgress({ viewer, versionId: draft }))).toBe(inProject(caller));
      expect(Boolean(await getLineage({ viewer, versionId: draft }))).toBe(inProject(caller));
    },
  );

  it.each(["other member", "other owner"] as const)(
    "refuses %s changes with forbidden for what they see and not_found for what they don't, changing nothing",
    async (caller) => {
      const viewer = viewerFor(caller);
      const fresh = await imageWith(world.project.id, ["draft", "approved"], "public");
      const [draft, approved] = fresh.versions as [string, string];
      const snapshot = async () => ({
        image: await db().select().from(images).where(eq(images.id, fresh.id)),
        versions: await db().select().from(imageVersions).where(eq(imageVersions.imageId, fresh.id)),
        audit: await auditCount(),
      });
      const before = await snapshot();
      expect(
        await changeRelease(viewer, { versionId: approved, action: "deprecate", reason: "mine now" }),
      ).toMatchObject({ ok: false, code: "forbidden" });
      expect(await changeRelease(viewer, { versionId: draft, action: "submit" })).toMatchObject({
        ok: false,
        code: "not_found",
      });
      expect(await deleteVersionAction(viewer, { versionId: approved })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await deleteVersionAction(viewer, { versionId: draft })).toMatchObject({ ok: false, code: "not_found" });
      expect(await moveChannelAction(viewer, { imageId: fresh.id, name: "stable", versionId: approved })).toMatchObject(
        { ok: false, code: "forbidden" },
      );
      expect(await changeTag(viewer, { imageIds: [fresh.id], tag: "mine", op: "add" })).toMatchObject({
        ok: false,
        code: "forbidden",
      });
      expect(await offerShareAction(viewer, { imageId: fresh.id, projectSlug: world.otherProject.slug })).toMatchObject(
        { ok: false, code: "not_found" },
      );
      expect(await rebuildAction(viewer, { versionId: draft })).toMatchObject({ ok: false, code: "not_found" });
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe("what is inside a version", () => {
  // A public image: 1.0 approved (everyone sees it), 1.1 pending review (its project's alone). Both
  // scanned with a package of their own name, compared with each other, and 1.1 boot-tested.
  let image: Awaited<ReturnType<typeof imageWith>>;
  let approved: string;
  let pending: string;
  let diffId: string;
  let bootTestId: string;
  const pkgName = unique("inside").toLowerCase();
  beforeAll(async () => {
    image = await imageWith(world.project.id, ["approved", "pending_review"], "public");
    [approved, pending] = image.versions as [string, string];
    const shas = await db()
      .select({ id: imageVersions.id, sha256: imageVersions.sha256 })
      .from(imageVersions)
      .where(eq(imageVersions.imageId, image.id));
    for (const [index, { sha256 }] of shas.entries()) {
      await writeTestScan({ sha256: sha256!, status: "succeeded", osFound: true, distro: "debian", packageCount: 1 });
      await db()
        .insert(contentPackages)
        .values({
          scanSha256: sha256!,
          name: pkgName,
          version: `1.${index}`,
          epoch: 0,
          upstreamVersion: `1.${index}`,
          release: "",
          arch: "amd64",
          scheme: "deb",
          sortKey: Buffer.from(`1.${index}`),
        });
    }
    const [diff] = await db()
      .insert(versionDiffs)
      .values({
        fromVersionId: approved,
        toVersionId: pending,
        status: "succeeded",
        files: [{ path: "/etc/hostname", change: "changed", type: "file", sizeBefore: 5, sizeAfter: 6 }],
      })
      .returning({ id: versionDiffs.id });
    diffId = diff!.id;
    const [test] = await db()
      .insert(bootTests)
      .values({
        versionId: pending,
        status: "succeeded",
        result: "passed",
        successPattern: "login:",
        timeoutSeconds: 60,
      })
      .returning({ id: bootTests.id });
    bootTestId = test!.id;
  });

  it.each(signedIn)(
    "shows %s the contents, packages, diffs, SBOM and boot test of a hidden version only inside its project",
    async (caller) => {
      const viewer = viewerFor(caller);
      const sees = inProject(caller);
      // The released version: everyone.
      expect((await getVersionContents({ viewer, versionId: approved }))?.scan.status).toBe("succeeded");
      expect(Boolean(await getVersionSbomSource({ viewer, versionId: approved }))).toBe(true);
      // The pending one: its project (and admins) only, through every read the pages and routes use.
      expect(Boolean(await getVersionContents({ viewer, versionId: pending }))).toBe(sees);
      expect(Boolean(await getVersionSbomSource({ viewer, versionId: pending }))).toBe(sees);
      const hits = await searchPackageVersions({ viewer, condition: { name: pkgName }, limit: 50 });
      expect(hits.rows.map((row) => row.versionId).sort()).toEqual((sees ? [approved, pending] : [approved]).sort());
      expect((await listReviewContents({ viewer, versionIds: [approved, pending] })).has(pending)).toBe(sees);
      const pickable = (await listPickableVersions({ viewer, include: [approved, pending] })).map((row) => row.id);
      expect(pickable).toContain(approved);
      expect(pickable.includes(pending)).toBe(sees);
      expect(Boolean(await getFileDiffById({ viewer, diffId }))).toBe(sees);
      if (sees) {
        const diff = await getFileDiff({ viewer, fromVersionId: approved, toVersionId: pending });
        expect(diff?.files?.map((file) => file.path)).toEqual(["/etc/hostname"]);
      } else {
        await expect(getFileDiff({ viewer, fromVersionId: approved, toVersionId: pending })).rejects.toMatchObject({
          code: "not_found",
        });
      }
      expect(Boolean(await getBootTest({ viewer, bootTestId }))).toBe(sees);
      expect(Boolean(await getLatestBootTest({ viewer, versionId: pending }))).toBe(sees);
    },
  );
});

describe("cloning", () => {
  const cloneRows = async (versionId: string) =>
    db().select().from(clones).where(eq(clones.sourceVersionId, versionId));

  it.each(["draft", "pending_review", "rejected", "deprecated", "disabled", "revoked"] as const)(
    "refuses a %s version even to the project's owner, creating nothing",
    async (status) => {
      const source = await realVersion(world, { projectId: world.project.id, releaseStatus: status });
      const slug = unique("clone");
      const audit = await auditCount();
      const result = await cloneVersionAction(world.callers.owner, {
        versionId: source.versionId,
        projectId: world.project.id,
        newImageSlug: slug,
        version: "1.0",
        mode: "linked",
      });
      expect(result).toMatchObject({ ok: false, code: "conflict" });
      expect(await cloneRows(source.versionId)).toEqual([]);
      expect(await db().select().from(images).where(eq(images.slug, slug))).toEqual([]);
      expect(await auditCount()).toBe(audit);
    },
  );

  it.each([
    ["P's private approved version", "private", "approved", "not_found"],
    ["P's public draft", "public", "draft", "not_found"],
    ["P's public approved version", "public", "approved", "ok"],
  ] as const)(
    "lets another project's member clone %s into their own project: %s",
    async (_, visibility, releaseStatus, outcome) => {
      const source = await realVersion(world, { projectId: world.project.id, releaseStatus, visibility });
      const slug = unique("clone");
      const audit = await auditCount();
      const result = await cloneVersionAction(world.callers["other member"], {
        versionId: source.versionId,
        projectId: world.otherProject.id,
        newImageSlug: slug,
        version: "1.0",
        mode: "linked",
      });
      if (outcome === "ok") {
        expect(result).toMatchObject({ ok: true, data: { queued: false } });
        const [made] = await db().select({ projectId: images.projectId }).from(images).where(eq(images.slug, slug));
        expect(made?.projectId).toBe(world.otherProject.id);
        expect((await cloneRows(source.versionId)).map((row) => row.status)).toEqual(["succeeded"]);
      } else {
        expect(result).toMatchObject({ ok: false, code: outcome });
        expect(await cloneRows(source.versionId)).toEqual([]);
        expect(await db().select().from(images).where(eq(images.slug, slug))).toEqual([]);
        expect(await auditCount()).toBe(audit);
      }
    },
  );

  it("refuses a public approved version into a project where the caller is only a viewer, or not a member", async () => {
    const source = await realVersion(world, { projectId: world.otherProject.id, visibility: "public" });
    const audit = await auditCount();
    const into = (caller: CallerName, projectId: string) =>
      cloneVersionAction(world.callers[caller], {
        versionId: source.versionId,
        projectId,
        newImageSlug: unique("clone"),
        version: "1.0",
        mode: "full",
      });
    expect(await into("viewer", world.project.id)).toMatchObject({ ok: false, code: "forbidden" });
    expect(await into("other owner", world.project.id)).toMatchObject({ ok: false, code: "not_found" });
    expect(await into("member", world.thirdProject.id)).toMatchObject({ ok: false, code: "not_found" });
    expect(await cloneRows(source.versionId)).toEqual([]);
    expect(await auditCount()).toBe(audit);
  });
});

describe("a shared image", () => {
  // R's private image, offered to Q: Q sees it once Q's owner accepted, and only its released versions.
  let image: Awaited<ReturnType<typeof imageWith>>;
  let real: Awaited<ReturnType<typeof realVersion>>;
  const seers = async (slug: string) => {
    const seeing: CallerName[] = [];
    for (const caller of signedIn) if (await getImageBySlug({ viewer: viewerFor(caller), slug })) seeing.push(caller);
    return seeing;
  };
  const shareRow = async () => db().select().from(imageShares).where(eq(imageShares.imageId, image.id));

  beforeAll(async () => {
    image = await imageWith(world.thirdProject.id, ["draft", "approved"]);
    real = await realVersion(world, { projectId: world.thirdProject.id });
  });

  it("is seen by nobody but admins while the offer waits, and only the receiving project's owner (or an admin) may answer it", async () => {
    expect(
      await offerShareAction(world.thirdOwner, { imageId: image.id, projectSlug: world.otherProject.slug }),
    ).toMatchObject({ ok: true });
    expect(await seers(image.slug)).toEqual(["admin"]);
    const before = { share: await shareRow(), audit: await auditCount() };
    const answer = (caller: CallerName) =>
      answerShareAction(world.callers[caller], { imageId: image.id, projectId: world.otherProject.id, accept: true });
    expect(await answer("anonymous")).toMatchObject({ ok: false, code: "unauthenticated" });
    expect(await answer("other member")).toMatchObject({ ok: false, code: "forbidden" });
    for (const caller of ["viewer", "member", "owner"] as const)
      expect(await answer(caller)).toMatchObject({ ok: false, code: "not_found" });
    expect({ share: await shareRow(), audit: await auditCount() }).toEqual(before);
    expect(await seers(image.slug)).toEqual(["admin"]);
  });

  it("is seen by the receiving project once its owner accepted, with only its released versions", async () => {
    expect(
      await answerShareAction(world.callers["other owner"], {
        imageId: image.id,
        projectId: world.otherProject.id,
        accept: true,
      }),
    ).toMatchObject({ ok: true, data: { status: "accepted" } });
    expect(await seers(image.slug)).toEqual(["other member", "other owner", "admin"]);
    const member = viewerFor("other member");
    expect((await listImageVersions({ viewer: member, imageId: image.id })).map((row) => row.releaseStatus)).toEqual([
      "approved",
    ]);
    const [draft, approved] = image.versions as [string, string];
    expect(await getDownloadableVersion({ viewer: member, versionId: approved })).not.toBeNull();
    expect(await getDownloadableVersion({ viewer: member, versionId: draft })).toBeNull();
    const audit = await auditCount();
    expect(await changeRelease(member, { versionId: approved, action: "deprecate", reason: "x" })).toMatchObject({
      ok: false,
      code: "forbidden",
    });
    expect(await changeRelease(member, { versionId: draft, action: "submit" })).toMatchObject({
      ok: false,
      code: "not_found",
    });
    expect(await auditCount()).toBe(audit);
  });

  it("lends its approved version to a clone into the receiving project, after acceptance only", async () => {
    const clone = (slug: string) =>
      cloneVersionAction(world.callers["other member"], {
        versionId: real.versionId,
        projectId: world.otherProject.id,
        newImageSlug: slug,
        version: "1.0",
        mode: "linked",
      });
    expect(await clone(unique("clone"))).toMatchObject({ ok: false, code: "not_found" });
    expect(
      await offerShareAction(world.thirdOwner, { imageId: real.imageId, projectSlug: world.otherProject.slug }),
    ).toMatchObject({ ok: true });
    expect(await clone(unique("clone"))).toMatchObject({ ok: false, code: "not_found" });
    expect(
      await answerShareAction(world.callers["other owner"], {
        imageId: real.imageId,
        projectId: world.otherProject.id,
        accept: true,
      }),
    ).toMatchObject({ ok: true });
    expect(await clone(unique("clone"))).toMatchObject({ ok: true, data: { queued: false } });
  });

  it("disappears again when withdrawn, and a declined offer never shows", async () => {
    expect(
      await withdrawShareAction(world.callers["other owner"], { imageId: image.id, projectId: world.otherProject.id }),
    ).toMatchObject({ ok: false, code: "not_found" });
    expect(
      await withdrawShareAction(world.thirdOwner, { imageId: image.id, projectId: world.otherProject.id }),
    ).toMatchObject({ ok: true });
    expect(await seers(image.slug)).toEqual(["admin"]);
    expect(
      await offerShareAction(world.thirdOwner, { imageId: image.id, projectSlug: world.otherProject.slug }),
    ).toMatchObject({ ok: true });
    expect(
      await answerShareAction(world.callers["other owner"], {
        imageId: image.id,
        projectId: world.otherProject.id,
        accept: false,
      }),
    ).toMatchObject({ ok: true, data: { status: "declined" } });
    expect(await seers(image.slug)).toEqual(["admin"]);
  });
});
