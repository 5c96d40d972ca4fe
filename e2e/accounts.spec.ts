import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { APP_ORIGIN } from "./env";
import { signInWithPassword, uniqueName } from "./helpers";

test("an admin invites a person, who sets a password from the link and signs in; once disabled, their session stops", async ({
  page,
  browser,
}) => {
  test.setTimeout(180_000);
  const email = `${uniqueName("invited")}@example.org`;
  const password = "invited person password 1";

  await signInWithPassword(page);
  await page.getByRole("link", { name: "Users" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Users" })).toBeVisible();
  const invite = page.getByRole("region", { name: "Invite a person" });
  await invite.getByLabel("Email").fill(email);
  await invite.getByLabel("Name (optional)").fill("Invited Person");
  await invite.getByRole("button", { name: "Invite" }).click();
  const linkBox = page.getByLabel(`Set-password link for ${email}`);
  await expect(linkBox).toBeVisible();
  const link = await linkBox.inputValue();
  // Built from the one configured origin (the suite's AUTH_URL is http://127.0.0.1:PORT).
  expect(link.startsWith(`${APP_ORIGIN}/set-password/`)).toBe(true);

  const accounts = page.getByRole("table", { name: "Accounts" });
  await expect(
    accounts.getByRole("row", { name: new RegExp(email) }).getByText("invited", { exact: true }),
  ).toBeVisible();
  await page.screenshot({ path: "test-results/admin-users.png", fullPage: true });
  const axe = await new AxeBuilder({ page }).analyze();
  expect(
    axe.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => violation.id),
  ).toEqual([]);

  // The invited person, in a browser of their own.
  const person = await (await browser.newContext()).newPage();
  await person.goto(link);
  await expect(person.getByText(email)).toBeVisible();
  await person.getByLabel("New password", { exact: true }).fill(password);
  await person.getByLabel("New password again").fill(password);
  await person.getByRole("button", { name: "Set password" }).click();
  await expect(person).toHaveURL(/\/sign-in\?notice=password-set/);
  await expect(person.getByRole("status")).toContainText("Your password is set");
  await signInWithPassword(person, { email, password });
  await expect(person.getByRole("link", { name: "Users" })).toHaveCount(0);

  // The link worked once.
  await person.goto(link);
  await expect(person.getByRole("alert")).toContainText(/already used.*ask an admin for a new link/i);

  // The admin sees the sign-in, then disables the account; the person's next request is signed out.
  await page.reload();
  const row = accounts.getByRole("row", { name: new RegExp(email) });
  await expect(row.getByText("active", { exact: true })).toBeVisible();
  await expect(row.getByText("never", { exact: true })).toHaveCount(0);
  await row.getByRole("button", { name: `Disable ${email}` }).click();
  await expect(page.getByRole("status").filter({ hasText: `${email} is disabled` })).toBeVisible();
  await expect(row.getByText("disabled", { exact: true })).toBeVisible();
  await person.goto("/");
  await expect(person).toHaveURL(/\/sign-in/);

  // Nor can they sign in again.
  await person.getByLabel("Email").fill(email);
  await person.getByLabel("Password").fill(password);
  await person.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(person.getByRole("alert")).toBeVisible();
  await expect(person).toHaveURL(/\/sign-in/);
});

test("the account page is reached from the user menu and refuses a wrong current password", async ({ page }) => {
  test.setTimeout(120_000);
  await signInWithPassword(page);
  await page.getByRole("button", { name: /account menu/i }).click();
  await page.getByRole("link", { name: "Account settings" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Your account" })).toBeVisible();
  await page.getByLabel("Current password").fill("not the admin password");
  await page.getByLabel("New password", { exact: true }).fill("a brand new password");
  await page.getByLabel("New password again").fill("a brand new password");
  await page.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByRole("alert")).toContainText("not right");
});
