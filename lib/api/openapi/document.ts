// The OpenAPI 3.1 document of /api/v1, generated from the zod schemas the routes and actions use.
// Each area file describes its own operations; a test checks that every route file is described
// and that every described operation answers.
import { z } from "zod";
import { createDocument, type ZodOpenApiPathsObject } from "zod-openapi";
import { env } from "@/lib/env";
import { buildPaths } from "./builds";
import { imagePaths } from "./images";

export const API_VERSION = "1.0.0";

const metaPaths: ZodOpenApiPathsObject = {
  "/api/v1/openapi.json": {
    get: {
      operationId: "getOpenApiDocument",
      tags: ["Meta"],
      summary: "This document",
      security: [],
      responses: {
        "200": {
          description: "The OpenAPI 3.1 document of /api/v1.",
          content: { "application/json": { schema: z.object({ openapi: z.string() }).passthrough() } },
        },
      },
    },
  },
};

let cached: { origin: string; document: ReturnType<typeof createDocument> } | null = null;

export function apiDocument() {
  const origin = env().origin;
  if (cached?.origin === origin) return cached.document;
  const document = createDocument({
    openapi: "3.1.0",
    info: {
      title: "Hangar API",
      version: API_VERSION,
      description: [
        "Hangar's REST API: the same rules as the web UI, for machines.",
        "",
        "Authenticate with `Authorization: Bearer <token>` (create one under Settings → Access tokens, or",
        "`npm run admin -- token create`). A token has a scope (`read`, `write`, `admin`) and never exceeds",
        "its owner's rights, checked at every use. In a browser, a signed-in session works for GET requests.",
        "",
        'Errors always have the shape `{ "error": { "code", "message", "fields"? } }`. Lists page by',
        "cursor: pass the previous page's `nextCursor` as `cursor`. Requests are rate-limited per token",
        "(429 with Retry-After).",
      ].join("\n"),
    },
    servers: [{ url: origin }],
    security: [{ bearerToken: [] }],
    components: {
      securitySchemes: {
        bearerToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "hgr_…",
          description: "A Hangar access token.",
        },
      },
    },
    tags: [
      { name: "Images" },
      { name: "Versions" },
      { name: "Channels" },
      { name: "Projects" },
      { name: "Clones" },
      { name: "Recipes" },
      { name: "Builds" },
      { name: "Reviews" },
      { name: "Meta" },
    ],
    paths: { ...metaPaths, ...imagePaths, ...buildPaths },
  });
  cached = { origin, document };
  return document;
}
