// Who may see and do what, in one place. Every query, action and page asks here rather than
// reading memberships or roles itself:
//   - admins may do everything;
//   - in a project: `viewer` sees, `member` also imports, builds and clones, `owner` also manages
//     members, visibility, shares and channels;
//   - outside its project an image is seen when it is `public`, or `shared` with a project of the
//     viewer's whose owner accepted the share; and then only its released versions are seen and
//     only some of those used (which release states those are is lib/governance/release.ts's
//     answer, as is who may take which release action).
// Detail reads hand pages the viewer's capabilities (`can`) from here. Functions returning SQL
// take the aliases their query uses for `images` and `image_versions`.
import { sql, type SQL } from "drizzle-orm";
import { HangarError } from "@/lib/errors";
import {
  availableActions,
  blockedStatuses,
  releasedStatuses,
  usableReleasedStatuses,
  type ReleaseAction,
  type ReleaseStanding,
} from "@/lib/governance/release";
import type { BuildStatus, ReleaseStatus } from "@/db/enums";
import type { ProjectRole, TokenScope } from "../schema";
import { releaseStatusIn } from "./release-sql";
import type { Viewer } from "./users";

export type ProjectCapability = "view" | "contribute" | "manage";

const rolesFor: Record<ProjectCapability, readonly ProjectRole[]> = {
  view: ["viewer", "member", "owner"],
  contribute: ["member", "owner"],
  manage: ["owner"],
};

/** `<column> in (the released statuses)`, for queries over versions. */
export function releasedCondition(statusColumn: SQL): SQL {
  return releaseStatusIn(statusColumn, releasedStatuses);
}

/** The viewer's role in a project, or null when they are not a member. */
export function projectRoleOf(viewer: Viewer, projectId: string): ProjectRole | null {
  return viewer.memberships.find((membership) => membership.projectId === projectId)?.role ?? null;
}

export function canInProject(viewer: Viewer | null, projectId: string, need: ProjectCapability): boolean {
  if (!viewer) return false;
  if (isAdmin(viewer)) return true;
  const role = projectRoleOf(viewer, projectId);
  return role !== null && rolesFor[need].includes(role);
}

/** Admins: accounts, sign-in locks, reviews, quotas, and everything in every project. */
export function isAdmin(viewer: Viewer | null): boolean {
  return viewer?.role === "admin";
}

/**
 * What the viewer may do in a project, for detail reads to hand to pages (which show a button or
 * a section only when the action behind it would be allowed): the answers requireInProject gives.
 * `view` is seeing it from inside (unreleased versions too), not seeing a public image.
 */
export type ProjectCapabilities = Record<ProjectCapability, boolean>;

export function projectCapabilities(viewer: Viewer, projectId: string): ProjectCapabilities {
  return {
    view: canInProject(viewer, projectId, "view"),
    contribute: canInProject(viewer, projectId, "contribute"),
    manage: canInProject(viewer, projectId, "manage"),
  };
}

/** A project's page: its own capabilities, and whether the viewer sets its storage quota (admins only). */
export function projectPageCapabilities(
  viewer: Viewer,
  projectId: string,
): ProjectCapabilities & { setQuota: boolean } {
  return { ...projectCapabilities(viewer, projectId), setQuota: isAdmin(viewer) };
}

/** A version's page: the project capabilities, and the release actions its state allows this viewer (none until it is ready). */
export function versionCapabilities(
  viewer: Viewer,
  version: { projectId: string; releaseStatus: ReleaseStatus; ready: boolean; producer: boolean },
): ProjectCapabilities & { release: ReleaseAction[] } {
  const release = version.ready
    ? availableActions(
        version.releaseStatus,
        releaseStandingOf(viewer, version.projectId, { producer: version.producer }),
      )
    : [];
  return { ...projectCapabilities(viewer, version.projectId), release };
}

