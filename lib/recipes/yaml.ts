// Recipes travel as YAML. Import validates with the same schema as the editor and reports each
// problem with the line it is on, so a person can fix the file rather than guess.
import { isMap, isSeq, LineCounter, parseDocument, stringify, type Node } from "yaml";
import { z } from "zod";
import { diskFormats } from "@/db/enums";
import { growToProblem, stepsSchema } from "./steps";

export const recipeDocumentSchema = z
  .object({
    name: z.string().trim().min(1, "Give the recipe a name.").max(120, "A name is at most 120 characters."),
    description: z.string().max(20_000).default(""),
    base: z
      .object({
        image: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "The base image is given by its short name, like debian-12-base."),
        version: z.string().max(64).optional(),
        channel: z.string().max(64).optional(),
      })
      .strict()
      .refine(
        (base) => Boolean(base.version) !== Boolean(base.channel),
        "Pin the base to a version, or follow a channel (like latest), not both.",
      ),
    steps: stepsSchema,
    output: z
      .object({
        image: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "The output image is given by its short name."),
        format: z.enum(
          diskFormats.filter((format) => ["qcow2", "raw", "vmdk", "vhdx"].includes(format)) as [
            "qcow2",
            "raw",
            "vmdk",
            "vhdx",
          ],
          {
            message: "The output format is qcow2, raw, vmdk or vhdx.",
          },
        ),
        growTo: z
          .string()
          .regex(/^\d+[MGT]$/, "Grow the disk to a size like 20G.")
          .optional(),
      })
      .strict(),
  })
  .strict();

export type RecipeDocument = z.infer<typeof recipeDocumentSchema>;

/** The document schema with the admins' bound on "grow the disk to" (see growToProblem). */
export function boundedRecipeDocumentSchema(maxGrowBytes: number) {
  return recipeDocumentSchema.superRefine((document, context) => {
    const problem = document.output.growTo ? growToProblem(document.output.growTo, maxGrowBytes) : null;
    if (problem) context.addIssue({ code: "custom", path: ["output", "growTo"], message: problem });
  });
}

export interface YamlProblem {
  line: number | null;
  /** Where on the line, for syntax errors (1-based); null when only the line is known. */
  column?: number | null;
  path: string;
  message: string;
}

export function recipeToYaml(recipe: RecipeDocument): string {
  return stringify(recipe, { lineWidth: 0 });
}

function nodeAt(root: Node | null | undefined, path: (string | number)[]): Node | null {
  let node: Node | null | undefined = root;
  for (const key of path) {
    if (isMap(node)) node = node.get(key, true) as Node | undefined;
    else if (isSeq(node) && typeof key === "number") node = node.get(key, true) as Node | undefined;
    else return node ?? null;
    if (!node) return null;
  }
  return node ?? null;
}

export function recipeFromYaml(
  text: string,
): { ok: true; recipe: RecipeDocument } | { ok: false; problems: YamlProblem[] } {
  const lines = new LineCounter();
  const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (document.errors.length) {
    return {
      ok: false,
      problems: document.errors.map((error) => ({
        line: lines.linePos(error.pos[0]).line,
        column: lines.linePos(error.pos[0]).col,
        path: "",
        message: `This is not valid YAML: ${error.message.split("\n")[0]}`,
      })),
    };
  }
  const parsed = recipeDocumentSchema.safeParse(document.toJS());
  if (parsed.success) return { ok: true, recipe: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => {
      const path = issue.path.filter((key): key is string | number => typeof key !== "symbol");
      // Point at the key itself when it is unknown, else at the value that is wrong.
      const unrecognized = issue.code === "unrecognized_keys" ? [...path, ...(issue.keys ?? []).slice(0, 1)] : path;
      let node = nodeAt(document.contents as Node | null, unrecognized);
      for (let depth = unrecognized.length; !node?.range && depth > 0; depth -= 1)
        node = nodeAt(document.contents as Node | null, unrecognized.slice(0, depth - 1));
      return {
        line: node?.range ? lines.linePos(node.range[0]).line : null,
        path: path.join("."),
        message: issue.message,
      };
    }),
  };
}
