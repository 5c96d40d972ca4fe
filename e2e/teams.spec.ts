import AxeBuilder from "@axe-core/playwright";
import { expect, test, type Page } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

async function createProject(page: Page, name: string): Promise<{ name: string; slug: string }> {
  await page.goto("/projects");
  await page.getByLabel("Project name").fill(name);
  const slug = await page.getByLabel("Short name").inputValue();
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1, name })).toBeVisible();
  return { name, slug };
}

async function expectNoSeriousAxeViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  expect(
    results.violations
      .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
      .map((violation) => violation.id),
  ).toEqual([]);
}

test("a team owner clones a base into the team, another team can't see it until it is shared and accepted, then makes a full copy of it", async ({
  page,
  browser,
}) => {
  test.setTimeout(300_000);
  const ownerA = await (await browser.newContext()).newPage();
  const ownerB = await (await browser.newContext()).newPage();
  await signInWithOidc(ownerA, uniqueName("owner-a"));
  await signInWithOidc(ownerB, uniqueName("owner-b"));
  const teamA = await createProject(ownerA, uniqueName("Team A"));
  const teamB = await createProject(ownerB, uniqueName("Team B"));
  const cloneSlug = uniqueName("debian-clone");

  // Team A's owner clones the approved base: a linked clone is made at once.
  await ownerA.goto("/images/debian-12-base/versions/12.7.0");
  const form = ownerA.getByRole("form", { name: "Clone debian-12-base 12.7.0" });
  await form.getByLabel("Into project").selectOption({ label: teamA.name });
  await form.getByRole("textbox", { name: "Short name" }).fill(cloneSlug);
  await form.getByRole("textbox", { name: "Version" }).fill("1.0");
  await expectNoSeriousAxeViolations(ownerA);
  await form.getByRole("button", { name: "Clone now" }).click();
  await expect(ownerA).toHaveURL(new RegExp(`/images/${cloneSlug}/versions/1\\.0$`));
  await expect(ownerA.getByText("Linked clone of")).toBeVisible();
  await expect(ownerA.getByRole("link", { name: "debian-12-base 12.7.0" }).first()).toBeVisible();
  await expect(ownerA.getByText("This is a linked clone")).toBeVisible();
  await ownerA.screenshot({ path: "test-results/teams-linked-clone.png", fullPage: true });

  // Team B can't see it.
  const hidden = await ownerB.goto(`/images/${cloneSlug}`);
  expect(hidden?.status()).toBe(404);

  // Only approved versions leave their project: submit it, an admin approves it.
  await ownerA.getByLabel("Change").selectOption({ label: "Submit for review → pending review" });
  await ownerA.getByRole("button", { name: "Submit for review" }).click();
  await expect(ownerA.getByText("Done: the version is pending review now.")).toBeVisible();
  await expect(ownerA.getByText("You produced this version, so another admin has to approve it.")).toBeVisible();
  await signInWithPassword(page);
  await page.goto("/reviews");
  await page.getByRole("button", { name: `Approve ${cloneSlug} 1.0` }).click();
  await expect(page.getByRole("list", { name: "Your recent decisions" })).toContainText(`${cloneSlug} 1.0 approved`);

  // Team A's owner shares the image with team B; until B's owner accepts, B still can't see it.
  await ownerA.goto(`/images/${cloneSlug}`);
  await ownerA.getByLabel("Share with project (short name)").fill("no-such-project");
  await ownerA.getByRole("button", { name: "Share", exact: true }).click();
  await expect(ownerA.getByRole("alert")).toContainText("There is no project called no-such-project");
  await ownerA.getByLabel("Share with project (short name)").fill(teamB.slug);
  await ownerA.getByRole("button", { name: "Share", exact: true }).click();
  await expect(ownerA.getByRole("list", { name: "Shared with" })).toContainText("waiting for its owners");
  expect((await ownerB.goto(`/images/${cloneSlug}`))?.status()).toBe(404);

  await ownerB.goto(`/projects/${teamB.slug}`);
  const shared = ownerB.getByRole("region", { name: "Shared with this project" });
  await expect(shared).toContainText("waiting for an owner to accept");
  await expectNoSeriousAxeViolations(ownerB);
  await shared.getByRole("button", { name: /^Accept / }).click();
  await expect(shared.getByRole("link")).toBeVisible();
  await shared.getByRole("link").click();
  await expect(ownerB.getByRole("heading", { level: 1 })).toBeVisible();
  await expect(ownerB).toHaveURL(new RegExp(`/images/${cloneSlug}$`));

  // Team B makes a full, independent copy of the shared version, with progress on its project page.
  await ownerB.goto(`/images/${cloneSlug}/versions/1.0`);
  const copy = ownerB.getByRole("form", { name: `Clone ${cloneSlug} 1.0` });
  await copy.getByRole("textbox", { name: "Short name" }).fill(`${cloneSlug}-full`);
  await copy.getByText("Full", { exact: true }).click();
  await copy.getByRole("button", { name: "Queue the clone" }).click();
  const list = ownerB.getByRole("list", { name: "Clones" });
  await expect(list).toContainText("full copy");
  await expect(list.getByText("done")).toBeVisible({ timeout: 120_000 });
  await list.getByRole("link", { name: `${cloneSlug}-full 1.0` }).click();
  await expect(ownerB.getByText("Cloned from")).toBeVisible();
  await expect(ownerB.getByRole("link", { name: /^Download qcow2/ })).toBeVisible();
  await ownerB.screenshot({ path: "test-results/teams-full-clone.png", fullPage: true });

  await ownerB.goto(`/projects/${teamB.slug}`);
  await expect(ownerB.getByRole("list", { name: "Clones" })).toContainText(`${cloneSlug} 1.0 → ${cloneSlug}-full 1.0`);
  await ownerB.screenshot({ path: "test-results/teams-project.png", fullPage: true });
});