/** Whoever started a build, an owner of its project and admins may cancel it. */
export function canCancelBuild(viewer: Viewer, build: { projectId: string; requestedById: string | null }): boolean {
  return build.requestedById === viewer.id || canInProject(viewer, build.projectId, "manage");
}

/** A file diff of two versions (seen by whoever sees both): whoever asked for it and admins may cancel it. */
/** An API token may be revoked by its owner, an owner of its project (a project token) and admins. */
export function canRevokeApiToken(viewer: Viewer, token: { userId: string; projectId: string | null }): boolean {
  return (
    token.userId === viewer.id ||
    isAdmin(viewer) ||
    (token.projectId !== null && canInProject(viewer, token.projectId, "manage"))
  );
}

/** A project token is made by someone who manages the project and is in it (the token acts as them there). */
export function canMakeProjectToken(viewer: Viewer, projectId: string): boolean {
  return canInProject(viewer, projectId, "manage") && projectRoleOf(viewer, projectId) !== null;
}

export function canCancelFileDiff(viewer: Viewer, diff: { requestedById: string | null }): boolean {
  return diff.requestedById === viewer.id || isAdmin(viewer);
}

/** A build's page: cancel while it runs, retry (a new build, so contributors) once it ended. */
export function buildCapabilities(
  viewer: Viewer,
  build: { projectId: string; requestedById: string | null; status: BuildStatus },
): { cancel: boolean; retry: boolean } {
  const active = build.status === "queued" || build.status === "running";
  return {
    cancel: active && canCancelBuild(viewer, build),
    retry: !active && canInProject(viewer, build.projectId, "contribute"),
  };
}

const whatTheyMay: Record<ProjectCapability, string> = {
  view: "members of the project",
  contribute: "members (not viewers) of the project and admins",
  manage: "owners of the project and admins",
};

/**
 * Throws unless the viewer may act with `need` in the project: `not_found` for people outside it
 * (they don't learn it exists), `forbidden` naming who may for members with too small a role.
 */
export function requireInProject(
  viewer: Viewer | null,
  projectId: string,
  need: ProjectCapability,
  action: string,
): void {
  if (!viewer) throw new HangarError("unauthenticated", "Sign in first.");
  if (canInProject(viewer, projectId, need)) return;
  if (projectRoleOf(viewer, projectId) === null)
    throw new HangarError("not_found", "That project doesn't exist or you are not a member of it.");
  throw new HangarError("forbidden", `Only ${whatTheyMay[need]} can ${action}. Nothing was changed.`);
}

/**
 * Throws unless the viewer may act with `need` on an image of a project: `not_found` when they
 * can't see the image at all (`visible`, from visibleImagesCondition), `forbidden` naming who may
 * when they see it (a public or shared image, or a viewer of its project) but may not do this.
 */
export function requireOnImage(
  viewer: Viewer | null,
  image: { projectId: string; visible: boolean } | null,
  need: ProjectCapability,
  action: string,
): void {
  if (viewer && image && canInProject(viewer, image.projectId, need)) return;
  throw imageRefusal(viewer, image, need, action);
}

/** The error requireOnImage throws, for callers that decided in SQL that the viewer may not act. */
export function imageRefusal(
  viewer: Viewer | null,
  image: { visible: boolean } | null,
  need: ProjectCapability,
  action: string,
): HangarError {
  if (!viewer) return new HangarError("unauthenticated", "Sign in first.");
  if (!image?.visible)
    return new HangarError("not_found", "That image doesn't exist or you can't see it. Nothing was changed.");
  return new HangarError("forbidden", `Only ${whatTheyMay[need]} can ${action}. Nothing was changed.`);
}

