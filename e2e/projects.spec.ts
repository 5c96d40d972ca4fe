import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";
import { oidcEmailOf } from "./oidc-provider";

test("an owner creates a project, adds a person by email, and can't remove the last owner", async ({
  page,
  browser,
}) => {
  const login = uniqueName("teammate");
  // The teammate signs in once, so their account exists.
  const other = await browser.newContext();
  await signInWithOidc(await other.newPage(), login);

  await signInWithPassword(page);
  await page.goto("/projects");
  const name = uniqueName("Team");
  await page.getByLabel("Project name").fill(name);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();

  // Someone without an account yet is invited; the invitation can be withdrawn.
  await page.getByLabel("Add a person by email").fill("nobody@example.org");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("list", { name: "Invitations" })).toContainText("nobody@example.org invited as member");
  await page.getByRole("button", { name: "Cancel the invitation of nobody@example.org" }).click();
  await expect(page.getByRole("list", { name: "Invitations" })).toHaveCount(0);

  // An invited person who signs in for the first time is a member at once.
  const invitee = uniqueName("invitee");
  await page.getByLabel("Add a person by email").fill(oidcEmailOf(invitee));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("status").filter({ hasText: "they join when they first sign in" })).toBeVisible();
  const invited = await browser.newContext();
  const invitedPage = await invited.newPage();
  await signInWithOidc(invitedPage, invitee);
  await invitedPage.goto("/projects");
  await expect(invitedPage.getByRole("link", { name })).toBeVisible();
  await invited.close();
  await page.reload();
  await expect(page.getByRole("table", { name: "Members" })).toContainText(oidcEmailOf(invitee));

  await page.getByLabel("Add a person by email").fill(oidcEmailOf(login));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const members = page.getByRole("table", { name: "Members" });
  await expect(members).toContainText(oidcEmailOf(login));

  await page.getByRole("button", { name: "Remove admin@hangar.local" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "last owner" })).toBeVisible();
  await expect(members).toContainText("admin@hangar.local");

  const results = await new AxeBuilder({ page }).analyze();
  expect(
    results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => violation.id),
  ).toEqual([]);

  // The teammate now sees the project.
  const teammate = other.pages()[0]!;
  await teammate.goto("/projects");
  await expect(teammate.getByRole("link", { name })).toBeVisible();
  await other.close();
});
