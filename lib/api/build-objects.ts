// The recipes/builds/reviews area of /api/v1: the objects it answers with (shaped by the schemas in
// openapi/builds.ts) and reading a recipe body, which comes as the YAML the UI exports or as JSON.
import type { z } from "zod";
import { getBuild, type BuildDetail, type QueueResult } from "@/db/queries/builds";
import { listRecipeRecords, type RecipeRecord } from "@/db/queries/recipes";
import type { Viewer } from "@/db/queries/users";
import type { ActionResult } from "@/lib/actions/safe-action";
import type { ReleaseChangeRecord } from "@/db/queries/releases";
import { HangarError } from "@/lib/errors";
import { recipeFromYaml } from "@/lib/recipes/yaml";
import {
  RECIPE_BODY_LIMIT,
  recipeJsonBodySchema,
  type buildSchema,
  type recipeSchema,
  type releaseChangeSchema,
} from "./openapi/builds";
import { readJsonBody, readLimited } from "./route";

type Json<Schema extends z.ZodType> = z.input<Schema>;

export function recipeObject(recipe: RecipeRecord): Json<typeof recipeSchema> {
  return {
    id: recipe.id,
    name: recipe.name,
    project: { id: recipe.projectId, slug: recipe.projectSlug },
    revision: recipe.latestRevision,
    base: recipe.document.base,
    output: recipe.document.output,
    document: recipe.document,
    createdAt: recipe.createdAt.toISOString(),
    updatedAt: recipe.updatedAt.toISOString(),
  };
}

export function buildObject(build: BuildDetail): Json<typeof buildSchema> {
  return {
    id: build.id,
    number: build.number,
    recipeId: build.recipeId,
    revision: build.revision,
    status: build.status,
    failureReason: build.failureReason,
    cancelRequested: build.cancelRequested,
    steps: build.steps,
    output: {
      imageSlug: build.outputImage ?? build.targetImage,
      version: build.outputVersion,
      versionId: build.outputVersionId,
    },
    createdAt: build.queuedAt.toISOString(),
    startedAt: build.startedAt?.toISOString() ?? null,
    finishedAt: build.finishedAt?.toISOString() ?? null,
  };
}

export function releaseChangeObject(change: ReleaseChangeRecord): Json<typeof releaseChangeSchema> {
  return {
    ...change,
    id: String(change.id),
    action: change.action as Json<typeof releaseChangeSchema>["action"],
    fromStatus: change.fromStatus as Json<typeof releaseChangeSchema>["fromStatus"],
    toStatus: change.toStatus as Json<typeof releaseChangeSchema>["toStatus"],
    at: change.at.toISOString(),
  };
}

const YAML_TYPES = /^(application\/(x-)?yaml|text\/(x-)?yaml)\b/i;

/**
 * A recipe body: YAML (the project from ?project=) or JSON {project, document}. The document is
 * returned unchecked beyond YAML syntax and shape: the save action validates it like the editor does.
 */
export async function readRecipeBody(request: Request, url: URL): Promise<{ project?: string; document: unknown }> {
  const type = request.headers.get("content-type") ?? "";
  if (!YAML_TYPES.test(type)) {
    const body = await readJsonBody(request, recipeJsonBodySchema, { maxBytes: RECIPE_BODY_LIMIT });
    if (body.project !== undefined && typeof body.project !== "string")
      throw new HangarError("invalid", "The project is given by its slug, as a string.", {
        project: ["Give the project's slug."],
      });
    return { project: body.project as string | undefined, document: body.document };
  }
  const text = await readLimited(request, RECIPE_BODY_LIMIT);
  const parsed = recipeFromYaml(text);
  if (!parsed.ok) {
    const at = (problem: (typeof parsed.problems)[number]) =>
      problem.line === null ? "" : `Line ${problem.line}${problem.column ? `, column ${problem.column}` : ""}: `;
    const fields: Record<string, string[]> = {};
    for (const problem of parsed.problems)
      (fields[problem.path ? `document.${problem.path}` : "document"] ??= []).push(`${at(problem)}${problem.message}`);
    const [first] = parsed.problems;
    const more = parsed.problems.length > 1 ? ` (and ${parsed.problems.length - 1} more; see fields)` : "";
    throw new HangarError("invalid", `The recipe YAML was refused. ${at(first!)}${first!.message}${more}`, fields);
  }
  return { project: url.searchParams.get("project") ?? undefined, document: parsed.recipe };
}

/** Whether the caller asked for YAML (Accept: application/yaml, or ?format=yaml). */
export function wantsYaml(request: Request, url: URL): boolean {
  const format = url.searchParams.get("format");
  if (format !== null && format !== "json" && format !== "yaml")
    throw new HangarError("invalid", `A recipe comes as json or yaml, not ${format}.`, {
      format: ["Use json or yaml."],
    });
  if (format) return format === "yaml";
  return /\b(application|text)\/(x-)?yaml\b/i.test(request.headers.get("accept") ?? "");
}

export const buildNotFound = () =>
  new HangarError("not_found", "That build doesn't exist or is in a project you are not a member of.");

/** The recipe a save produced, or the save's refusal (its `projectId` field is the API's `project`). */
export async function savedRecipeResponse(
  viewer: Viewer,
  result: ActionResult<{ recipeId: string }>,
  status: number,
): Promise<Response> {
  if (!result.ok) {
    const { projectId, ...fields } = result.fieldErrors ?? {};
    throw new HangarError(
      result.code,
      result.message,
      projectId ? { ...fields, project: projectId } : result.fieldErrors,
    );
  }
  const [recipe] = await listRecipeRecords({ viewer, id: result.data.recipeId });
  if (!recipe) throw new HangarError("not_found", "That recipe doesn't exist any more.");
  return Response.json(recipeObject(recipe), { status });
}

/** A build that was queued (202), or the earlier build whose output answers the request (200). */
export async function startedBuildResponse(viewer: Viewer, result: QueueResult): Promise<Response> {
  const build = await getBuild({ viewer, id: result.queued ? result.buildId : result.reused.buildId });
  if (!build) throw buildNotFound();
  return Response.json({ ...buildObject(build), reused: !result.queued }, { status: result.queued ? 202 : 200 });
}

/** A JSON body that may also be left out entirely (no Content-Type, nothing sent): then `{}`. */
export async function readOptionalJsonBody(request: Request, schema: z.ZodType): Promise<Record<string, unknown>> {
  if (request.headers.get("content-type") === null) {
    if ((await readLimited(request, 1024)).trim() === "") return {};
    throw new HangarError("unsupported_media_type", "Send the body as JSON with “Content-Type: application/json”.");
  }
  return readJsonBody(request, schema);
}
