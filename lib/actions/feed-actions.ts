import { requireAdmin } from "@/db/queries/access";
import { listChannels } from "@/db/queries/channels";
import {
  canManageFeed,
  enablePublicFeed,
  getImagePublishing,
  listFeeds,
  revokeFeed,
  setImagePublishing,
  type FeedRow,
} from "@/db/queries/feeds";
import { listProjects } from "@/db/queries/projects";
import type { Viewer } from "@/db/queries/users";
import { HangarError } from "@/lib/errors";
import { feedEndpoints, type FeedEndpoints } from "@/lib/feeds/endpoints";
import { validateOpenNebulaTemplate } from "@/lib/feeds/opennebula";
import { createFeed, feedBaseUrl, PUBLIC_FEED_SEGMENT } from "@/lib/feeds/service";
import {
  createFeedSchema,
  listFeedsSchema,
  revokeFeedSchema,
  setImagePublishingSchema,
  setPublicFeedSchema,
} from "@/lib/validations/platforms";
import { defineAction } from "./safe-action";

export type FeedStatus = "active" | "revoked";

/** A feed as lists show it: never its secret (only the prefix), with whether the caller may revoke it. */
export type FeedListing = FeedRow & { status: FeedStatus; canRevoke: boolean };

const listing = (viewer: Viewer, feed: FeedRow): FeedListing => ({
  ...feed,
  status: feed.revokedAt ? "revoked" : "active",
  canRevoke: canManageFeed(viewer, feed),
});

async function projectNamed(viewer: Viewer, slug: string) {
  const [project] = await listProjects({ viewer, slug });
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  return project;
}

export const createFeedAction = defineAction(createFeedSchema, async (input, viewer) => {
  // A feed reads as whoever made it; letting a token make one would outlive the token's narrowing.
  if (viewer.token)
    throw new HangarError("forbidden", "Feeds are made in the browser (a project's Feeds page), not with a token.");
  const { feed, url } = await createFeed({ viewer, name: input.name, projectSlug: input.project ?? undefined });
  // The URL exists only in this answer: only a hash of its secret is stored.
  return { feed: listing(viewer, feed), endpoints: feedEndpoints(url) };
});

/** The feeds of one project (its owners, admins), or every feed the caller manages. */
export const listFeedsAction = defineAction(listFeedsSchema, async (input, viewer) => {
  const feeds = await listFeeds({ viewer });
  if (!input.project) return feeds.map((feed) => listing(viewer, feed));
  const project = await projectNamed(viewer, input.project);
  return feeds.filter((feed) => feed.projectId === project.id).map((feed) => listing(viewer, feed));
});

export const revokeFeedAction = defineAction(revokeFeedSchema, async (input, viewer) => {
  const feed = await revokeFeed({ viewer, id: input.id });
  return listing(viewer, feed);
});

/** The anonymous feed of public, published images: on or off (admins). */
export const setPublicFeedAction = defineAction(
  setPublicFeedSchema,
  async (input, viewer): Promise<{ enabled: boolean; endpoints: FeedEndpoints }> => {
    requireAdmin(viewer, "turn the public feed on or off");
    const endpoints = feedEndpoints(feedBaseUrl(PUBLIC_FEED_SEGMENT));
    if (input.enabled) {
      await enablePublicFeed({ viewer });
      return { enabled: true, endpoints };
    }
    const live = (await listFeeds({ viewer })).find((feed) => feed.kind === "public" && !feed.revokedAt);
    if (live) await revokeFeed({ viewer, id: live.id });
    return { enabled: false, endpoints };
  },
);

export const setImagePublishingAction = defineAction(setImagePublishingSchema, async (input, viewer) => {
  const current = await getImagePublishing({ viewer, imageId: input.imageId });
  if (!current) throw new HangarError("not_found", "That image doesn't exist or you can't see it.");
  const offered = new Set((await listChannels({ imageId: input.imageId })).map((channel) => channel.name));
  const unknown = input.channels.filter((name) => !offered.has(name));
  if (unknown.length)
    throw new HangarError(
      "invalid",
      `${unknown.join(", ")} ${unknown.length === 1 ? "is not a channel" : "are not channels"} of this image; create the channel first or choose latest.`,
      { channels: ["Choose latest or one of the image's channels."] },
    );
  // What OpenNebula would drop or refuse is never emitted: refused here, while it is being saved.
  const problems = input.published ? validateOpenNebulaTemplate(input.vmTemplate, current.imageName) : [];
  if (problems.length) throw new HangarError("invalid", `Nothing was saved: ${problems.join(" ")}`);
  // setImagePublishing checks that the caller manages the image (owners and admins).
  await setImagePublishing({
    viewer,
    imageId: input.imageId,
    published: input.published,
    channels: input.channels,
    vmTemplate: input.vmTemplate,
  });
  const { published, publishedChannels, vmTemplate } = (await getImagePublishing({ viewer, imageId: input.imageId }))!;
  return { published, publishedChannels, vmTemplate };
});
