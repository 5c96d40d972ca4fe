import { z } from "zod";
import { tokenScopes } from "@/db/enums";

/** Expiry choices a form offers besides a date; the days themselves are checked by parseTokenExpiry. */
export const tokenExpiryDayChoices = [30, 90, 365] as const;

export const createApiTokenSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Name the token after where it is used, such as “CI deploy”.")
    .max(100, "Keep the name under 100 characters."),
  scope: z.enum(tokenScopes, { message: "Choose what the token may do: read or write." }),
  /** A project's slug for a project token; absent or null for a personal one. */
  project: z.string().trim().min(1).nullable().default(null),
  /** A number of days, `never`, or the date (YYYY-MM-DD) the token stops working. */
  expires: z
    .string()
    .trim()
    .regex(/^(\d{1,4}|never|\d{4}-\d{2}-\d{2})$/, "Choose when the token expires: a number of days or a date.")
    .optional(),
});

export const revokeApiTokenSchema = z.object({ id: z.string().uuid("Say which token.") });

export const listApiTokensSchema = z.object({
  /** A project's slug: that project's tokens; null: the caller's personal tokens. */
  project: z.string().trim().min(1).nullable().default(null),
});

export const listAllApiTokensSchema = z.object({});
