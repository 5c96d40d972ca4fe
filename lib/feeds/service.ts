// Feed URLs and what they offer. A feed's secret (`hgf_` + 43 characters, recognisable to secret
// scanners like API tokens) is its whole credential: platforms send no other. Only its sha256 is
// stored; the URL is shown once, when the feed is made.
import { createHash, randomBytes } from "node:crypto";
import {
  insertFeed,
  listFeedVersions,
  openFeedForRequest,
  type FeedRow,
  type FeedVersionRow,
} from "@/db/queries/feeds";
import { getProject } from "@/db/queries/projects";
import type { Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";
import { HangarError } from "@/lib/errors";
import { feedNameIsBlankOnPlatforms, feedNamesClash } from "./opennebula";
import { extensionOf, type FeedContext, type FeedVersion } from "./types";

export const FEED_SECRET_PREFIX = "hgf_";
const SECRET_PATTERN = /^hgf_[A-Za-z0-9_-]{43}$/;
/** The path segment of the anonymous feed of public images. */
export const PUBLIC_FEED_SEGMENT = "public";
const SHOWN_CHARACTERS = FEED_SECRET_PREFIX.length + 8;

export const hashFeedSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** The absolute base URL of a feed (ending in "/"), from its path segment: a secret or `public`. */
export function feedBaseUrl(segment: string, origin = env().origin): string {
  return `${origin}/feeds/${segment}/`;
}

/** Makes a token feed for a project (its owners, admins) or for everything (admins); the URL exists only in the answer. */
export async function createFeed({
  viewer,
  name,
  projectSlug,
}: {
  viewer: Viewer;
  name: string;
  projectSlug?: string;
}): Promise<{ feed: FeedRow; url: string }> {
  const trimmed = name.trim();
  if (!trimmed || trimmed.length > 100)
    throw new HangarError("invalid", "Give the feed a name of 1 to 100 characters, such as “OpenNebula prod”.", {
      name: ["1 to 100 characters."],
    });
  if (feedNameIsBlankOnPlatforms(trimmed))
    throw new HangarError("invalid", "Give the feed a name with letters or digits in it, such as “OpenNebula prod”.", {
      name: ["Needs letters or digits."],
    });
  let projectId: string | null = null;
  if (projectSlug !== undefined) {
    const project = await getProject({ viewer, slug: projectSlug });
    if (!project) throw new HangarError("not_found", `There is no project ${projectSlug} you are a member of.`);
    projectId = project.id;
  }
  const secret = FEED_SECRET_PREFIX + randomBytes(32).toString("base64url");
  const feed = await insertFeed({
    viewer,
    name: trimmed,
    projectId,
    prefix: secret.slice(0, SHOWN_CHARACTERS),
    secretHash: hashFeedSecret(secret),
    clashesWith: (liveName) => feedNamesClash(liveName, trimmed),
  });
  return { feed, url: feedBaseUrl(secret) };
}

/**
 * The feed a URL's first segment names, counting the use; null for anything that is not a live
 * feed (a malformed, unknown or revoked secret, the public feed while it is off) — the caller
 * answers 404 to all of them alike.
 */
export async function openFeed(
  segment: string,
  { address, count = true }: { address: string | null; count?: boolean },
): Promise<{ feed: FeedRow; viewer: Viewer | null; context: FeedContext } | null> {
  if (segment !== PUBLIC_FEED_SEGMENT && !SECRET_PATTERN.test(segment)) return null;
  const opened = await openFeedForRequest(
    segment === PUBLIC_FEED_SEGMENT ? { public: true } : { secretHash: hashFeedSecret(segment) },
    { address, count },
  );
  if (!opened) return null;
  return {
    ...opened,
    context: { base: feedBaseUrl(segment), name: opened.feed.name, public: opened.feed.kind === "public" },
  };
}

/** A version's file name in feeds: `<slug>-<version>.<ext>`. */
export function feedFileName(version: Pick<FeedVersionRow, "imageSlug" | "version" | "format">): string {
  return `${version.imageSlug}-${version.version}.${extensionOf[version.format]}`;
}

/** The path under a feed's base where a version's file is served; immutable per version. */
export function feedFilePath(version: Pick<FeedVersionRow, "versionId" | "imageSlug" | "version" | "format">): string {
  return `files/${version.versionId}/${feedFileName(version)}`;
}

/** What a feed offers, with absolute URLs under it. */
export async function feedVersions(
  opened: { feed: FeedRow; viewer: Viewer | null; context: FeedContext },
  { imageSlug, versionId }: { imageSlug?: string; versionId?: string } = {},
): Promise<FeedVersion[]> {
  const rows = await listFeedVersions({
    viewer: opened.viewer,
    projectId: opened.feed.projectId,
    imageSlug,
    versionId,
  });
  return rows.map((row) => ({ ...row, urls: { download: opened.context.base + feedFilePath(row) } }));
}
