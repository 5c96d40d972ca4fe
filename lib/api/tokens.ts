// API token secrets: `hgr_` and 43 characters of base64url (32 random bytes), so secret scanners can
// match them. Only the sha256 is stored (the secret has 256 bits of entropy, so a slow hash adds
// nothing); a presented secret is looked up by its hash and the hashes compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import {
  findApiTokenByHash,
  insertApiToken,
  recordApiTokenUse,
  revokeApiToken,
  type ApiTokenRow,
} from "@/db/queries/api-tokens";
import { recordAudit } from "@/db/queries/audit";
import { narrowViewerToToken, tokenScopeCovers } from "@/db/queries/access";
import { getViewerById, type Viewer } from "@/db/queries/users";
import type { ProjectRole, TokenScope } from "@/db/enums";
import { env } from "@/lib/env";
import { HangarError } from "@/lib/errors";
import { formatDateTime } from "@/lib/format";

export const TOKEN_PREFIX = "hgr_";
const SECRET_PATTERN = /^hgr_[A-Za-z0-9_-]{43}$/;
/** How many characters of the secret a list shows, so a person can tell their tokens apart. */
const SHOWN_CHARACTERS = TOKEN_PREFIX.length + 8;
/** Last use is written at most this often per token and address (db/queries/api-tokens.ts says the same in SQL). */
const USE_RECORD_INTERVAL_MS = 60_000;

export const hashTokenSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomBytes(32).toString("base64url");
}

/** Stores a new token and returns it with its secret, which exists nowhere else afterwards. */
export async function issueApiToken(token: {
  userId: string;
  projectId: string | null;
  projectRole: ProjectRole | null;
  name: string;
  scope: TokenScope;
  expiresAt: Date | null;
}): Promise<{ token: ApiTokenRow; secret: string }> {
  const secret = newTokenSecret();
  const row = await insertApiToken({
    ...token,
    prefix: secret.slice(0, SHOWN_CHARACTERS),
    secretHash: hashTokenSecret(secret),
  });
  return { token: row, secret };
}

/**
 * The caller a bearer secret stands for, with rights narrowed to the token; a refusal names what
 * is wrong with the token (each case its own message), and nothing about other tokens.
 */
export async function viewerFromTokenSecret(secret: string, { address }: { address: string }): Promise<Viewer> {
  if (!SECRET_PATTERN.test(secret))
    throw new HangarError(
      "unauthenticated",
      "That is not a Hangar token: tokens start with hgr_ followed by 43 characters. Copy it again, or create one under Settings → Access tokens.",
    );
  const secretHash = hashTokenSecret(secret);
  const token = await findApiTokenByHash({ secretHash });
  if (!token || !timingSafeEqual(Buffer.from(token.secretHash, "hex"), Buffer.from(secretHash, "hex")))
    throw new HangarError(
      "unauthenticated",
      "This token is not known to Hangar (it may have been deleted with its project). Create a new one under Settings → Access tokens.",
    );
  if (token.revokedAt)
    throw new HangarError(
      "unauthenticated",
      `This token (${token.prefix}…, “${token.name}”) was revoked on ${formatDateTime(token.revokedAt)}. Create a new one.`,
    );
  if (token.expiresAt && token.expiresAt.getTime() <= Date.now())
    throw new HangarError(
      "unauthenticated",
      `This token (${token.prefix}…, “${token.name}”) expired on ${formatDateTime(token.expiresAt)}. Create a new one.`,
    );
  const owner = token.ownerDisabled ? null : await getViewerById({ id: token.userId });
  if (!owner)
    throw new HangarError(
      "unauthenticated",
      "The account this token belongs to is disabled, so the token no longer works. Ask an admin.",
    );
  if (token.projectId && !owner.memberships.some((membership) => membership.projectId === token.projectId))
    throw new HangarError(
      "unauthenticated",
      `This project token's owner (${token.userEmail}) is no longer a member of ${token.projectSlug}, so the token no longer works. Ask a project owner for a new one.`,
    );
  // The row just read says when it was last recorded: skip the write unless it is stale or the address changed.
  if (
    !token.lastUsedAt ||
    token.lastUsedAt.getTime() < Date.now() - USE_RECORD_INTERVAL_MS ||
    token.lastUsedAddress !== address
  )
    await recordApiTokenUse({ id: token.id, address });
  return narrowViewerToToken(owner, token);
}

/**
 * The caller an `Authorization` header names (`Bearer hgr_…`), refused when the header is malformed,
 * the token is not usable, or its scope does not cover `need`.
 */
