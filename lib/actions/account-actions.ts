// Accounts as actions: the admin page's (invite, roles, disable, reset) and everyone's own
// password. Who may and the last-admin rule are enforced in db/queries/accounts.ts, which
// `npm run admin` uses too.
import { z } from "zod";
import { changeOwnPassword, inviteUser, resetUserPassword, setUserDisabled, setUserRole, usePasswordLink } from "@/db/queries/accounts";
import { setPasswordUrl } from "@/lib/auth/links";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { env } from "@/lib/env";
import { inviteSchema, newPasswordSchema, passwordPairSchema, PASSWORD_MAX_LENGTH } from "@/lib/validations/accounts";
import { definePublicAction, defineAction } from "./safe-action";

const userId = z.string().uuid("Say which account.");

/** The link is returned once, to the admin who asked, to pass on; only its hash is kept. */
export const inviteUserAction = defineAction(inviteSchema, async (input, viewer) => {
  const issued = await inviteUser({ actor: { kind: "viewer", viewer }, ...input, lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS });
  return { userId: issued.userId, email: issued.email, link: issued.token ? setPasswordUrl(issued.token) : null, expiresAt: issued.expiresAt?.toISOString() ?? null };
});

export const setUserRoleAction = defineAction(z.object({ userId, role: z.enum(["admin", "member"], { message: "The role is admin or member." }) }), async (input, viewer) =>
  setUserRole({ actor: { kind: "viewer", viewer }, target: { userId: input.userId }, role: input.role }),
);

export const setUserDisabledAction = defineAction(z.object({ userId, disabled: z.boolean() }), async (input, viewer) =>
  setUserDisabled({ actor: { kind: "viewer", viewer }, target: { userId: input.userId }, disabled: input.disabled }),
);

export const resetUserPasswordAction = defineAction(z.object({ userId }), async (input, viewer) => {
  const issued = await resetUserPassword({ actor: { kind: "viewer", viewer }, target: { userId: input.userId }, lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS });
  return { userId: issued.userId, email: issued.email, link: setPasswordUrl(issued.token), expiresAt: issued.expiresAt.toISOString() };
});

export const changeOwnPasswordAction = defineAction(
  z
    .object({ currentPassword: z.string().min(1, "Enter your current password.").max(PASSWORD_MAX_LENGTH), password: newPasswordSchema, confirm: z.string().max(PASSWORD_MAX_LENGTH) })
    .refine((input) => input.password === input.confirm, { message: "The two new passwords are not the same; type the new password twice.", path: ["confirm"] }),
  async (input, viewer) => {
    await changeOwnPassword({ viewer, verifyCurrent: (stored) => verifyPassword(stored, input.currentPassword), newPasswordHash: await hashPassword(input.password) });
    return { changed: true };
  },
);

/** Called signed out: the link's token is the authority, checked (and burnt) in usePasswordLink. */
export const setPasswordWithLinkAction = definePublicAction(
  z.intersection(z.object({ token: z.string().min(16, "This set-password link is not complete.").max(200) }), passwordPairSchema),
  async (input) => usePasswordLink({ token: input.token, passwordHash: await hashPassword(input.password) }),
);
