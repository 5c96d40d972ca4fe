// What `pull`, `approve` and `reject` are told to act on: IMAGE (its latest channel),
// IMAGE@CHANNEL, IMAGE:VERSION, or a version id, and how each is looked up on the server.
import { api, segment, type Connection } from "./client";
import { CliError } from "./errors";

export type VersionRef =
  | { kind: "id"; id: string }
  | { kind: "channel"; image: string; channel: string }
  | { kind: "label"; image: string; version: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseRef(ref: string): VersionRef {
  const text = ref.trim();
  if (UUID.test(text)) return { kind: "id", id: text.toLowerCase() };
  const at = text.indexOf("@");
  const colon = text.indexOf(":");
  const bad = () =>
    new CliError(
      "usage",
      `“${ref}” is not a version reference; use IMAGE, IMAGE@CHANNEL, IMAGE:VERSION or a version id (such as debian-12-base@stable).`,
    );
  if (at >= 0 && colon >= 0) throw bad();
  if (at >= 0) {
    const image = text.slice(0, at);
    const channel = text.slice(at + 1);
    if (!image || !channel || channel.includes("@")) throw bad();
    return { kind: "channel", image, channel };
  }
  if (colon >= 0) {
    const image = text.slice(0, colon);
    const version = text.slice(colon + 1);
    if (!image || !version || version.includes(":")) throw bad();
    return { kind: "label", image, version };
  }
  if (!text || /\s/.test(text)) throw bad();
  return { kind: "channel", image: text, channel: "latest" };
}

export function describeRef(ref: VersionRef): string {
  if (ref.kind === "id") return ref.id;
  return ref.kind === "channel" ? `${ref.image}@${ref.channel}` : `${ref.image}:${ref.version}`;
}

/** The part of a version the CLI needs, whichever route it came from. */
export interface ResolvedVersion {
  id: string;
  imageSlug: string;
  version: string;
  format: string | null;
  fileSize: number | null;
  sha256: string | null;
  downloadUrl: string;
  dataStatus?: string;
  releaseStatus?: string;
  conversions?: { format: string; status?: string; sha256?: string | null }[];
}

type ApiVersion = Omit<ResolvedVersion, "imageSlug"> & { image: { slug: string } };

interface ChannelAnswer {
  image: { slug: string };
  version: Omit<ApiVersion, "image">;
}

const fromVersion = (version: ApiVersion): ResolvedVersion => ({
  id: version.id,
  imageSlug: version.image.slug,
  version: version.version,
  format: version.format,
  fileSize: version.fileSize,
  sha256: version.sha256,
  downloadUrl: version.downloadUrl,
  dataStatus: version.dataStatus,
  releaseStatus: version.releaseStatus,
  conversions: version.conversions,
});

export async function resolveVersion(connection: Connection, ref: VersionRef): Promise<ResolvedVersion> {
  if (ref.kind === "id") return fromVersion(await api<ApiVersion>(connection, `/api/v1/versions/${segment(ref.id)}`));
  if (ref.kind === "label")
    return fromVersion(
      await api<ApiVersion>(connection, `/api/v1/images/${segment(ref.image)}/versions/${segment(ref.version)}`),
    );
  const answer = await api<ChannelAnswer>(
    connection,
    `/api/v1/images/${segment(ref.image)}/channels/${segment(ref.channel)}`,
  );
  return fromVersion({ ...answer.version, image: { slug: answer.image.slug } });
}
