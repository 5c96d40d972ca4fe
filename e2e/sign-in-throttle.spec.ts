import { expect, test } from "@playwright/test";
import { uniqueName } from "./helpers";

// An email with no account: it is throttled exactly like a real one (so a lock reveals nothing),
// and no other spec's account is locked by this one.
test("after repeated wrong passwords the sign-in page says when to try again", async ({ page }) => {
  const email = `${uniqueName("guesser")}@hangar.local`;
  await page.goto("/sign-in");
  for (let attempt = 1; attempt <= 6; attempt += 1) {
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password").fill(`guess-${attempt}`);
    const answered = page.waitForResponse(
      (response) => response.request().method() === "POST" && new URL(response.url()).pathname === "/sign-in",
    );
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await answered;
    await expect(page.getByRole("alert")).toContainText(
      attempt < 5
        ? "Wrong email or password."
        : /Too many failed sign-ins for this account\. Try again in \d+ seconds?, or ask an admin to unlock it\./,
    );
  }
});
