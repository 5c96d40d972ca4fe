// /api/v1 operations on recipes, builds, reviews and release changes, described with the schemas
// the actions validate with (the recipe document, start/cancel/retry, the release change).
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { buildStatuses, releaseStatuses } from "@/db/enums";
import { releaseActions } from "@/lib/governance/release";
import { recipeDocumentSchema } from "@/lib/recipes/yaml";
import { changeReleaseSchema } from "@/lib/validations/releases";
import { startBuildSchema } from "@/lib/validations/recipes";
import { errorResponses, jsonContent, jsonResponse, pageOf, pageQuerySchema } from "./common";
import { versionSchema } from "./images";

/** The most a recipe body may be: recipes are text, so a larger one is a mistake (or worse). */
export const RECIPE_BODY_LIMIT = 256 * 1024;

const timestamp = z.iso.datetime();

export const recipeSchema = z
  .object({
    id: z.string().uuid(),
    name: z.string(),
    project: z.object({ id: z.string().uuid(), slug: z.string() }),
    revision: z.number().int().meta({ description: "The latest revision's number." }),
    base: recipeDocumentSchema.shape.base,
    output: recipeDocumentSchema.shape.output,
    document: recipeDocumentSchema.meta({ description: "The latest revision's whole document." }),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: "Recipe" });

export const buildSchema = z
  .object({
    id: z.string().uuid(),
    number: z.number().int(),
    recipeId: z.string().uuid(),
    revision: z.number().int(),
    status: z.enum(buildStatuses),
    failureReason: z.string().nullable(),
    cancelRequested: z.boolean(),
    steps: z.array(z.object({ label: z.string(), status: z.enum(["pending", "running", "done", "failed"]) })),
    output: z.object({
      imageSlug: z.string(),
      version: z.string().nullable().meta({ description: "Known once the build produced it." }),
      versionId: z.string().uuid().nullable(),
    }),
    createdAt: timestamp,
    startedAt: timestamp.nullable(),
    finishedAt: timestamp.nullable(),
  })
  .meta({ id: "Build" });

const startedBuildSchema = buildSchema
  .extend({
    reused: z.boolean().meta({
      description: "True when an earlier build of the same inputs still has its output and nothing was queued.",
    }),
  })
  .meta({ id: "StartedBuild" });

export const releaseChangeSchema = z
  .object({
    id: z.string().meta({ description: "The audit event's id." }),
    versionId: z.string().uuid(),
    action: z.enum(releaseActions),
    fromStatus: z.enum(releaseStatuses).nullable(),
    toStatus: z.enum(releaseStatuses).nullable(),
    reason: z.string().nullable(),
    actor: z.object({ id: z.string().uuid(), email: z.string() }).nullable(),
    at: timestamp,
  })
  .meta({ id: "ReleaseChange" });

/** The JSON body of a recipe create or update: the project (create only) and the document. */
export const recipeJsonBodySchema = z.object({
  project: z.string().optional().meta({ description: "The project's slug; required when creating." }),
  document: recipeDocumentSchema,
});

export const startBuildBodySchema = startBuildSchema.omit({ recipeId: true });
export const releaseBodySchema = changeReleaseSchema.omit({ versionId: true });

const recipeBodies = {
  required: true,
  content: {
    "application/yaml": {
      schema: z
        .string()
        .meta({ description: `The recipe as the UI exports it (at most ${RECIPE_BODY_LIMIT / 1024} KiB).` }),
    },
    "text/yaml": { schema: z.string() },
    ...jsonContent(recipeJsonBodySchema),
  },
};

const recipeOrYaml = (description: string) => ({
  description,
  content: {
    ...jsonContent(recipeSchema),
    "application/yaml": { schema: z.string().meta({ description: "The latest revision as YAML." }) },
  },
});

const idPath = (what: string) =>
  z.object({
    id: z
      .string()
      .uuid()
      .meta({ description: `The ${what}'s id.` }),
  });
const formatQuery = z.object({
  format: z
    .enum(["json", "yaml"])
    .optional()
    .meta({ description: "`yaml` for the document as YAML (or send Accept: application/yaml)." }),
});

