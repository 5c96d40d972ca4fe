import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";
import { oidcEmailOf } from "./oidc-provider";

test("an owner creates a project, adds a person by email, and can't remove the last owner", async ({ page, browser }) => {
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

  await page.getByLabel("Add a person by email").fill("nobody@example.org");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText("need to sign in to Hangar once");

  await page.getByLabel("Add a person by email").fill(oidcEmailOf(login));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const members = page.getByRole("table", { name: "Members" });
  await expect(members).toContainText(oidcEmailOf(login));

  await page.getByRole("button", { name: "Remove admin@hangar.local" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "last owner" })).toBeVisible();
  await expect(members).toContainText("admin@hangar.local");

  const results = await new AxeBuilder({ page }).analyze();
  expect(results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical").map((violation) => violation.id)).toEqual([]);

  // The teammate now sees the project.
  const teammate = other.pages()[0]!;
  await teammate.goto("/projects");
  await expect(teammate.getByRole("link", { name })).toBeVisible();
  await other.close();
});
