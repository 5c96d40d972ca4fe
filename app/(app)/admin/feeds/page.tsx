import type { Metadata } from "next";
import { forbidden } from "next/navigation";
import { CreateFeedForm, FeedList, PublicFeedSwitch } from "@/components/feeds/feed-panel";
import { PageHeader } from "@/components/shell/page-header";
import { isAdmin } from "@/db/queries/access";
import { listFeedsAction } from "@/lib/actions/feed-actions";
import { requireViewer } from "@/lib/auth/session";
import { feedEndpoints } from "@/lib/feeds/endpoints";
import { feedBaseUrl, PUBLIC_FEED_SEGMENT } from "@/lib/feeds/service";

export const metadata: Metadata = { title: "Feeds" };

export default async function AdminFeedsPage() {
  const viewer = await requireViewer("/admin/feeds");
  if (!isAdmin(viewer)) forbidden();
  const listed = await listFeedsAction(viewer, {});
  if (!listed.ok) forbidden();
  const publicOn = listed.data.some((feed) => feed.kind === "public" && feed.status === "active");
  return (
    <div className="space-y-8">
      <PageHeader
        title="Feeds"
        description="Every feed platforms read published images from, newest first. Revoking one stops it at once: its URL answers 404 from the next request on."
      />
      <section aria-labelledby="public-feed-heading" className="space-y-3">
        <h2 id="public-feed-heading" className="text-base font-semibold">
          Public feed
        </h2>
        <PublicFeedSwitch enabled={publicOn} endpoints={feedEndpoints(feedBaseUrl(PUBLIC_FEED_SEGMENT))} />
      </section>
      <CreateFeedForm project={null} defaultName="All published images" />
      <section aria-labelledby="feeds-heading" className="space-y-3">
        <h2 id="feeds-heading" className="text-base font-semibold">
          All feeds
        </h2>
        <FeedList feeds={listed.data} label="All feeds" />
      </section>
    </div>
  );
}
