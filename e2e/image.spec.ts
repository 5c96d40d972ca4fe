import AxeBuilder from "@axe-core/playwright";
import { expect, test } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

test("an image page shows facts, versions and rendered markdown", async ({ page }) => {
  await signInWithPassword(page);
  await page.getByRole("link", { name: "Debian 12 base" }).click();
  await expect(page).toHaveURL(/\/images\/debian-12-base$/);
  await expect(page.getByRole("heading", { level: 1, name: "Debian 12 base" })).toBeVisible();
  await expect(page.locator("strong", { hasText: "Debian 12 (bookworm)" })).toBeVisible();
  const versions = page.getByRole("table", { name: /versions/i });
  // The three seeded versions (other specs may have built more into this image).
  for (const version of ["12.7.0", "12.6.0", "12.5.0"])
    await expect(versions.getByRole("link", { name: version, exact: true })).toBeVisible();
  await expect(versions).toContainText("qcow2");
});

test("a tag is added with autocomplete and removed on the image page", async ({ page }) => {
  const tag = uniqueName("tag");
  await signInWithPassword(page);
  await page.goto("/images/ubuntu-24-04-server");
  await page.getByLabel("Add a tag").fill("cloud");
  await expect(page.getByRole("option", { name: "cloud-init" })).toBeVisible();
  await page.getByLabel("Add a tag").fill(tag);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("button", { name: `Remove tag ${tag}` })).toBeVisible();
  await page.reload();
  await expect(page.getByRole("button", { name: `Remove tag ${tag}` })).toBeVisible();
  await page.getByRole("button", { name: `Remove tag ${tag}` }).click();
  await expect(page.getByRole("button", { name: `Remove tag ${tag}` })).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("button", { name: `Remove tag ${tag}` })).toHaveCount(0);
});

test("an action that gets no answer says so in words and keeps the page", async ({ page, context }) => {
  const tag = uniqueName("offline");
  await signInWithPassword(page);
  await page.goto("/images/ubuntu-24-04-server");
  await context.setOffline(true);
  await page.getByLabel("Add a tag").fill(tag);
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: /did not answer/ })).toBeVisible();
  await expect(page.getByRole("heading", { level: 1, name: /Ubuntu 24\.04/ })).toBeVisible();
  await context.setOffline(false);
  await page.reload();
  await expect(page.getByRole("button", { name: `Remove tag ${tag}` })).toHaveCount(0);
});

test("a member sees an image they don't own read-only", async ({ page }) => {
  await signInWithOidc(page, uniqueName("reader"));
  await page.goto("/images/debian-12-base");
  await expect(page.getByRole("heading", { level: 1, name: "Debian 12 base" })).toBeVisible();
  await expect(page.getByLabel("Add a tag")).toHaveCount(0);
  await expect(page.getByRole("button", { name: /remove tag/i })).toHaveCount(0);
  await page.goto("/images/ci-runner");
  await expect(page.getByText(/doesn't exist|can't see it/i)).toBeVisible();
});

test("unknown image slugs show a not-found page", async ({ page }) => {
  await signInWithPassword(page);
  const response = await page.goto(`/images/${uniqueName("missing")}`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole("link", { name: /catalog/i }).first()).toBeVisible();
});

for (const [name, path] of [
  ["catalog", "/"],
  ["versions view", "/?view=versions"],
  ["image page", "/images/debian-12-base"],
  ["version page", "/images/debian-12-base/versions/12.7.0"],
  ["import page", "/import?image=debian-12-base"],
] as const) {
  for (const colorScheme of ["light", "dark"] as const) {
    test(`the ${name} has no serious accessibility violations (${colorScheme})`, async ({ page }) => {
      await page.emulateMedia({ colorScheme });
      await signInWithPassword(page);
      await page.goto(path);
      const results = await new AxeBuilder({ page }).analyze();
      const serious = results.violations.filter(
        (violation) => violation.impact === "serious" || violation.impact === "critical",
      );
      expect(
        serious.map(
          (violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(" ")).join(", ")}`,
        ),
      ).toEqual([]);
    });
  }
}
