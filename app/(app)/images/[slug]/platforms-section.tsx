import { PublishingForm } from "@/components/feeds/publishing-form";
import { getImagePublishing } from "@/db/queries/feeds";
import type { Viewer } from "@/db/queries/users";

/**
 * The image page's publishing to platforms: the form for those who manage the image (owners,
 * admins), one line for everyone else, and nothing when it is not published.
 */
export async function PlatformsSection({
  viewer,
  image,
  channelNames,
}: {
  viewer: Viewer;
  image: { id: string; can: { manage: boolean } };
  channelNames: string[];
}) {
  const publishing = await getImagePublishing({ viewer, imageId: image.id });
  if (!publishing) return null;
  if (!image.can.manage)
    return publishing.published ? (
      <p className="text-sm">Published to platforms on {publishing.publishedChannels.join(", ")}.</p>
    ) : null;
  return (
    <section aria-labelledby="platforms-title" className="rounded-lg border border-line bg-surface p-4">
      <h2 id="platforms-title" className="mb-2 text-base font-semibold">
        Platforms
      </h2>
      <p className="mb-3 text-xs text-muted">
        Published images are offered through feeds (a project&rsquo;s Feeds page) to OpenNebula, LXD and Incus, Glance
        and Terraform.
      </p>
      <PublishingForm imageId={image.id} channelNames={channelNames} saved={publishing} />
    </section>
  );
}
