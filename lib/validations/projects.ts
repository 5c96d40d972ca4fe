import { z } from "zod";
import { projectRoles } from "@/db/enums";

const projectId = z.string().uuid("Say which project.");

export const createProjectSchema = z.object({
  slug: z
    .string()
    .trim()
    .min(2, "A short name has at least 2 characters.")
    .max(40, "A short name is at most 40 characters.")
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, "Use lowercase letters, digits and -, like platform-team."),
  name: z.string().trim().min(1, "Give the project a name.").max(80, "A name is at most 80 characters."),
  description: z.string().max(2000).optional(),
});

export const setMemberSchema = z.object({
  projectId,
  email: z.string().trim().email("Enter the person's email address."),
  role: z.enum(projectRoles, { message: "The role is viewer, member or owner." }),
});

export const cancelInvitationSchema = z.object({ projectId, email: z.string().trim().email("Say which invitation.") });

export const removeMemberSchema = z.object({ projectId, userId: z.string().uuid("Say who to remove.") });

export const setQuotaSchema = z.object({
  projectId,
  quotaGiB: z.coerce
    .number({ message: "The quota is a number of GiB." })
    .min(0, "A quota can't be negative.")
    .max(1024 * 1024, "That quota is larger than 1 PiB."),
});
