import type { Metadata } from "next";
import { BootSettingsSection } from "./boot-settings-section";
import { PlatformsSection } from "./platforms-section";
import { RetentionSection } from "./retention-section";
import Link from "next/link";
import { formatDateTime } from "@/components/ui/format";
import { notFound } from "next/navigation";
import { cache, type ReactNode } from "react";
import { getImageBySlug, listImageVersions } from "@/db/queries/images";
import { getNewerBaseForImage } from "@/db/queries/lineage";
import { listChannelHistory, listChannels } from "@/db/queries/channels";
import { ChannelForm } from "@/components/images/channel-form";
import { DetailsForm } from "@/components/images/details-form";
import { ImageFacts } from "@/components/images/image-facts";
import { buttonClasses } from "@/components/ui/button";
import { ImageVersionsTable } from "@/components/images/image-versions-table";
import { Markdown } from "@/components/images/markdown";
import { PropertiesEditor, PropertiesTable } from "@/components/images/properties-editor";
import { TagEditor } from "@/components/images/tag-editor";
import { VisibilityForm } from "@/components/images/visibility-form";
import { SharePanel } from "@/components/images/share-panel";
import { listImageShares } from "@/db/queries/shares";
import { getImageDetectedFacts } from "@/db/queries/content";
import { MismatchWarning } from "@/components/content/mismatch-warning";
import { TagChip, VisibilityBadge } from "@/components/ui/badge";
import { getViewer, requireViewer } from "@/lib/auth/session";
import { isCurrentRelease } from "@/lib/governance/release";

const SLUG_PATTERN = /^[a-z0-9][a-z0-9._-]{0,199}$/;

// generateMetadata and the page both need the image; cache() reads it once per request.
const loadImage = cache(async (slug: string) => {
  const viewer = await getViewer();
  if (!viewer || !SLUG_PATTERN.test(slug)) return null;
  return getImageBySlug({ viewer, slug });
});

type Props = { params: Promise<{ slug: string }> };

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const image = await loadImage((await params).slug);
  return { title: image?.name ?? "Image not found" };
}

function Section({
  id,
  title,
  children,
  aside,
}: {
  id: string;
  title: string;
  children: ReactNode;
  aside?: ReactNode;
}) {
  return (
    <section aria-labelledby={id} className="space-y-3">
      <div className="flex items-baseline justify-between gap-3">
        <h2 id={id} className="text-base font-semibold">
          {title}
        </h2>
        {aside}
      </div>
      {children}
    </section>
  );
}

