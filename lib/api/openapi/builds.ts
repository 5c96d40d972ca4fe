// /api/v1 operations on recipes, builds, reviews and release changes.
import type { ZodOpenApiPathsObject } from "zod-openapi";

export const buildPaths: ZodOpenApiPathsObject = {};
