// Retention rules as actions: (caller, raw input) → result. Only owners of the image's project and
// admins read, change, preview or run a rule (requireRetentionImage asks db/queries/access.ts).
import { getRetentionRule, requireRetentionImage, saveRetentionRule } from "@/db/queries/retention";
import { previewRetention, runRetention } from "@/lib/retention/run";
import {
  getRetentionRuleSchema,
  previewRetentionSchema,
  runRetentionSchema,
  setRetentionRuleSchema,
} from "@/lib/validations/retention";
import { defineAction } from "./safe-action";

export const getRetentionRuleAction = defineAction(getRetentionRuleSchema, async (input, viewer) => {
  const image = await requireRetentionImage({ viewer, imageId: input.imageId, action: "see retention rules" });
  return getRetentionRule({ imageId: image.id });
});

export const setRetentionRuleAction = defineAction(setRetentionRuleSchema, async (input, viewer) => {
  const image = await requireRetentionImage({ viewer, imageId: input.imageId, action: "change retention rules" });
  const { imageId: _imageId, ...rule } = input;
  await saveRetentionRule({ actorId: viewer.id, imageId: image.id, rule });
  return getRetentionRule({ imageId: image.id });
});

export const previewRetentionAction = defineAction(previewRetentionSchema, async (input, viewer) => {
  const image = await requireRetentionImage({ viewer, imageId: input.imageId, action: "preview retention rules" });
  return previewRetention({ image, rule: input });
});

export const runRetentionAction = defineAction(runRetentionSchema, async (input, viewer) => {
  const image = await requireRetentionImage({ viewer, imageId: input.imageId, action: "run retention rules" });
  const report = await runRetention({ image, actor: { kind: "viewer", viewer } });
  return { changes: report.changes, summary: report.summary };
});
