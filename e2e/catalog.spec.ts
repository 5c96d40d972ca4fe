import { expect, test } from "@playwright/test";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";

test("search and filters live in the URL, so a filtered view can be shared", async ({ page, browser }) => {
  await signInWithPassword(page);
  await page.getByLabel("Search images").fill("debian");
  await page.getByLabel("Search images").press("Enter");
  await expect(page).toHaveURL(/q=debian/);
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Alpine 3.20 (arm64)" })).toHaveCount(0);

  await page.getByLabel("Architecture").selectOption("x86_64");
  await expect(page).toHaveURL(/arch=x86_64/);
  await page.getByLabel("Format").selectOption("qcow2");
  await expect(page).toHaveURL(/format=qcow2/);
  const shared = page.url();

  const context = await browser.newContext();
  const other = await context.newPage();
  await signInWithPassword(other);
  await other.goto(shared);
  await expect(other.getByLabel("Search images")).toHaveValue("debian");
  await expect(other.getByLabel("Format")).toHaveValue("qcow2");
  await expect(other.getByRole("link", { name: "Debian 12 base" })).toBeVisible();
  await expect(other.getByRole("link", { name: "Ubuntu 24.04 LTS server" })).toHaveCount(0);
  await context.close();
});

test("a search with no match says what to do next, and bad URL parameters are explained", async ({ page }) => {
  await signInWithPassword(page);
  await page.goto(`/?q=${uniqueName("nothing")}`);
  await expect(page.getByText(/no images match/i)).toBeVisible();
  await page.goto("/?arch=sparc&sort=sideways");
  await expect(page.getByText(/architecture is one of/i)).toBeVisible();
  await expect(page.getByRole("link", { name: /reset filters/i })).toBeVisible();
});

test("pressing / focuses the search box", async ({ page }) => {
  await signInWithPassword(page);
  await page.locator("body").click({ position: { x: 5, y: 300 } });
  await page.keyboard.press("/");
  await expect(page.getByLabel("Search images")).toBeFocused();
});

test("bulk tagging adds and removes a tag on several images", async ({ page }) => {
  const tag = uniqueName("bulk");
  await signInWithPassword(page);
  await page.getByLabel("Select Debian 12 base").check();
  await page.getByLabel("Select Ubuntu 24.04 LTS server").check();
  await page.getByLabel("Tag for selected images").fill(tag);
  await page.getByRole("button", { name: "Add tag" }).click();
  await expect(page.getByRole("status").filter({ hasText: /2 images?/ })).toBeVisible();
  await page.goto(`/?tag=${tag}`);
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toBeVisible();
  await expect(page.getByRole("link", { name: "Ubuntu 24.04 LTS server" })).toBeVisible();

  await page.getByLabel("Select Debian 12 base").check();
  await page.getByLabel("Tag for selected images").fill(tag);
  await page.getByRole("button", { name: "Remove tag" }).click();
  await expect(page.getByRole("status").filter({ hasText: /1 image/ })).toBeVisible();
  await page.goto(`/?tag=${tag}`);
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toHaveCount(0);
  await expect(page.getByRole("link", { name: "Ubuntu 24.04 LTS server" })).toBeVisible();
});

test("a member cannot tag images of a project they are not in, and sees why", async ({ page }) => {
  await signInWithOidc(page, uniqueName("outsider"));
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toBeVisible();
  await expect(page.getByRole("link", { name: "CI runner" })).toHaveCount(0);
  await page.getByLabel("Select Debian 12 base").check();
  await page.getByLabel("Tag for selected images").fill("hijack");
  await page.getByRole("button", { name: "Add tag" }).click();
  await expect(page.getByRole("alert")).toContainText(/can't change/i);
  await page.goto("/?tag=hijack");
  await expect(page.getByRole("link", { name: "Debian 12 base" })).toHaveCount(0);
});
