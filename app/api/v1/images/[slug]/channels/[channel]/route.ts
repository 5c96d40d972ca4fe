import { apiRoute, readJsonBody } from "@/lib/api/route";
import { channelLookup } from "@/lib/api/channel-lookup";
import { moveChannelFromApi } from "@/lib/api/image-changes";
import { moveChannelBodySchema } from "@/lib/api/openapi/images";

export const dynamic = "force-dynamic";

// "Which version is stable for debian-12-base, and where do I download it": for deploy scripts.
export const GET = apiRoute<{ slug: string; channel: string }>("read", async ({ viewer, params }) =>
  Response.json(await channelLookup({ viewer, imageSlug: params.slug, channel: params.channel })),
);

export const PUT = apiRoute<{ slug: string; channel: string }>("write", async ({ request, viewer, params }) =>
  Response.json(
    await moveChannelFromApi(viewer, {
      slug: params.slug,
      channel: params.channel,
      body: await readJsonBody(request, moveChannelBodySchema),
    }),
  ),
);
