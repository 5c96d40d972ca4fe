// Projects and their members as actions; every rule (owners manage members, the last owner stays,
// admins set quotas) is enforced in db/queries/projects.ts.
import { z } from "zod";
import { cancelInvitation, createProject, removeMember, setMember, setQuota } from "@/db/queries/projects";
import { projectRoles } from "@/db/enums";
import { defineAction } from "./safe-action";

const projectId = z.string().uuid("Say which project.");

export const createProjectAction = defineAction(
  z.object({
    slug: z
      .string()
      .trim()
      .min(2, "A short name has at least 2 characters.")
      .max(40, "A short name is at most 40 characters.")
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "Use lowercase letters, digits and -, like platform-team."),
    name: z.string().trim().min(1, "Give the project a name.").max(80, "A name is at most 80 characters."),
    description: z.string().max(2000).optional(),
  }),
  async (input, viewer) => createProject({ viewer, values: input }),
);

export const setMemberAction = defineAction(
  z.object({ projectId, email: z.string().trim().email("Enter the person's email address."), role: z.enum(projectRoles, { message: "The role is viewer, member or owner." }) }),
  async (input, viewer) => setMember({ viewer, ...input }),
);

export const cancelInvitationAction = defineAction(z.object({ projectId, email: z.string().trim().email("Say which invitation.") }), async (input, viewer) => cancelInvitation({ viewer, ...input }));

export const removeMemberAction = defineAction(z.object({ projectId, userId: z.string().uuid("Say who to remove.") }), async (input, viewer) => removeMember({ viewer, ...input }));

export const setQuotaAction = defineAction(
  z.object({ projectId, quotaGiB: z.coerce.number({ message: "The quota is a number of GiB." }).min(0, "A quota can't be negative.").max(1024 * 1024, "That quota is larger than 1 PiB.") }),
  async (input, viewer) => setQuota({ viewer, projectId: input.projectId, quotaBytes: Math.round(input.quotaGiB * 1024 ** 3) }),
);