export const buildPaths: ZodOpenApiPathsObject = {
  "/api/v1/recipes": {
    get: {
      operationId: "listRecipes",
      tags: ["Recipes"],
      summary: "Recipes the caller sees, newest first",
      requestParams: {
        query: pageQuerySchema.extend({
          project: z.string().optional().meta({ description: "Only this project's recipes (its slug)." }),
        }),
      },
      responses: {
        "200": jsonResponse("A page of recipes.", pageOf(recipeSchema)),
        ...errorResponses("invalid", "forbidden"),
      },
    },
    post: {
      operationId: "createRecipe",
      tags: ["Recipes"],
      summary: "Create a recipe from YAML or JSON",
      description:
        "Send the YAML the UI exports with `Content-Type: application/yaml` and `?project=SLUG`, or JSON `{project, document}`. A YAML problem is answered with its line and column.",
      requestParams: {
        query: z.object({
          project: z.string().optional().meta({ description: "The project's slug, for a YAML body." }),
        }),
      },
      requestBody: recipeBodies,
      responses: {
        "201": jsonResponse("The new recipe (revision 1).", recipeSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/recipes/{id}": {
    get: {
      operationId: "getRecipe",
      tags: ["Recipes"],
      summary: "A recipe, as JSON or as its YAML",
      requestParams: { path: idPath("recipe"), query: formatQuery },
      responses: { "200": recipeOrYaml("The recipe."), ...errorResponses("invalid", "forbidden", "not_found") },
    },
    put: {
      operationId: "updateRecipe",
      tags: ["Recipes"],
      summary: "Save a new revision of a recipe",
      description:
        "The same bodies as create (`project`, if given, must be the recipe's own: a recipe stays in its project). Sending the latest revision's document again makes no new revision, as in the editor.",
      requestParams: { path: idPath("recipe") },
      requestBody: recipeBodies,
      responses: {
        "200": jsonResponse("The recipe with its latest revision.", recipeSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "too_large", "unsupported_media_type"),
      },
    },
  },
  "/api/v1/recipes/{id}/builds": {
    post: {
      operationId: "startBuild",
      tags: ["Builds"],
      summary: "Build a recipe revision",
      description:
        "Queues a build of the latest revision (or `revision`). If an earlier build of the same inputs still has its output, that build is answered (200, `reused: true`) unless `force` is set.",
      requestParams: { path: idPath("recipe") },
      requestBody: { content: jsonContent(startBuildBodySchema) },
      responses: {
        "202": jsonResponse("The queued build.", startedBuildSchema),
        "200": jsonResponse("An earlier build with the same inputs; nothing was queued.", startedBuildSchema),
        ...errorResponses("invalid", "forbidden", "not_found", "conflict", "unsupported_media_type", "too_large"),
      },
    },
  },
  "/api/v1/builds/{id}": {
    get: {
      operationId: "getBuild",
      tags: ["Builds"],
      summary: "A build",
      requestParams: { path: idPath("build") },
      responses: { "200": jsonResponse("The build.", buildSchema), ...errorResponses("forbidden", "not_found") },
    },
  },
  "/api/v1/builds/{id}/log": {
    get: {
      operationId: "followBuildLog",
      tags: ["Builds"],
      summary: "Follow a build's log (server-sent events)",
      description: [
        "`event: log` data is an array of `{id, at, stream, line}` (the event's id is the last line's id);",
        "`event: state` data is the Build whenever it changes; `event: end` data is the final Build once",
        "the build has ended and every line was sent, and then the stream closes. Reconnect with",
        "`Last-Event-ID` (or `?after=`) to continue after the last line you got.",
      ].join(" "),
      requestParams: {
        path: idPath("build"),
        query: z.object({
          after: z.coerce.number().int().min(0).optional().meta({ description: "Send lines after this id." }),
        }),
        header: z.object({ "last-event-id": z.string().optional().meta({ description: "As after; wins over it." }) }),
      },
      responses: {
        "200": {
          description: "The event stream.",
          content: { "text/event-stream": { schema: z.string() } },
        },
        ...errorResponses("forbidden", "not_found"),
      },
    },
  },
  "/api/v1/builds/{id}/cancel": {
    post: {
      operationId: "cancelBuild",
      tags: ["Builds"],
      summary: "Cancel a build",
      description:
        "A queued build is cancelled at once; a running one gets `cancelRequested` and its worker stops it within seconds.",
      requestParams: { path: idPath("build") },
      responses: {
        "200": jsonResponse("The build after the request.", buildSchema),
        ...errorResponses("forbidden", "not_found", "conflict"),
      },
    },
  },
  "/api/v1/builds/{id}/retry": {
    post: {
      operationId: "retryBuild",
      tags: ["Builds"],
      summary: "Build the same revision again (a new build)",
      requestParams: { path: idPath("build") },
      responses: {
        "202": jsonResponse("The new build.", buildSchema),
        ...errorResponses("forbidden", "not_found", "conflict"),
      },
    },
  },
  "/api/v1/reviews": {
    get: {
      operationId: "listReviews",
      tags: ["Reviews"],
      summary: "Versions waiting for review that the caller may approve, oldest first",
      description:
        "Only admins approve (with an admin-scope token), never versions they produced (four-eyes rule): those are left out. For anyone else the list is empty.",
      requestParams: { query: pageQuerySchema },
      responses: {
        "200": jsonResponse("A page of versions.", pageOf(versionSchema)),
        ...errorResponses("invalid", "forbidden"),
      },
    },
  },
  "/api/v1/versions/{id}/release": {
    post: {
      operationId: "changeRelease",
      tags: ["Reviews"],
      summary: "Approve, reject, submit, deprecate, disable, revoke or reinstate a version",
      description:
        "The same rules as the version page: who may take which action, the four-eyes rule, legal transitions. `reason` is required to reject; `replacementVersionId` and a future `at` only for deprecate, disable and revoke (a future `at` schedules the change).",
      requestParams: { path: idPath("version") },
      requestBody: { required: true, content: jsonContent(releaseBodySchema) },
      responses: {
        "200": jsonResponse(
          "The version after the change (unchanged when it was scheduled).",
          versionSchema
            .extend({
              scheduledFor: timestamp.nullable().meta({ description: "When a change with a future `at` will apply." }),
            })
            .meta({ id: "ReleasedVersion" }),
        ),
        ...errorResponses("invalid", "forbidden", "not_found", "conflict", "unsupported_media_type", "too_large"),
      },
    },
  },
  "/api/v1/versions/{id}/release-changes": {
    get: {
      operationId: "listReleaseChanges",
      tags: ["Reviews"],
      summary: "A version's release changes, newest first",
      requestParams: { path: idPath("version"), query: pageQuerySchema },
      responses: {
        "200": jsonResponse("A page of release changes.", pageOf(releaseChangeSchema)),
        ...errorResponses("invalid", "forbidden", "not_found"),
      },
    },
  },
};
