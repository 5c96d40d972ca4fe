import { env } from "@/lib/env";
import { tokenExpiryDayChoices } from "@/lib/validations/tokens";

/** What the create form offers for expiry: the usual choices plus this server's default, and whether "never" is allowed. */
export function tokenExpiryChoices() {
  const defaultDays = env().HANGAR_TOKEN_DEFAULT_DAYS;
  return {
    expiryDays: [...new Set([...tokenExpiryDayChoices, defaultDays])].sort((a, b) => a - b),
    defaultDays,
    allowNoExpiry: env().HANGAR_TOKEN_ALLOW_NO_EXPIRY,
    earliestDate: new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 10),
  };
}
