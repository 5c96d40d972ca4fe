import { describe, expect, it } from "vitest";
import { authErrorMessage } from "@/components/auth/auth-error-message";
import { throttledCode, throttledMessage } from "./sign-in-messages";

describe("throttled sign-in messages", () => {
  it("say whose limit it is and when to retry, in seconds or whole minutes rounded up", () => {
    expect(throttledMessage(throttledCode("account", 1))).toBe(
      "Too many failed sign-ins for this account. Try again in 1 second, or ask an admin to unlock it.",
    );
    expect(throttledMessage(throttledCode("account", 240))).toBe(
      "Too many failed sign-ins for this account. Try again in 4 minutes, or ask an admin to unlock it.",
    );
    expect(throttledMessage(throttledCode("address", 61))).toBe(
      "Too many failed sign-ins from your network address. Try again in 2 minutes.",
    );
  });

  it("reach the sign-in page through Auth.js's ?error=CredentialsSignin&code=, and anything else stays a wrong password", () => {
    expect(authErrorMessage("CredentialsSignin", "too_many_attempts:account:30")).toBe(
      "Too many failed sign-ins for this account. Try again in 30 seconds, or ask an admin to unlock it.",
    );
    expect(authErrorMessage("CredentialsSignin", "invalid_credentials")).toBe("Wrong email or password.");
    expect(authErrorMessage("CredentialsSignin", "too_many_attempts:account:<b>")).toBe("Wrong email or password.");
  });
});
