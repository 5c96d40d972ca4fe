import { expect, test, type Browser, type Page } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

// Two builds on debian-12-base 12.7.0: one into another image, one into debian-12-base itself. Once
// the second is approved, latest moves and the first is out of date; one click rebuilds it.
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

async function approve(browser: Browser, label: string) {
  const context = await browser.newContext();
  const reviewer = await context.newPage();
  await signInWithOidc(reviewer, "reviewer");
  await reviewer.goto("/reviews");
  const item = reviewer.getByRole("listitem", { name: label });
  await expect(item).toContainText("build #");
  await expect(item).toContainText("debian-12-base 12.7.0");
  await item.getByRole("button", { name: `Approve ${label}` }).click();
  await expect(reviewer.getByRole("status").filter({ hasText: `${label} approved.` })).toBeVisible();
  await context.close();
}

test("a build is approved by another admin, latest moves, a descendant turns out of date and is rebuilt from the banner", async ({ page, browser }) => {
  test.setTimeout(900_000);
  const tag = uniqueName("gov");
  await signInWithPassword(page);

  await createRecipeFromYaml(
    page,
    `name: app-${tag}\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: write\n    path: /etc/app-${tag}\n    content: app\noutput:\n  image: jupyter-workstation\n  format: qcow2\n`,
  );
  const app = await buildToSuccess(page); // "jupyter-workstation build-N"

  // The producer may not approve their own build.
  await page.goto("/reviews");
  const own = page.getByRole("listitem", { name: app });
  await expect(own.getByRole("button", { name: `Approve ${app}` })).toBeDisabled();
  await expect(own).toContainText("another admin has to approve it");
  await approve(browser, app);

  await createRecipeFromYaml(
    page,
    `name: base-${tag}\nbase:\n  image: debian-12-base\n  version: 12.7.0\nsteps:\n  - type: write\n    path: /etc/base-${tag}\n    content: base\noutput:\n  image: debian-12-base\n  format: qcow2\n`,
  );
  const base = await buildToSuccess(page); // "debian-12-base build-M"
  await approve(browser, base);

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
  await test.info().attach("lineage graph", { path: test.info().outputPath("lineage-graph.png"), contentType: "image/png" });

  // One click rebuilds the same recipe on the new base, and it goes to review again.
  await page.goto(`/images/jupyter-workstation/versions/${appVersion}`);
  await page.getByRole("button", { name: "Rebuild on the new base" }).click();
  await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  await expect(page.getByText(`on debian-12-base ${newBase}`)).toBeVisible();
  await expect(page.getByRole("status", { name: "Build status: succeeded" })).toBeVisible({ timeout: 300_000 });
  await expect(page.getByText("pending review")).toBeVisible();
});
