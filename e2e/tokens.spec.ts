import AxeBuilder from "@axe-core/playwright";
import { expect, test, type APIRequestContext, type Page } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";
import { oidcEmailOf } from "./oidc-provider";

// A public demo image, and a shared one only its project (data-science) and admins see.
const PUBLIC_CHANNEL = "/api/v1/images/debian-12-base/channels/latest";
const PROJECT_ONLY_CHANNEL = "/api/v1/images/ci-runner/channels/latest";

// Both tests wait on a server kept busy by the demo catalog's pipeline, hence their longer timeouts.
const bearer = (secret: string) => ({ headers: { Authorization: `Bearer ${secret}` } });

async function createToken(page: Page, { name, scope, expires }: { name: string; scope: RegExp; expires?: string }) {
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByRole("radio", { name: scope }).check();
  if (expires) await page.getByLabel("Expires").selectOption({ label: expires });
  await page.getByRole("button", { name: "Create token" }).click();
  await expect(page.getByRole("status").filter({ hasText: `Token “${name}” created.` })).toBeVisible();
  await expect(page.getByText("you won’t see it again")).toBeVisible();
  const secret = await page.getByLabel("New token secret").inputValue();
  expect(secret).toMatch(/^hgr_[A-Za-z0-9_-]{43}$/);
  return secret;
}

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page }).analyze();
  return results.violations
    .filter((violation) => violation.impact === "serious" || violation.impact === "critical")
    .map((violation) => violation.id);
}

async function status(request: APIRequestContext, path: string, secret: string) {
  return (await request.get(path, bearer(secret))).status();
}

test("a person creates a token, sees it once, uses it, and revokes it", async ({ page, request }) => {
  test.setTimeout(180_000);
  await signInWithPassword(page);
  await page.getByRole("button", { name: /Account menu/ }).click();
  await page.getByRole("link", { name: "Access tokens" }).click();
  await expect(page.getByRole("heading", { level: 1, name: "Access tokens" })).toBeVisible();

  const name = uniqueName("deploy");
  const secret = await createToken(page, { name, scope: /^write/, expires: "In 30 days" });
  await expect(page.getByText(`Authorization: Bearer ${secret}`)).toBeVisible();
  expect(await seriousViolations(page)).toEqual([]);

  const used = await request.get(PUBLIC_CHANNEL, bearer(secret));
  expect(used.status()).toBe(200);
  expect((await used.json()).version.version).toBeTruthy();

  // Gone after a reload: the list shows the prefix and the use, never the secret.
  await page.reload();
  await expect(page.getByLabel("New token secret")).toHaveCount(0);
  await expect(page.getByText(secret)).toHaveCount(0);
  const row = page.getByRole("table", { name: "Your tokens" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText(secret.slice(0, 12));
  await expect(row).toContainText("write");
  await expect(row).toContainText("active");
  await expect(row).toContainText(/from \S+/);
  expect(await page.content()).not.toContain(secret);

  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: `Revoke ${name} (${secret.slice(0, 12)}…)` }).click();
  await expect(page.getByRole("status").filter({ hasText: `Token “${name}” revoked.` })).toBeVisible();
  await expect(row).toContainText("revoked");
  await expect(row.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);

  const refused = await request.get(PUBLIC_CHANNEL, bearer(secret));
  expect(refused.status()).toBe(401);
  expect((await refused.json()).error.message).toMatch(/was revoked/);
});

test("a project owner makes a token limited to the project; members see it, an admin revokes it", async ({
  page,
  browser,
  request,
}) => {
  test.setTimeout(180_000);
  const login = uniqueName("tokenmate");
  const teammateContext = await browser.newContext();
  const teammate = await teammateContext.newPage();
  await signInWithOidc(teammate, login);

  await signInWithPassword(page);
  await page.goto("/projects");
  const projectName = uniqueName("Tokens");
  await page.getByLabel("Project name").fill(projectName);
  await page.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("heading", { level: 1, name: projectName })).toBeVisible({ timeout: 90_000 });
  const projectUrl = page.url();
  await page.getByLabel("Add a person by email").fill(oidcEmailOf(login));
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await expect(page.getByRole("table", { name: "Members" })).toContainText(oidcEmailOf(login));

  await page.getByRole("main").getByRole("link", { name: "Tokens", exact: true }).click();
  await expect(page.getByRole("heading", { level: 1, name: `Tokens of ${projectName}` })).toBeVisible();
  await expect(page.getByRole("radio", { name: /^admin/ })).toHaveCount(0);
  const name = uniqueName("ci");
  const secret = await createToken(page, { name, scope: /^read: as a viewer/ });
  expect(await seriousViolations(page)).toEqual([]);

  // The same admin's admin-scoped personal token sees data-science's image; the project token doesn't.
  await page.goto("/settings/tokens");
  const adminSecret = await createToken(page, { name: uniqueName("ops"), scope: /^admin/ });
  expect(await status(request, PROJECT_ONLY_CHANNEL, adminSecret)).toBe(200);
  expect(await status(request, PROJECT_ONLY_CHANNEL, secret)).toBe(404);
  expect(await status(request, PUBLIC_CHANNEL, secret)).toBe(200);

  // A member sees the project's tokens, but neither the form nor a revoke button.
  await teammate.goto(`${projectUrl}/tokens`);
  const listed = teammate.getByRole("table", { name: "Project tokens" }).getByRole("row").filter({ hasText: name });
  await expect(listed).toContainText("admin@hangar.local");
  await expect(listed).toContainText("read (as viewer)");
  await expect(teammate.getByRole("button", { name: "Create token" })).toHaveCount(0);
  await expect(teammate.getByRole("button", { name: /^Revoke/ })).toHaveCount(0);
  await teammateContext.close();

  // Admins see every token and revoke any.
  await page.goto("/admin/tokens");
  const row = page.getByRole("table", { name: "All tokens" }).getByRole("row").filter({ hasText: name });
  await expect(row).toContainText(/tokens-\S+ \(viewer\)/);
  page.once("dialog", (dialog) => dialog.accept());
  await row.getByRole("button", { name: /^Revoke/ }).click();
  await expect(row).toContainText("revoked");
  expect(await status(request, PUBLIC_CHANNEL, secret)).toBe(401);
});