export async function viewerFromAuthorization(
  authorization: string,
  { address, need, what }: { address: string; need: TokenScope; what: string },
): Promise<Viewer> {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match)
    throw new HangarError(
      "unauthenticated",
      "The Authorization header must be “Bearer <token>”, with a token from Settings → Access tokens.",
    );
  const viewer = await viewerFromTokenSecret(match[1]!, { address });
  if (viewer.token && !tokenScopeCovers(viewer.token.scope, need))
    throw new HangarError(
      "forbidden",
      `This token has the ${viewer.token.scope} scope; ${what} needs ${need}. Use a token with the ${need} scope.`,
    );
  return viewer;
}

export type TokenStatus = "active" | "expired" | "revoked";

/** Whether a token still works, as every list shows it. */
export function tokenStatus(token: { revokedAt: Date | null; expiresAt: Date | null }, now = new Date()): TokenStatus {
  if (token.revokedAt) return "revoked";
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return "expired";
  return "active";
}

/** Days until expiry from `30`, `30d` or `never` (null); a message saying what is wrong otherwise. */
export function parseTokenExpiry(text: string | undefined): number | null {
  const value = (text ?? "").trim().toLowerCase();
  if (!value) return env().HANGAR_TOKEN_DEFAULT_DAYS;
  if (value === "never") {
    if (!env().HANGAR_TOKEN_ALLOW_NO_EXPIRY)
      throw new HangarError(
        "invalid",
        "Tokens that never expire are turned off here (HANGAR_TOKEN_ALLOW_NO_EXPIRY); give a number of days such as 90d.",
        { expires: ["Give a number of days, such as 90d."] },
      );
    return null;
  }
  const match = /^(\d{1,4})d?$/.exec(value);
  const days = match ? Number(match[1]) : NaN;
  if (!(days >= 1 && days <= 3650))
    throw new HangarError("invalid", `“${text}” is not an expiry; give a number of days from 1 to 3650, such as 30d.`, {
      expires: ["Give a number of days from 1 to 3650, such as 30d."],
    });
  return days;
}

/**
 * Makes a token for `owner`, the one rule for every way one is made (settings page, project page,
 * operator command): a project token is for a project the owner is in, read gives it the viewer role
 * there and write the owner's own role; only an admin's personal token may have the admin scope.
 */
export async function createTokenFor({
  actorId,
  owner,
  name,
  scope,
  projectSlug,
  expiresInDays,
}: {
  actorId: string | null;
  owner: Viewer;
  name: string;
  scope: TokenScope;
  projectSlug?: string;
  expiresInDays: number | null;
}): Promise<{ token: ApiTokenRow; secret: string }> {
  let project: { id: string; role: ProjectRole } | null = null;
  if (projectSlug) {
    const membership = owner.memberships.find((entry) => entry.projectSlug === projectSlug);
    if (!membership)
      throw new HangarError(
        "not_found",
        `${owner.email} is not a member of a project ${projectSlug}; a project token can only be made for one's own project.`,
      );
    if (scope === "admin")
      throw new HangarError("invalid", "A project token can have the read or write scope, not admin.", {
        scope: ["Choose read or write for a project token."],
      });
    project = { id: membership.projectId, role: scope === "read" ? "viewer" : membership.role };
  } else if (scope === "admin" && owner.role !== "admin")
    throw new HangarError(
      "invalid",
      `${owner.email} is not an admin, so a token with the admin scope could do nothing more; choose read or write.`,
      { scope: ["Only admins can have admin-scoped tokens."] },
    );
  const expiresAt = expiresInDays === null ? null : new Date(Date.now() + expiresInDays * 24 * 3600 * 1000);
  const issued = await issueApiToken({
    userId: owner.id,
    projectId: project?.id ?? null,
    projectRole: project?.role ?? null,
    name,
    scope,
    expiresAt,
  });
  await recordAudit({
    actorId,
    action: "token.create",
    objectType: "api_token",
    objectId: issued.token.id,
    after: {
      owner: owner.email,
      name,
      scope,
      project: projectSlug ?? null,
      projectRole: project?.role ?? null,
      prefix: issued.token.prefix,
      expiresAt: expiresAt?.toISOString() ?? null,
    },
  });
  return issued;
}

/** Revokes a token at once and audits it; false when it was already revoked. */
export async function revokeTokenAs({
  actorId,
  token,
}: {
  actorId: string | null;
  token: ApiTokenRow;
}): Promise<boolean> {
  const revoked = await revokeApiToken({ id: token.id, revokedById: actorId });
  if (revoked)
    await recordAudit({
      actorId,
      action: "token.revoke",
      objectType: "api_token",
      objectId: token.id,
      before: { owner: token.userEmail, name: token.name, prefix: token.prefix, scope: token.scope },
    });
  return revoked;
}
