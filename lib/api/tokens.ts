// API token secrets: `hgr_` and 43 characters of base64url (32 random bytes), so secret scanners can
// match them. Only the sha256 is stored (the secret has 256 bits of entropy, so a slow hash adds
// nothing); a presented secret is looked up by its hash and the hashes compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { findApiTokenByHash, insertApiToken, recordApiTokenUse, type ApiTokenRow } from "@/db/queries/api-tokens";
import { narrowViewerToToken } from "@/db/queries/access";
import { getViewerById, type Viewer } from "@/db/queries/users";
import type { ProjectRole, TokenScope } from "@/db/enums";
import { HangarError } from "@/lib/errors";
import { formatDateTime } from "@/lib/format";

export const TOKEN_PREFIX = "hgr_";
const SECRET_PATTERN = /^hgr_[A-Za-z0-9_-]{43}$/;
/** How many characters of the secret a list shows, so a person can tell their tokens apart. */
const SHOWN_CHARACTERS = TOKEN_PREFIX.length + 8;

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
  await recordApiTokenUse({ id: token.id, address });
  return narrowViewerToToken(owner, token);
}
