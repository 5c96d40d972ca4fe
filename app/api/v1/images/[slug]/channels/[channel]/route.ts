import { apiRoute } from "@/lib/api/route";
import { channelLookup } from "@/lib/api/channel-lookup";

export const dynamic = "force-dynamic";

// "Which version is stable for debian-12-base, and where do I download it": for deploy scripts.
export const GET = apiRoute<{ slug: string; channel: string }>("read", async ({ viewer, params }) =>
  Response.json(await channelLookup({ viewer, imageSlug: params.slug, channel: params.channel })),
);
