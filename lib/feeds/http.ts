// Everything under /feeds/<secret or public>/: what platforms fetch without credentials. The
// supervisor's HTTP server (scripts/start.ts) hands these paths here before Next.js sees them, so
// a doubled slash (OpenNebula 7 asks for `<ENDPOINT>/appliance` with ENDPOINT ending in "/") reaches
// us as sent, and files stream without the App Router's layers. An unknown, revoked or malformed
// feed, and anything a feed does not offer, is the same 404: nothing says whether it exists.
import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { env } from "@/lib/env";
import { errorResponse } from "@/lib/errors";
import { blobResponse } from "@/lib/http/download";
import { BLOB_SENDER_HEADER, sendNamedBlobs } from "@/lib/http/send-file";
import { openBlobRange } from "@/lib/storage";
import { cachedJson } from "./cache";
import { channelLookup } from "./channel-lookup";
import { applianceIndex, matchOpenNebulaPath } from "./opennebula";
import { queuePlatformArtifacts } from "./artifacts";
import {
  channelProductsSummaries,
  contentIdOf,
  matchSimplestreamsPath,
  productsFile,
  sortChannels,
  streamsIndex,
} from "./simplestreams";
import { getPlatformArtifactContent, listPlatformArtifacts } from "@/db/queries/platform-artifacts";
import { logger } from "@/lib/observability/log";
import { feedFileName, feedVersions, openFeed } from "./service";
import type { FeedContext, FeedVersion } from "./types";
import type { FeedRow } from "@/db/queries/feeds";
import type { Viewer } from "@/db/queries/users";

export const FEEDS_ROUTE = "/feeds/";
export const isFeedPath = (pathname: string) => pathname.startsWith(FEEDS_ROUTE);

export interface OpenedFeed {
  feed: FeedRow;
  viewer: Viewer | null;
  context: FeedContext;
}

/** A feed format: answers the path after the feed's base when it is one of its own, else null. */
export type FeedHandler = (
  request: Request,
  opened: OpenedFeed,
  tail: string,
) => Promise<Response | null> | Response | null;

const notFound = () =>
  errorResponse("not_found", "There is nothing here. Check the feed URL; a revoked feed stops answering at once.");

// Indexes change whenever a release or a channel does; platforms must not keep stale copies.
const INDEX_CACHE = "no-cache";

const json = (body: unknown) => jsonText(JSON.stringify(body));

const jsonText = (text: string | Buffer) =>
  new Response(
    typeof text === "string" ? text : new Uint8Array(text.buffer as ArrayBuffer, text.byteOffset, text.byteLength),
    {
      headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": INDEX_CACHE },
    },
  );

/** `files/<versionId>/<slug>-<version>.<ext>`: the version's bytes, while the feed offers it. */
const files: FeedHandler = async (request, opened, tail) => {
  const match = /^files\/([0-9a-f-]{36})\/([^/]+)$/.exec(tail);
  if (!match) return null;
  const [version] = await feedVersions(opened, { versionId: match[1] });
  if (!version || feedFileName(version) !== decodeURIComponent(match[2]!)) return notFound();
  return blobResponse({
    request,
    sha256: version.sha256,
    size: version.fileSize,
    filename: feedFileName(version),
    // The path is immutable per version, but a revoked version must stop being served at once.
    cacheControl: "public, max-age=0, must-revalidate",
    extraHeaders: { "Content-Type": contentTypeOf(version) },
  });
};

function versionPageUrl(version: FeedVersion): string {
  return `${env().origin}/images/${encodeURIComponent(version.imageSlug)}/versions/${encodeURIComponent(version.version)}`;
}

function contentTypeOf(version: FeedVersion): string {
  return version.format === "iso" ? "application/x-iso9660-image" : "application/octet-stream";
}

/** `channels/<image>/<channel>.json`: the deploy-script and Terraform lookup. */
const channels: FeedHandler = async (_request, opened, tail) => {
  const match = /^channels\/([a-z0-9][a-z0-9-]*)\/([a-z][a-z0-9-]*)\.json$/.exec(tail);
  if (!match) return null;
  const versions = await feedVersions(opened, { imageSlug: match[1] });
  const answer = channelLookup(versions, match[2]!);
  return answer ? json(answer) : notFound();
};

/**
 * `opennebula/appliance` (also `//appliance`, as OpenNebula asks) is the `one` MarketPlace driver's
 * index; `opennebula/appliance/<id>/download/0` is where it downloads from, redirected to the file;
 * `opennebula/appliance/<id>`, the app's link in Sunstone, redirects to the version's page in Hangar.
 */
