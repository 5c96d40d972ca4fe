import { expect, test, type Browser, type Page } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";
import { oidcEmailOf } from "./oidc-provider";

// A member of data-science builds on debian-12-base 12.7.0 into their team's image and an admin
// approves it; the admin then builds a new debian-12-base, which only another admin may approve.
// Once it is, latest moves and the member's version is out of date; one click rebuilds it.
async function createRecipeFromYaml(page: Page, yaml: string) {
  await page.goto("/recipes/new");
  await page.getByText("YAML: export or import").click();
  await page.getByLabel("Paste YAML to replace the form").fill(yaml);
  await page.getByRole("button", { name: "Load YAML" }).click();
  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved as revision 1." })).toBeVisible();
}

async function buildToSuccess(page: Page): Promise<string> {
  await page.getByRole("button", { name: /^Build revision \d+$/ }).click();
  await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("status", { name: "Build status: succeeded" })).toBeVisible({ timeout: 300_000 });
  const output = page.getByRole("link", { name: /build-\d+$/ });
  return (await output.textContent())!.trim();
}

async function approveAsSecondAdmin(browser: Browser, label: string) {
  const context = await browser.newContext();
  const reviewer = await context.newPage();
  await signInWithOidc(reviewer, "reviewer");
  await approve(reviewer, label);
  await context.close();
}

async function approve(reviewer: Page, label: string) {
  await reviewer.goto("/reviews");
  const item = reviewer.getByRole("listitem", { name: label });
  await expect(item).toContainText("build #");
  await expect(item).toContainText("debian-12-base 12.7.0");
  await item.getByRole("button", { name: `Approve ${label}` }).click();
  // The item leaves the queue and shows among the reviewer's recent decisions.
  await expect(reviewer.getByRole("list", { name: "Your recent decisions" })).toContainText(`${label} approved`);
  await expect(reviewer.getByRole("listitem", { name: label })).toHaveCount(0);
}

test("a member's build is approved by an admin, four-eyes holds for the admin's own build, latest moves, and the out-of-date version is rebuilt from the banner", async ({
  page,
  browser,
}) => {
  test.setTimeout(900_000);
  const tag = uniqueName("gov");
  const builderLogin = uniqueName("builder");
  const builderContext = await browser.newContext();
  const builder = await builderContext.newPage();
  await signInWithOidc(builder, builderLogin);

  // The admin adds the builder to the data-science team.
  await signInWithPassword(page);
  await page.goto("/projects/data-science");
  await page.getByLabel("Add a person by email").fill(oidcEmailOf(builderLogin));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("table", { name: "Members" })).toContainText(oidcEmailOf(builderLogin));

  await createRecipeFromYaml(
    builder,
    `name: app-${tag}\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: write\n    path: /etc/app-${tag}\n    content: app\noutput:\n  image: jupyter-workstation\n  format: qcow2\n`,
  );
  const app = await buildToSuccess(builder); // "jupyter-workstation build-N"
  await approve(page, app);

  await createRecipeFromYaml(
    page,
    `name: base-${tag}\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: write\n    path: /etc/base-${tag}\n    content: base\noutput:\n  image: debian-12-base\n  format: qcow2\n`,
  );
  const base = await buildToSuccess(page); // "debian-12-base build-M"
  // The admin produced it, so they may not approve it themselves (four-eyes).
  await page.goto("/reviews");
  const own = page.getByRole("listitem", { name: base });
  await expect(own.getByRole("button", { name: `Approve ${base}` })).toBeDisabled();
  await expect(own).toContainText("another admin has to approve it");
  await approveAsSecondAdmin(browser, base);

  // latest moved to the new base version.
  const newBase = base.replace("debian-12-base ", "");
  await page.goto("/images/debian-12-base");
  await expect(page.getByRole("list", { name: "Channels" })).toContainText(`latest → ${newBase}`);

  // The app version is now out of date; the lineage graph shows it under 12.7.0.
  const appVersion = app.replace("jupyter-workstation ", "");
  await page.goto(`/images/jupyter-workstation/versions/${appVersion}`);
  await expect(page.getByRole("status").filter({ hasText: "Out of date" })).toContainText(`debian-12-base ${newBase}`);
  await expect(page.getByRole("list", { name: "Ancestry" })).toContainText("debian-12-base 12.7.0");
  await page.goto("/images/debian-12-base/versions/12.7.0");
  await expect(page.getByRole("list", { name: "Descendants" })).toContainText(`${app} (out of date)`);
  const graph = page.getByTestId("lineage-graph");
  await expect(graph.getByText(app)).toBeVisible();
  await graph.screenshot({ path: test.info().outputPath("lineage-graph.png") });
  await test
    .info()
    .attach("lineage graph", { path: test.info().outputPath("lineage-graph.png"), contentType: "image/png" });

  // The member rebuilds from the banner with one click; it goes to review again.
  await builder.goto(`/images/jupyter-workstation/versions/${appVersion}`);
  await expect(builder.getByRole("status").filter({ hasText: "Out of date" })).toBeVisible();
  await builder.getByRole("button", { name: "Rebuild on the new base" }).click();
  await expect(builder).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  await expect(builder.getByText(`on debian-12-base ${newBase}`)).toBeVisible();
  await expect(builder.getByRole("status", { name: "Build status: succeeded" })).toBeVisible({ timeout: 300_000 });
  await expect(builder.getByText("pending review")).toBeVisible();
  await builderContext.close();
});