export default async function ImagePage({ params }: Props) {
  const { slug } = await params;
  const viewer = await requireViewer(`/images/${encodeURIComponent(slug)}`);
  const image = await loadImage(slug);
  if (!image) notFound();
  const [versions, newerBase, channelRows, channelHistory, shares, detected] = await Promise.all([
    listImageVersions({ viewer, imageId: image.id }),
    getNewerBaseForImage({ imageId: image.id }),
    listChannels({ imageId: image.id }),
    listChannelHistory({ imageId: image.id }),
    image.can.manage ? listImageShares({ viewer, imageId: image.id, projectId: image.projectId }) : Promise.resolve([]),
    getImageDetectedFacts({ viewer, imageId: image.id }),
  ]);
  const newest = versions.find((version) => version.version === image.latestVersion);
  const properties = Object.entries(image.properties).sort(([a], [b]) => a.localeCompare(b));

  return (
    <div className="space-y-8">
      <div>
        <nav aria-label="Breadcrumb" className="mb-2 text-sm">
          <ol className="flex items-center gap-1.5 text-muted">
            <li>
              <Link href="/">Catalog</Link>
            </li>
            <li aria-hidden="true">/</li>
            <li aria-current="page" className="truncate">
              {image.name}
            </li>
          </ol>
        </nav>
        <h1 className="text-2xl font-semibold tracking-tight">{image.name}</h1>
        <p className="mt-1.5 flex flex-wrap items-center gap-x-3 gap-y-1 text-muted">
          <span>
            {image.os} {image.osVersion}
          </span>
          <code>{image.arch}</code>
          <VisibilityBadge visibility={image.visibility} />
          <span>
            Project <span className="text-fg">{image.projectName}</span>
          </span>
          {detected ? (
            <span>
              Detected in{" "}
              <Link href={`/images/${image.slug}/versions/${encodeURIComponent(detected.version)}`}>
                {detected.version}
              </Link>
              :{" "}
              <span className="text-fg">
                {detected.facts.osFound
                  ? [detected.facts.productName ?? detected.facts.distro, detected.facts.arch]
                      .filter(Boolean)
                      .join(", ") || "an unidentified OS"
                  : "no operating system"}
              </span>
            </span>
          ) : null}
        </p>
        {detected?.mismatches.length ? (
          <div className="mt-3">
            <MismatchWarning mismatches={detected.mismatches} context={`as found in version ${detected.version}`} />
          </div>
        ) : null}
        {newerBase && image.can.view ? (
          <p
            role="status"
            className="mt-3 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
          >
            The newest version, {newerBase.latestVersion}, is out of date: its base {newerBase.imageSlug}{" "}
            {newerBase.parentVersion} has a newer approved version,{" "}
            <Link href={`/images/${newerBase.imageSlug}/versions/${encodeURIComponent(newerBase.version)}`}>
              {newerBase.version}
            </Link>
            .{" "}
            <Link href={`/images/${image.slug}/versions/${encodeURIComponent(newerBase.latestVersion)}`}>
              Rebuild it from its version page
            </Link>
            .
          </p>
        ) : null}
      </div>

      <div className="grid gap-8 lg:grid-cols-[minmax(0,1fr)_22rem]">
        <div className="min-w-0 space-y-8">
          <Section id="description-title" title="Description">
            {image.description.trim() ? (
              <Markdown source={image.description} />
            ) : (
              <p className="text-muted">No description yet.</p>
            )}
            {image.can.contribute ? (
              <details className="group rounded-lg border border-line bg-surface">
                <summary className="cursor-pointer select-none px-4 py-2 font-medium">Edit details</summary>
                <div className="border-t border-line p-4">
                  <DetailsForm
                    details={{
                      imageId: image.id,
                      name: image.name,
                      description: image.description,
                      os: image.os,
                      osVersion: image.osVersion,
                      arch: image.arch,
                    }}
                  />
                </div>
              </details>
            ) : null}
          </Section>

          <Section id="tags-title" title="Tags">
            {image.can.contribute ? (
              <TagEditor imageId={image.id} imageName={image.name} tags={image.tags} />
            ) : image.tags.length ? (
              <ul aria-label={`Tags of ${image.name}`} className="flex flex-wrap gap-1.5">
                {image.tags.map((tag) => (
                  <li key={tag}>
                    <TagChip>{tag}</TagChip>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="text-muted">No tags.</p>
            )}
          </Section>

          <Section id="properties-title" title="Properties">
            <p className="-mt-1 text-muted">
              Key/value metadata that tools read when they deploy this image, such as the disk bus.
            </p>
            {image.can.contribute ? (
              <PropertiesEditor imageId={image.id} properties={properties} />
            ) : (
              <PropertiesTable properties={properties} />
            )}
          </Section>
        </div>

        <aside aria-label="About this image" className="space-y-6">
          <section aria-labelledby="facts-title" className="rounded-lg border border-line bg-surface p-4">
            <h2 id="facts-title" className="mb-1 text-base font-semibold">
              Facts
            </h2>
            <ImageFacts image={image} latestSha256={newest?.sha256 ?? null} />
          </section>
          {image.can.manage ? (
            <section aria-labelledby="access-title" className="rounded-lg border border-line bg-surface p-4">
              <h2 id="access-title" className="mb-2 text-base font-semibold">
                Access
              </h2>
              <VisibilityForm imageId={image.id} visibility={image.visibility} />
              <h3 className="mb-2 mt-4 text-sm font-semibold">Sharing</h3>
              <SharePanel imageId={image.id} imageName={image.name} shares={shares} />
            </section>
          ) : null}
          {image.can.manage ? <BootSettingsSection viewer={viewer} imageId={image.id} /> : null}
          {image.can.manage ? <RetentionSection viewer={viewer} image={image} /> : null}
          <PlatformsSection viewer={viewer} image={image} channelNames={channelRows.map((channel) => channel.name)} />
          {image.can.contribute ? null : (
            <p className="text-xs text-muted">You can read this image. Members of {image.projectName} can edit it.</p>
          )}
        </aside>
      </div>

      <Section
        id="versions-title"
        title="Versions"
        aside={
          <span className="flex items-center gap-3 text-muted">
            {versions.length} shown, newest first
            {image.can.contribute ? (
              <Link
                href={`/import?image=${encodeURIComponent(image.slug)}`}
                className={buttonClasses({ size: "sm", variant: "primary" })}
              >
                Upload a new version
              </Link>
            ) : null}
          </span>
        }
      >
        <ImageVersionsTable imageName={image.name} imageSlug={image.slug} versions={versions} />
      </Section>
      <Section id="channels-title" title="Channels">
        <div className="space-y-3">
          <ul aria-label="Channels" className="flex flex-wrap gap-2">
            {channelRows.map((channel) => (
              <li key={channel.name} className="rounded-md border border-line bg-surface px-2.5 py-1 text-sm">
                <span className="font-medium">{channel.name}</span> →{" "}
                {channel.version ? (
                  <Link
                    className="underline"
                    href={`/images/${image.slug}/versions/${encodeURIComponent(channel.version)}`}
                  >
                    {channel.version}
                  </Link>
                ) : (
                  <span className="text-muted">nothing approved yet</span>
                )}
                {channel.managed ? <span className="text-xs text-muted"> (managed: newest approved)</span> : null}
              </li>
            ))}
          </ul>
          {image.can.manage ? (
            <ChannelForm
              imageId={image.id}
              channelNames={channelRows.filter((channel) => !channel.managed).map((channel) => channel.name)}
              versions={versions
                .filter((version) => isCurrentRelease(version.releaseStatus))
                .map((version) => ({ id: version.id, version: version.version }))}
            />
          ) : null}
          {channelHistory.length ? (
            <details className="text-sm">
              <summary className="cursor-pointer text-muted">Channel history</summary>
              <ol className="mt-2 space-y-1">
                {channelHistory.map((move, index) => (
                  <li key={index}>
                    {move.name}: {move.fromVersion ?? "new"} → {move.toVersion ?? "?"} by {move.actor ?? "someone"},{" "}
                    {formatDateTime(move.at)}
                  </li>
                ))}
              </ol>
            </details>
          ) : null}
        </div>
      </Section>
    </div>
  );
}
