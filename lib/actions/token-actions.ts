import { canMakeProjectToken, canRevokeApiToken, requireAdmin, requireInProject } from "@/db/queries/access";
import { getApiToken, listAllApiTokens, listApiTokens, type ApiTokenRow } from "@/db/queries/api-tokens";
import { listProjects } from "@/db/queries/projects";
import type { Viewer } from "@/db/queries/users";
import { createTokenFor, parseTokenExpiry, revokeTokenAs, tokenStatus, type TokenStatus } from "@/lib/api/tokens";
import { HangarError } from "@/lib/errors";
import {
  createApiTokenSchema,
  listAllApiTokensSchema,
  listApiTokensSchema,
  revokeApiTokenSchema,
} from "@/lib/validations/tokens";
import { defineAction } from "./safe-action";

/** A token as lists show it: never its secret (nor its hash), with whether it works and whether the caller may revoke it. */
export type ApiTokenListing = ApiTokenRow & { status: TokenStatus; canRevoke: boolean };

const DAY_MS = 24 * 3600 * 1000;

const listing = (viewer: Viewer, token: ApiTokenRow): ApiTokenListing => ({
  ...token,
  status: tokenStatus(token),
  canRevoke: canRevokeApiToken(viewer, token),
});

/** Days from today (UTC) to a YYYY-MM-DD date, so the token stops working on that day. */
function daysUntil(date: string): number {
  const target = Date.parse(`${date}T00:00:00Z`);
  const today = new Date();
  const start = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const days = Number.isNaN(target) ? NaN : Math.round((target - start) / DAY_MS);
  if (!(days >= 1))
    throw new HangarError("invalid", `${date} is not a date after today; choose a later expiry date.`, {
      expires: ["Choose a date after today."],
    });
  return days;
}

async function projectNamed(viewer: Viewer, slug: string) {
  const [project] = await listProjects({ viewer, slug });
  if (!project) throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  return project;
}

export const createApiTokenAction = defineAction(createApiTokenSchema, async (input, viewer) => {
  // A token's rights were narrowed to it; letting it mint tokens would be a way around that.
  if (viewer.token)
    throw new HangarError("forbidden", "Tokens are made in the browser (Settings → Access tokens), not with a token.");
  if (input.project) {
    const project = await projectNamed(viewer, input.project);
    requireInProject(viewer, project.id, "manage", "make tokens for this project");
    if (!canMakeProjectToken(viewer, project.id))
      throw new HangarError(
        "forbidden",
        "A project token acts as the person who makes it, so only an owner who is a member of the project can make one. Nothing was changed.",
      );
  }
  const expiry = input.expires && /^\d{4}-/.test(input.expires) ? String(daysUntil(input.expires)) : input.expires;
  const { token, secret } = await createTokenFor({
    actorId: viewer.id,
    owner: viewer,
    name: input.name,
    scope: input.scope,
    projectSlug: input.project ?? undefined,
    expiresInDays: parseTokenExpiry(expiry),
  });
  // The secret exists only in this answer: nothing stores or lists it again.
  return { token: listing(viewer, token), secret };
});

export const revokeApiTokenAction = defineAction(revokeApiTokenSchema, async (input, viewer) => {
  const token = await getApiToken({ id: input.id });
  const mayRevoke = token !== null && canRevokeApiToken(viewer, token);
  if (!token || !mayRevoke)
    throw new HangarError("not_found", "That token doesn't exist, or it isn't yours to revoke. Nothing was changed.");
  const revoked = await revokeTokenAs({ actorId: viewer.id, token });
  return { token: listing(viewer, (await getApiToken({ id: token.id }))!), revoked };
});

/** The caller's personal tokens, or every token of a project the caller is in. */
export const listApiTokensAction = defineAction(listApiTokensSchema, async (input, viewer) => {
  if (!input.project) return (await listApiTokens({ userId: viewer.id })).map((token) => listing(viewer, token));
  const project = await projectNamed(viewer, input.project);
  requireInProject(viewer, project.id, "view", "see this project's tokens");
  return (await listApiTokens({ projectId: project.id })).map((token) => listing(viewer, token));
});

export const listAllApiTokensAction = defineAction(listAllApiTokensSchema, async (_input, viewer) => {
  requireAdmin(viewer, "see every API token");
  return (await listAllApiTokens()).map((token) => listing(viewer, token));
});
