// API tokens: stored by the sha256 of their secret; a lookup by that hash is the whole check, and
// the owner's account and memberships are read fresh on every use.
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import { db } from "../client";
import { apiTokens, projects, users, type ProjectRole, type TokenScope } from "../schema";

export interface ApiTokenRow {
  id: string;
  userId: string;
  userEmail: string;
  projectId: string | null;
  projectSlug: string | null;
  projectRole: ProjectRole | null;
  name: string;
  prefix: string;
  scope: TokenScope;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedAddress: string | null;
  revokedAt: Date | null;
}

const rowColumns = {
  id: apiTokens.id,
  userId: apiTokens.userId,
  userEmail: users.email,
  projectId: apiTokens.projectId,
  projectSlug: projects.slug,
  projectRole: apiTokens.projectRole,
  name: apiTokens.name,
  prefix: apiTokens.prefix,
  scope: apiTokens.scope,
  createdAt: apiTokens.createdAt,
  expiresAt: apiTokens.expiresAt,
  lastUsedAt: apiTokens.lastUsedAt,
  lastUsedAddress: apiTokens.lastUsedAddress,
  revokedAt: apiTokens.revokedAt,
};

export async function insertApiToken(token: {
  userId: string;
  projectId: string | null;
  projectRole: ProjectRole | null;
  name: string;
  prefix: string;
  secretHash: string;
  scope: TokenScope;
  expiresAt: Date | null;
}): Promise<ApiTokenRow> {
  const [inserted] = await db().insert(apiTokens).values(token).returning({ id: apiTokens.id });
  return (await getApiToken({ id: inserted!.id }))!;
}

export async function getApiToken({ id }: { id: string }): Promise<ApiTokenRow | null> {
  const [row] = await db()
    .select(rowColumns)
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.id, apiTokens.projectId))
    .where(eq(apiTokens.id, id))
    .limit(1);
  return row ?? null;
}

/** What a use of a token needs: the token and whether its owner may still sign in at all. */
export async function findApiTokenByHash({
  secretHash,
}: {
  secretHash: string;
}): Promise<(ApiTokenRow & { secretHash: string; ownerDisabled: boolean }) | null> {
  const [row] = await db()
    .select({
      ...rowColumns,
      secretHash: apiTokens.secretHash,
      ownerDisabled: sql<boolean>`${users.disabledAt} is not null`,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.id, apiTokens.projectId))
    .where(eq(apiTokens.secretHash, secretHash))
    .limit(1);
  return row ?? null;
}

/** Personal tokens of one user, or every token of one project; newest first. */
export async function listApiTokens(
  filter: { userId: string; projectId?: undefined } | { projectId: string; userId?: undefined },
): Promise<ApiTokenRow[]> {
  return db()
    .select(rowColumns)
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.id, apiTokens.projectId))
    .where(
      filter.projectId
        ? eq(apiTokens.projectId, filter.projectId)
        : and(eq(apiTokens.userId, filter.userId!), isNull(apiTokens.projectId)),
    )
    .orderBy(desc(apiTokens.createdAt))
    .limit(500);
}

export async function listAllApiTokens({ limit = 1000 }: { limit?: number } = {}): Promise<ApiTokenRow[]> {
  return db()
    .select(rowColumns)
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.id, apiTokens.projectId))
    .orderBy(desc(apiTokens.createdAt))
    .limit(limit);
}

/** Revokes a token that is not revoked yet; answers whether this call revoked it. */
export async function revokeApiToken({
  id,
  revokedById,
}: {
  id: string;
  revokedById: string | null;
}): Promise<boolean> {
  const revoked = await db()
    .update(apiTokens)
    .set({ revokedAt: new Date(), revokedById })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return revoked.length > 0;
}

/** Last use, written at most once a minute per token (or when the address changes) to keep reads cheap. */
export async function recordApiTokenUse({ id, address }: { id: string; address: string }): Promise<void> {
  await db()
    .update(apiTokens)
    .set({ lastUsedAt: new Date(), lastUsedAddress: address })
    .where(
      and(
        eq(apiTokens.id, id),
        sql`(${apiTokens.lastUsedAt} is null or ${apiTokens.lastUsedAt} < now() - interval '1 minute' or ${apiTokens.lastUsedAddress} is distinct from ${address})`,
      ),
    );
}

/** Tokens whose id is `reference`, or whose shown prefix starts with it (an operator types either). */
export async function findApiTokensByReference({ reference }: { reference: string }): Promise<ApiTokenRow[]> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(reference);
  return db()
    .select(rowColumns)
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.id, apiTokens.projectId))
    .where(isId ? eq(apiTokens.id, reference) : sql`starts_with(${apiTokens.prefix}, ${reference.replace(/…$/, "")})`)
    .limit(2);
}