const opennebula: FeedHandler = async (_request, opened, tail) => {
  if (!tail.startsWith("opennebula/")) return null;
  const route = matchOpenNebulaPath(tail.slice("opennebula/".length));
  if (!route) return notFound();
  if (route.kind === "index")
    return jsonText(
      await cachedJson(`${opened.feed.id}:opennebula`, async () =>
        applianceIndex(await feedVersions(opened), opened.context),
      ),
    );
  const [version] = await feedVersions(opened, { versionId: route.versionId });
  if (!version) return notFound();
  // A person's browser: Hangar's own origin, which asks them to sign in when the page needs it.
  if (route.kind === "page") return Response.redirect(versionPageUrl(version), 302);
  // On the host OpenNebula asked (its ENDPOINT), which may not be the origin Hangar's pages use.
  return new Response(null, { status: 302, headers: { Location: new URL(version.urls.download).pathname } });
};

/**
 * simplestreams (LXD, Incus, sstream-mirror-glance): `streams/v1/index.json`, one products file per
 * channel, and the versions' metadata tarballs. A launchable version whose tarball is not made yet
 * is listed by its disk and queued; its LXD/Incus items appear once the job has run.
 */
const simplestreams: FeedHandler = async (_request, opened, tail) => {
  if (!tail.startsWith("streams/")) return null;
  const route = matchSimplestreamsPath(tail);
  if (!route) return notFound();
  if (route.kind === "tarball") {
    const offered = (await feedVersions(opened, { versionId: route.versionId })).length > 0;
    const artifact = offered
      ? await getPlatformArtifactContent({ versionId: route.versionId, kind: route.artifact })
      : null;
    if (!artifact) return notFound();
    return new Response(new Uint8Array(artifact.content), {
      headers: {
        "Content-Type": "application/x-xz",
        "Content-Length": String(artifact.content.byteLength),
        ETag: `"${artifact.sha256}"`,
        "Cache-Control": "public, max-age=0, must-revalidate",
      },
    });
  }
  if (route.kind === "index")
    return jsonText(
      await cachedJson(`${opened.feed.id}:streams`, async () =>
        streamsIndex(channelProductsSummaries(await feedVersions(opened))),
      ),
    );
  // A channel the feed does not offer is kept as `null` like any answer, and is a 404.
  const text = await cachedJson(`${opened.feed.id}:${route.contentId}`, () => channelProducts(opened, route.contentId));
  return text.toString() === "null" ? notFound() : jsonText(text);
};

/** One channel's products file, queueing the LXD/Incus metadata its launchable versions still lack. */
async function channelProducts(opened: OpenedFeed, contentId: string) {
  const versions = await feedVersions(opened);
  const channel = sortChannels(versions.flatMap((version) => version.channels)).find(
    (name) => contentIdOf(name) === contentId,
  );
  if (!channel) return null;
  const listed = versions.filter((version) => version.channels.includes(channel));
  const artifacts = await listPlatformArtifacts({ versionIds: listed.map((version) => version.versionId) });
  const made = new Set(artifacts.map((artifact) => artifact.versionId));
  const missing = listed.filter((version) => version.format === "qcow2" && !made.has(version.versionId));
  if (missing.length)
    void queuePlatformArtifacts(missing.map((version) => version.versionId)).catch((error: unknown) =>
      logger().warn({ err: error }, "could not queue LXD/Incus metadata"),
    );
  return productsFile(listed, artifacts, opened.context, { contentId, channel });
}

const handlers: FeedHandler[] = [files, channels, opennebula, simplestreams];

export async function handleFeedRequest(request: Request, { address }: { address: string | null }): Promise<Response> {
  if (request.method !== "GET" && request.method !== "HEAD")
    return errorResponse("method_not_allowed", "Feeds are read with GET or HEAD.", { headers: { Allow: "GET, HEAD" } });
  const pathname = new URL(request.url).pathname;
  const rest = pathname.slice(FEEDS_ROUTE.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return notFound();
  const opened = await openFeed(rest.slice(0, slash), { address });
  if (!opened) return notFound();
  const tail = rest.slice(slash + 1);
  for (const handler of handlers) {
    const answer = await handler(request, opened, tail);
    if (answer) return answer;
  }
  return notFound();
}

/** The HTTP server's entry point: the same handler over Node's request and response. */
export async function handleFeedNode(
  req: IncomingMessage,
  res: ServerResponse,
  { address }: { address: string | null },
): Promise<void> {
  sendNamedBlobs(req, res, {
    openBlob: ({ sha256, start, end }) => openBlobRange(sha256, { start, end }),
    onError: (error) => logger().error({ err: error }, "feed download failed"),
  });
  const headers = new Headers();
  for (let index = 0; index < req.rawHeaders.length; index += 2)
    headers.append(req.rawHeaders[index]!, req.rawHeaders[index + 1]!);
  headers.set(BLOB_SENDER_HEADER, "1");
  const request = new Request(new URL(req.url ?? "/", "http://localhost"), { method: req.method, headers });
  const response = await handleFeedRequest(request, { address });
  // Set, not written: a named blob's header must still be readable when the answer ends.
  res.statusCode = response.status;
  for (const [name, value] of response.headers) res.setHeader(name, value);
  if (response.body && req.method !== "HEAD") await pipeline(Readable.fromWeb(response.body as WebReadableStream), res);
  else {
    await response.body?.cancel();
    res.end();
  }
}
