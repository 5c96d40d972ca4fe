import { expect, type Page } from "@playwright/test";
import { ADMIN_EMAIL, ADMIN_PASSWORD } from "./env";

export async function signInWithPassword(page: Page, { email = ADMIN_EMAIL, password = ADMIN_PASSWORD } = {}) {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(
    page.getByRole("searchbox", { name: "Search images" }).or(page.getByLabel("Search images")),
  ).toBeVisible();
}

// Goes through the loopback provider's real login and consent screens.
export async function signInWithOidc(page: Page, login: string) {
  await page.goto("/sign-in");
  await page.getByRole("button", { name: "Sign in with Test SSO" }).click();
  await page.locator('input[name="login"]').fill(login);
  await page.locator('input[name="password"]').fill("any-password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
  await expect(page.getByLabel("Search images")).toBeVisible();
}

export const uniqueName = (prefix: string) => `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

/** On /import: makes a new image through the "New image…" form and waits until it is selected. */
export async function createImageOnImportPage(page: Page, name: string) {
  await page.getByRole("button", { name: "New image…" }).click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Short name").fill(name);
  await page.getByLabel("Operating system").fill("Linux");
  await page.getByRole("button", { name: "Create image" }).click();
  await expect(page).toHaveURL(new RegExp(`image=${name}`));
}
