// Accounts as actions: the admin page's (invite, roles, disable, reset) and everyone's own
// password. Who may and the last-admin rule are enforced in db/queries/accounts.ts, which
// `npm run admin` uses too.
import {
  changeOwnPassword,
  inviteUser,
  resetUserPassword,
  setUserDisabled,
  setUserRole,
  usePasswordLink,
} from "@/db/queries/accounts";
import { setPasswordUrl } from "@/lib/auth/links";
import { hashPassword, verifyPassword } from "@/lib/auth/password";
import { env } from "@/lib/env";
import {
  changeOwnPasswordSchema,
  inviteUserSchema,
  resetUserPasswordSchema,
  setPasswordWithLinkSchema,
  setUserDisabledSchema,
  setUserRoleSchema,
} from "@/lib/validations/accounts";
import { definePublicAction, defineAction } from "./safe-action";

/** The link is returned once, to the admin who asked, to pass on; only its hash is kept. */
export const inviteUserAction = defineAction(inviteUserSchema, async (input, viewer) => {
  const issued = await inviteUser({
    actor: { kind: "viewer", viewer },
    ...input,
    lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS,
  });
  return {
    userId: issued.userId,
    email: issued.email,
    link: issued.token ? setPasswordUrl(issued.token) : null,
    expiresAt: issued.expiresAt?.toISOString() ?? null,
  };
});

export const setUserRoleAction = defineAction(setUserRoleSchema, async (input, viewer) =>
  setUserRole({ actor: { kind: "viewer", viewer }, target: { userId: input.userId }, role: input.role }),
);

export const setUserDisabledAction = defineAction(setUserDisabledSchema, async (input, viewer) =>
  setUserDisabled({ actor: { kind: "viewer", viewer }, target: { userId: input.userId }, disabled: input.disabled }),
);

export const resetUserPasswordAction = defineAction(resetUserPasswordSchema, async (input, viewer) => {
  const issued = await resetUserPassword({
    actor: { kind: "viewer", viewer },
    target: { userId: input.userId },
    lifetimeHours: env().HANGAR_PASSWORD_LINK_HOURS,
  });
  return {
    userId: issued.userId,
    email: issued.email,
    link: setPasswordUrl(issued.token),
    expiresAt: issued.expiresAt.toISOString(),
  };
});

export const changeOwnPasswordAction = defineAction(changeOwnPasswordSchema, async (input, viewer) => {
  await changeOwnPassword({
    viewer,
    verifyCurrent: (stored) => verifyPassword(stored, input.currentPassword),
    newPasswordHash: await hashPassword(input.password),
  });
  return { changed: true };
});

/** Called signed out: the link's token is the authority, checked (and burnt) in usePasswordLink. */
export const setPasswordWithLinkAction = definePublicAction(setPasswordWithLinkSchema, async (input) =>
  usePasswordLink({ token: input.token, passwordHash: await hashPassword(input.password) }),
);
