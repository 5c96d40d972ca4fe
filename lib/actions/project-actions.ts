// Projects and their members as actions; every rule (owners manage members, the last owner stays,
// admins set quotas) is enforced in db/queries/projects.ts.
import { cancelInvitation, createProject, removeMember, setMember, setQuota } from "@/db/queries/projects";
import {
  cancelInvitationSchema,
  createProjectSchema,
  removeMemberSchema,
  setMemberSchema,
  setQuotaSchema,
} from "@/lib/validations/projects";
import { defineAction } from "./safe-action";

export const createProjectAction = defineAction(createProjectSchema, async (input, viewer) =>
  createProject({ viewer, values: input }),
);

export const setMemberAction = defineAction(setMemberSchema, async (input, viewer) => setMember({ viewer, ...input }));

export const cancelInvitationAction = defineAction(cancelInvitationSchema, async (input, viewer) =>
  cancelInvitation({ viewer, ...input }),
);

export const removeMemberAction = defineAction(removeMemberSchema, async (input, viewer) =>
  removeMember({ viewer, ...input }),
);

export const setQuotaAction = defineAction(setQuotaSchema, async (input, viewer) =>
  setQuota({ viewer, projectId: input.projectId, quotaBytes: Math.round(input.quotaGiB * 1024 ** 3) }),
);
