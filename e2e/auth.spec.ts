import { expect, test } from "@playwright/test";
import { oidcEmailOf } from "./oidc-provider";
import { signInWithOidc, signInWithPassword, uniqueName } from "./helpers";
import { ADMIN_EMAIL } from "./env";

test("signed-out visitors are sent to sign-in and come back where they were going", async ({ page }) => {
  await page.goto("/images/debian-12-base");
  await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
  await expect(page.getByRole("heading", { name: /sign in/i })).toBeVisible();
});

test("a wrong password is refused with a clear message", async ({ page }) => {
  await page.goto("/sign-in");
  await page.getByLabel("Email").fill(ADMIN_EMAIL);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert")).toContainText(/wrong email or password/i);
});

test("the admin signs in with a password, sees admin navigation, and signs out", async ({ page }) => {
  await signInWithPassword(page);
  await expect(page.getByRole("link", { name: "Reviews" })).toBeVisible();
  await page.getByRole("button", { name: /admin@hangar\.local|account|user menu/i }).click();
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page).toHaveURL(/\/sign-in/);
  await page.goto("/");
  await expect(page).toHaveURL(/\/sign-in/);
});

test("a member signs in through OpenID Connect, is created on first sign-in, and may not see admin pages", async ({
  page,
}) => {
  const login = uniqueName("oidc-member");
  await signInWithOidc(page, login);
  await expect(page.getByRole("link", { name: "Reviews" })).toHaveCount(0);
  await page
    .getByRole("button", { name: new RegExp(oidcEmailOf(login).replace(".", "\\.") + "|account|user menu", "i") })
    .click();
  await expect(page.getByText(oidcEmailOf(login))).toBeVisible();
  await page.goto("/reviews");
  await expect(page.getByRole("heading", { name: /may not see this|not allowed|forbidden/i })).toBeVisible();
});