/** `select project_id …` of the projects where the viewer holds `need`. */
export function viewerProjectIds(viewer: Viewer, need: ProjectCapability = "view"): SQL {
  const roles = rolesFor[need];
  // A token's caller carries memberships already narrowed to the token (narrowViewerToToken); the
  // stored roles would give a project token or a capped role its owner's full rights back.
  if (viewer.token) {
    const ids = viewer.memberships
      .filter((membership) => roles.includes(membership.role))
      .map((membership) => sql`${membership.projectId}::uuid`);
    return ids.length
      ? sql`select project_id from (values ${sql.join(
          ids.map((id) => sql`(${id})`),
          sql`, `,
        )}) as token_projects(project_id)`
      : sql`select null::uuid as project_id where false`;
  }
  if (roles.length === 3) return sql`select project_id from project_members where user_id = ${viewer.id}`;
  return sql`select project_id from project_members where user_id = ${viewer.id} and role in (${sql.join(
    roles.map((role) => sql`${role}`),
    sql`, `,
  )})`;
}

/** Rows owned by a project (recipes, builds, clones): `column` is their project id column. */
export function projectScopedCondition(
  viewer: Viewer,
  column: SQL | { getSQL(): SQL },
  need: ProjectCapability = "view",
): SQL {
  if (isAdmin(viewer)) return sql`true`;
  return sql`${column} in (${viewerProjectIds(viewer, need)})`;
}

/** Projects whose accepted shares the viewer sees through: those they belong to. */
function acceptedShareCondition(viewer: Viewer, image: SQL): SQL {
  return sql`exists (select 1 from image_shares s where s.image_id = ${image}.id and s.status = 'accepted' and s.project_id in (${viewerProjectIds(viewer)}))`;
}

/** Images the viewer may see. */
export function visibleImagesCondition(viewer: Viewer, imageAlias = "i"): SQL {
  if (isAdmin(viewer)) return sql`true`;
  const image = sql.raw(imageAlias);
  return sql`(${image}.visibility = 'public' or ${image}.project_id in (${viewerProjectIds(viewer)}) or (${image}.visibility = 'shared' and ${acceptedShareCondition(viewer, image)}))`;
}

/**
 * Images of projects where the viewer holds `need`: `view` for those who also see unreleased
 * versions, `contribute` to edit metadata, `manage` for visibility and shares. Admins: all.
 */
export function imageInProjectCondition(viewer: Viewer, need: ProjectCapability, imageAlias = "images"): SQL {
  if (isAdmin(viewer)) return sql`true`;
  return sql`(${sql.raw(imageAlias)}.project_id in (${viewerProjectIds(viewer, need)}))`;
}

interface Aliases {
  image?: string;
  version?: string;
}

/** Versions the viewer may see: any in their projects, released ones of other images they see. */
export function visibleVersionCondition(
  viewer: Viewer,
  { image = "images", version = "image_versions" }: Aliases = {},
): SQL {
  if (isAdmin(viewer)) return sql`true`;
  const i = sql.raw(image);
  const v = sql.raw(version);
  return sql`(${i}.project_id in (${viewerProjectIds(viewer)}) or (${releasedCondition(sql`${v}.release_status`)} and ${visibleImagesCondition(viewer, image)}))`;
}

/**
 * Versions whose bytes the viewer may use (download, build on, clone): never blocked ones
 * (disabled, revoked; admins excepted); inside their project any other state, outside it the
 * usable released ones (approved, deprecated) in an image they see. Readiness is the caller's business.
 */
export function usableVersionCondition(
  viewer: Viewer,
  { image = "images", version = "image_versions" }: Aliases = {},
): SQL {
  if (isAdmin(viewer)) return sql`true`;
  const i = sql.raw(image);
  const v = sql.raw(version);
  return sql`(not ${releaseStatusIn(sql`${v}.release_status`, blockedStatuses)} and (${i}.project_id in (${viewerProjectIds(viewer)}) or (${releaseStatusIn(sql`${v}.release_status`, usableReleasedStatuses)} and ${visibleImagesCondition(viewer, image)})))`;
}

/** How the viewer stands to a version of a project, for the release rules (lib/governance/release.ts). */
export function releaseStandingOf(
  viewer: Viewer,
  projectId: string,
  { producer }: { producer: boolean },
): ReleaseStanding {
  const role = projectRoleOf(viewer, projectId);
  return { admin: isAdmin(viewer), owner: role === "owner", member: role === "member" || role === "owner", producer };
}

