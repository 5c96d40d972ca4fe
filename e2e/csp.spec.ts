// Every page keeps working under the Content-Security-Policy (per-request nonces, no inline
// scripts): the spec walks the app as a person does, with the interactive parts that load or run
// scripts (search, tag autocomplete, the lineage graph, a resumable upload, the recipe editor, a
// build's live log), and fails on any CSP violation the browser reports. It also replays a real
// server action without an Origin header, from a foreign origin, and from our own.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { expect, test, type Page, type Response } from "@playwright/test";
import { buildTinyGuest } from "../lib/images/tiny-guest";
import { APP_ORIGIN } from "./env";
import { createImageOnImportPage, signInWithPassword, uniqueName } from "./helpers";

const violations: string[] = [];

test.beforeEach(async ({ context }) => {
  violations.length = 0;
  // Bindings and init scripts come through the DevTools protocol, which the page's CSP doesn't govern.
  await context.exposeBinding("reportCspViolation", (_source, line: string) => void violations.push(line));
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (event) => {
      (window as unknown as { reportCspViolation(line: string): void }).reportCspViolation(
        `${event.violatedDirective} blocked ${event.blockedURI || "inline"} on ${location.pathname} (${event.sourceFile}:${event.lineNumber})`,
      );
    });
  });
  context.on("console", (message) => {
    if (message.type() === "error" && /Content[- ]Security[- ]Policy/i.test(message.text()))
      violations.push(`console: ${message.text()}`);
  });
});

const nonces = new Set<string>();

function expectPolicy(response: Response | null) {
  expect(response, "the page answered").not.toBeNull();
  const policy = response!.headers()["content-security-policy"] ?? "";
  expect(policy).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9+/=]+' 'strict-dynamic'/);
  expect(policy).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  for (const directive of ["object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "form-action 'self'"])
    expect(policy).toContain(directive);
  const nonce = /'nonce-([^']+)'/.exec(policy)![1]!;
  expect(nonces.has(nonce), "a nonce is never reused").toBe(false);
  nonces.add(nonce);
}

async function visit(page: Page, pathname: string) {
  const response = await page.goto(pathname);
  expectPolicy(response);
  // Hydrated: the client bundle ran (a blocked script leaves the server HTML without handlers).
  await page.waitForLoadState("networkidle");
  return response;
}

test("every page works under the Content-Security-Policy, with no violation", async ({ page }) => {
  test.setTimeout(300_000);
  await visit(page, "/sign-in");
  await signInWithPassword(page);

  // Catalog: searching goes through the client router.
  await visit(page, "/");
  await page.getByLabel("Search images").fill("debian");
  await page.getByLabel("Search images").press("Enter");
  await expect(page).toHaveURL(/q=debian/);
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toBeVisible();

  // Import: a new image, and a resumable upload of a tiny guest through tus.
  const name = uniqueName("csp");
  await visit(page, "/import");
  await createImageOnImportPage(page, name);
  const guest = await buildTinyGuest({
    dir: await mkdtemp(path.join(os.tmpdir(), "hangar-e2e-csp-")),
    name,
    sizeMiB: 8,
    formats: ["raw"],
  });
  await page.getByLabel("Disk image file").setInputFiles(guest.raw);
  await page.getByLabel("Version", { exact: true }).fill("1.0.0");
  await page.getByRole("button", { name: "Start upload" }).click();
  await expect(page.getByRole("status").filter({ hasText: /Upload complete/ })).toBeVisible({ timeout: 60_000 });

  // Image page: tag autocomplete fetches /api/tags; adding a tag is a server action.
  await visit(page, `/images/${name}`);
  const tagInput = page.getByRole("combobox", { name: "Add a tag" });
  await tagInput.fill("lt");
  await expect(page.getByRole("listbox", { name: "Existing tags" }).getByRole("option").first()).toBeVisible();
  await tagInput.fill(`csp-${name}`);
  await tagInput.press("Enter");
  await expect(page.getByRole("list", { name: `Tags of ${name}` })).toContainText(`csp-${name}`);

  // Version page with the lineage graph (React Flow).
  await visit(page, "/images/debian-12-base/versions/12.7.0");
  await expect(page.getByTestId("lineage-graph").locator(".react-flow__node").first()).toBeVisible();

  // Recipe editor, then a build page with its live log (cancelled at once: the build itself is
  // covered by recipes.spec.ts).
  await visit(page, "/recipes/new?base=debian-12-base&version=12.7.0");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Add a step").selectOption({ label: "Write a file" });
  await page.getByRole("button", { name: "Add step" }).click();
  await page.getByLabel("Path in the guest").fill("/etc/motd");
  await page.getByLabel("Content").fill(`${name}\n`);
  await expect(page.getByLabel("Command preview")).toContainText("--write '/etc/motd:");
  await page.getByRole("button", { name: "Create recipe" }).click();
  await expect(page.getByRole("status").filter({ hasText: "Saved as revision 1." })).toBeVisible();
  await page.getByRole("button", { name: "Build revision 1" }).click();
  await expect(page).toHaveURL(/\/builds\/[0-9a-f-]{36}$/);
  expectPolicy(await page.reload());
  await expect(page.getByRole("log", { name: "Build log" })).not.toBeEmpty({ timeout: 120_000 });
  const cancel = page.getByRole("button", { name: "Cancel build" });
  if (await cancel.isVisible()) await cancel.click();

  // The project page renders its storage bars with style attributes (style-src-attr).
  for (const pathname of ["/reviews", "/projects", "/projects/data-science", "/admin/audit", "/recipes"]) {
    await visit(page, pathname);
    await expect(page.getByRole("heading", { level: 1 })).toBeVisible();
  }
  for (const pathname of [`/images/${uniqueName("missing")}`, `/${uniqueName("nowhere")}`]) {
    const missing = await page.goto(pathname);
    expect(missing?.status()).toBe(404);
    expectPolicy(missing);
    await expect(page.locator("main")).toBeVisible();
  }

  expect(violations).toEqual([]);
});

test("a server action without an Origin, or from another origin, is refused; from Hangar's own it works", async ({
  page,
}) => {
  await signInWithPassword(page);
  await visit(page, "/images/debian-12-base");
  // Capture the tag editor's real server action call, then replay it.
  const tag = uniqueName("origin");
  const [request] = await Promise.all([
    page.waitForRequest(
      (candidate) => candidate.method() === "POST" && candidate.headers()["next-action"] !== undefined,
    ),
    (async () => {
      await page.getByRole("combobox", { name: "Add a tag" }).fill(tag);
      await page.getByRole("combobox", { name: "Add a tag" }).press("Enter");
    })(),
  ]);
  await expect(page.getByRole("list", { name: /^Tags of / })).toContainText(tag);
  const headers = Object.fromEntries(
    Object.entries(request.headers()).filter(
      ([name]) => !["origin", "referer", "cookie", "content-length"].includes(name),
    ),
  );
  const replay = (extra: Record<string, string>) =>
    page.request.post(request.url(), {
      headers: { ...headers, ...extra },
      data: request.postData() ?? "",
      failOnStatusCode: false,
    });

  const withoutOrigin = await replay({});
  expect(withoutOrigin.status()).toBe(403);
  expect(await withoutOrigin.text()).toMatch(/carries no Origin header/);
  const foreign = await replay({ Origin: "https://attacker.example" });
  expect(foreign.status()).toBe(403);
  expect(await foreign.text()).toMatch(/not from this Hangar/);
  const own = await replay({ Origin: APP_ORIGIN });
  expect(own.status()).toBe(200);
  expect(violations).toEqual([]);
});
