import { z } from "zod";
import { userRoles } from "@/db/enums";

// The same floor as HANGAR_ADMIN_PASSWORD; the ceiling keeps argon2's input bounded.
export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 1024;

export const newPasswordSchema = z
  .string()
  .min(PASSWORD_MIN_LENGTH, `A password has at least ${PASSWORD_MIN_LENGTH} characters.`)
  .max(PASSWORD_MAX_LENGTH, `A password has at most ${PASSWORD_MAX_LENGTH} characters.`);

export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .email("Enter an email address such as alice@example.org.")
  .max(254, "An email address is at most 254 characters.");

export const inviteUserSchema = z.object({
  email: emailSchema,
  name: z.string().trim().max(120, "A name is at most 120 characters.").optional(),
  role: z.enum(userRoles, { message: "The role is admin or member." }).default("member"),
});

/** Two entries of the new password, so a typo doesn't lock the person out. */
export const passwordPairSchema = z
  .object({ password: newPasswordSchema, confirm: z.string().max(PASSWORD_MAX_LENGTH) })
  .refine((input) => input.password === input.confirm, {
    message: "The two passwords are not the same; type the new password twice.",
    path: ["confirm"],
  });

export const userIdSchema = z.string().uuid("Say which account.");

export const setUserRoleSchema = z.object({
  userId: userIdSchema,
  role: z.enum(userRoles, { message: "The role is admin or member." }),
});

export const setUserDisabledSchema = z.object({ userId: userIdSchema, disabled: z.boolean() });

export const resetUserPasswordSchema = z.object({ userId: userIdSchema });

export const changeOwnPasswordSchema = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password.").max(PASSWORD_MAX_LENGTH),
    password: newPasswordSchema,
    confirm: z.string().max(PASSWORD_MAX_LENGTH),
  })
  .refine((input) => input.password === input.confirm, {
    message: "The two new passwords are not the same; type the new password twice.",
    path: ["confirm"],
  });

export const setPasswordWithLinkSchema = z.intersection(
  z.object({ token: z.string().min(16, "This set-password link is not complete.").max(200) }),
  passwordPairSchema,
);