/** Images the viewer sees but may not change this way (a refusal naming how many, never which ones). */
export class AccessDenied extends HangarError {
  constructor(readonly imageIds: string[]) {
    super(
      "forbidden",
      imageIds.length > 1
        ? `You can't change ${imageIds.length} of the selected images: they don't exist, or you are not a member of their project. Nothing was changed.`
        : "You can't change that image: it doesn't exist, or you are not a member of its project with the needed role. Nothing was changed.",
    );
    this.name = "AccessDenied";
  }
}

/** Throws unless the viewer is an admin: for what only admins do (accounts, sign-in locks). */
export function requireAdmin(viewer: Viewer | null, action: string): void {
  if (!viewer) throw new HangarError("unauthenticated", "Sign in first.");
  if (!isAdmin(viewer)) throw new HangarError("forbidden", `Only admins can ${action}. Nothing was changed.`);
}

/**
 * The people who produced a version, as `select user_id …`; the four-eyes rule keeps each of them
 * from approving it. `version` is the alias of its image_versions row. Producers are whoever
 * uploaded, imported or cloned it (created_by_id) and, for a build's output, whoever started the
 * build and whoever wrote any part of the built recipe revision: the author of every revision of
 * the recipe up to and including it (each revision is the whole recipe edited from the one before,
 * so an earlier author's steps may still be in it) and whoever attached a file one of its upload
 * steps puts into the guest.
 */
export function versionProducerIds(version: string): SQL {
  const v = sql.raw(version);
  return sql`select producer.user_id from (
      select ${v}.created_by_id as user_id
      union select b.requested_by_id from builds b where b.id = ${v}.build_id
      union select earlier.created_by_id from recipe_revisions built
        join recipe_revisions earlier on earlier.recipe_id = built.recipe_id and earlier.revision <= built.revision
        where built.id = ${v}.recipe_revision_id
      union select f.uploaded_by_id from recipe_revisions built
        join recipes r on r.id = built.recipe_id
        join recipe_files f on f.project_id = r.project_id
        where built.id = ${v}.recipe_revision_id
          and f.sha256 in (select step->>'blobSha256' from jsonb_array_elements(built.document->'steps') step where step->>'type' = 'upload')
    ) producer where producer.user_id is not null`;
}

const roleRank: Record<ProjectRole, number> = { viewer: 0, member: 1, owner: 2 };

/**
 * What a caller with an API token may do: never more than the token's owner may do now. A `read`
 * token sees what its owner sees and changes nothing (every project role becomes viewer, no admin);
 * `write` acts as its owner in projects but not as an admin; `admin` is its owner in full. A project
 * token reaches only its project, at the lower of its role and its owner's current role there.
 */
export function narrowViewerToToken(
  owner: Viewer,
  token: { id: string; scope: TokenScope; projectId: string | null; projectRole: ProjectRole | null },
): Viewer {
  const capRole = (role: ProjectRole): ProjectRole => {
    let capped = role;
    if (token.projectRole && roleRank[token.projectRole] < roleRank[capped]) capped = token.projectRole;
    if (token.scope === "read") capped = "viewer";
    return capped;
  };
  const memberships = owner.memberships
    .filter((membership) => token.projectId === null || membership.projectId === token.projectId)
    .map((membership) => ({ ...membership, role: capRole(membership.role) }));
  return {
    ...owner,
    role: token.scope === "admin" && token.projectId === null ? owner.role : "member",
    memberships,
    token: { id: token.id, scope: token.scope, projectId: token.projectId },
  };
}

/** Whether a token's scope covers what a request needs (read < write < admin). */
export function tokenScopeCovers(scope: TokenScope, need: TokenScope): boolean {
  const rank: Record<TokenScope, number> = { read: 0, write: 1, admin: 2 };
  return rank[scope] >= rank[need];
}
