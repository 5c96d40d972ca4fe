// The version page's "Use it on…": the platforms' snippets for one version, with the feed URL
// filled in when the page can know one. A token feed's URL exists only in the answer that made it,
// so only the public feed (for a public, published image while an admin has it on) can be named;
// otherwise the snippets that need a feed say how to get one, and the others use the API download URL.
import { listFeedVersions } from "@/db/queries/feeds";
import type { Viewer } from "@/db/queries/users";
import { env } from "@/lib/env";
import { feedVersions, openFeed, PUBLIC_FEED_SEGMENT } from "./service";
import { platformSnippets, type UseItOnSnippet } from "./use-it-on";

export async function platformSnippetsFor({
  viewer,
  imageSlug,
  versionId,
}: {
  viewer: Viewer;
  imageSlug: string;
  versionId: string;
}): Promise<{ snippets: UseItOnSnippet[]; viaPublicFeed: boolean } | null> {
  const publicFeed = await openFeed(PUBLIC_FEED_SEGMENT, { address: null, count: false });
  if (publicFeed) {
    const offered = (await feedVersions(publicFeed, { imageSlug })).find((entry) => entry.versionId === versionId);
    if (offered) {
      const channel = offered.channels[0];
      return {
        viaPublicFeed: true,
        snippets: platformSnippets(offered, {
          feed: publicFeed.context,
          channelLookup: channel ? `${publicFeed.context.base}channels/${imageSlug}/${channel}.json` : null,
        }),
      };
    }
  }
  const [row] = (await listFeedVersions({ viewer, projectId: null, imageSlug, publishedOnly: false })).filter(
    (entry) => entry.versionId === versionId,
  );
  if (!row) return null;
  const download = `${env().origin}/api/v1/versions/${versionId}/download`;
  return {
    viaPublicFeed: false,
    snippets: platformSnippets({ ...row, urls: { download } }, { feed: null, channelLookup: null }),
  };
}
