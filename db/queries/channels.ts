// Channels: named pointers per image. `latest` is managed (the newest approved version) and never
// stored; owners and admins create and move the others, and every move is kept as history.
import { and, eq, sql } from "drizzle-orm";
import { channelNamePattern } from "@/db/enums";
import { HangarError } from "@/lib/errors";
import { isCurrentRelease } from "@/lib/governance/release";
import { db } from "../client";
import { channelMoves, channels, imageVersions, images } from "../schema";
import { recordAudit } from "./audit";
import { type Viewer } from "./users";
import { requireOnImage, visibleImagesCondition } from "./access";
import { approvedVersionsSql } from "./release-sql";

// The pattern lives with the other plain value lists so client forms can check names without this module.
export { channelNamePattern };

export interface ChannelRow {
  name: string;
  versionId: string | null;
  version: string | null;
  managed: boolean;
  updatedAt: Date | null;
}

/** `latest` first, then the image's own channels by name. */
export async function listChannels({ imageId }: { imageId: string }): Promise<ChannelRow[]> {
  const {
    rows: [latest],
  } = await db().execute<{ id: string; version: string; created_at: string }>(approvedVersionsSql(imageId));
  const named = await db()
    .select({
      name: channels.name,
      versionId: channels.versionId,
      version: imageVersions.version,
      updatedAt: channels.updatedAt,
    })
    .from(channels)
    .innerJoin(imageVersions, eq(imageVersions.id, channels.versionId))
    .where(eq(channels.imageId, imageId))
    .orderBy(channels.name);
  return [
    {
      name: "latest",
      versionId: latest?.id ?? null,
      version: latest?.version ?? null,
      managed: true,
      updatedAt: latest ? new Date(latest.created_at) : null,
    },
    ...named.map((row) => ({ ...row, managed: false })),
  ];
}

export async function listChannelHistory({ imageId }: { imageId: string }) {
  const result = await db().execute<{
    name: string;
    from_version: string | null;
    to_version: string | null;
    actor: string | null;
    at: string;
  }>(sql`
    select c.name, fv.version as from_version, tv.version as to_version, u.email as actor, m.at
    from channel_moves m join channels c on c.id = m.channel_id
    left join image_versions fv on fv.id = m.from_version_id
    left join image_versions tv on tv.id = m.to_version_id
    left join users u on u.id = m.actor_id
    where c.image_id = ${imageId} order by m.at desc, m.id desc limit 50`);
  return result.rows.map((row) => ({
    name: row.name,
    fromVersion: row.from_version,
    toVersion: row.to_version,
    actor: row.actor,
    at: new Date(row.at),
  }));
}

/** Creates or moves a channel of an image to one of its approved versions. */
export async function moveChannel({
  viewer,
  imageId,
  name,
  versionId,
}: {
  viewer: Viewer;
  imageId: string;
  name: string;
  versionId: string;
}): Promise<void> {
  if (name === "latest")
    throw new HangarError("invalid", "latest is managed by Hangar: it always points at the newest approved version.", {
      name: ["latest can't be moved."],
    });
  if (!channelNamePattern.test(name))
    throw new HangarError("invalid", "A channel name is lowercase letters, digits and -, like stable or testing.", {
      name: ["Use a name like stable."],
    });
  const [image] = await db()
    .select({ projectId: images.projectId, visible: sql<boolean>`${visibleImagesCondition(viewer, "images")}` })
    .from(images)
    .where(eq(images.id, imageId));
  requireOnImage(viewer, image ?? null, "manage", "move its channels");
  await db().transaction(async (tx) => {
    const [target] = await tx
      .select({ releaseStatus: imageVersions.releaseStatus, version: imageVersions.version })
      .from(imageVersions)
      .where(and(eq(imageVersions.id, versionId), eq(imageVersions.imageId, imageId)))
      .for("share");
    if (!target)
      throw new HangarError("invalid", "Pick one of this image's versions.", {
        versionId: ["Not a version of this image."],
      });
    if (!isCurrentRelease(target.releaseStatus)) {
      throw new HangarError(
        "invalid",
        `A channel can only point at an approved version; ${target.version} is ${target.releaseStatus.replace("_", " ")}.`,
        { versionId: ["Pick an approved version."] },
      );
    }
    const [existing] = await tx
      .select({ id: channels.id, versionId: channels.versionId })
      .from(channels)
      .where(and(eq(channels.imageId, imageId), eq(channels.name, name)))
      .for("update");
    if (existing?.versionId === versionId) return;
    const channelId = existing
      ? (
          await tx
            .update(channels)
            .set({ versionId, updatedAt: sql`now()` })
            .where(eq(channels.id, existing.id))
            .returning({ id: channels.id })
        )[0]!.id
      : (await tx.insert(channels).values({ imageId, name, versionId }).returning({ id: channels.id }))[0]!.id;
    await tx
      .insert(channelMoves)
      .values({ channelId, fromVersionId: existing?.versionId ?? null, toVersionId: versionId, actorId: viewer.id });
    await recordAudit(
      {
        actorId: viewer.id,
        action: "channel.move",
        objectType: "image",
        objectId: imageId,
        before: { channel: name, versionId: existing?.versionId ?? null },
        after: { channel: name, versionId },
      },
      tx,
    );
  });
}

/** The version a named channel points at now, or null. */
export async function channelVersion({ imageId, name }: { imageId: string; name: string }): Promise<string | null> {
  const [row] = await db()
    .select({ versionId: channels.versionId })
    .from(channels)
    .where(and(eq(channels.imageId, imageId), eq(channels.name, name)));
  return row?.versionId ?? null;
}
